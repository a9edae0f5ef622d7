//! The conversation model is a contract: names and types exact, strings plain Utf8.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, TimeUnit};

use crate::common::*;

#[tokio::test]
async fn conversations_has_the_documented_columns_and_types() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let schema = engine
        .sql("SELECT * FROM conversations")
        .await
        .unwrap()
        .schema()
        .as_arrow()
        .clone();
    let list = DataType::new_list(DataType::Utf8, true);
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let expected: Vec<(&str, DataType, bool)> = vec![
        ("conversation_id", DataType::Utf8, false),
        ("thread_id", DataType::Utf8, false),
        ("parent_id", DataType::Utf8, true),
        ("parent_author_id", DataType::Utf8, true),
        ("channel", DataType::Utf8, false),
        ("brand", DataType::Utf8, false),
        ("author_id", DataType::Utf8, false),
        ("author_followers", DataType::Int64, true),
        ("is_brand", DataType::Boolean, false),
        ("created_at", ts, false),
        ("text", DataType::Utf8, false),
        ("lang", DataType::Utf8, true),
        ("likes", DataType::Int64, false),
        ("shares", DataType::Int64, false),
        ("replies", DataType::Int64, false),
        ("mentions", list.clone(), false),
        ("hashtags", list.clone(), false),
        ("rating", DataType::Int32, true),
        ("sentiment", DataType::Float64, true),
        ("cx_sentiment", DataType::Float64, true),
        ("stage", DataType::Utf8, true),
        ("stages", list, true),
        ("date", DataType::Date32, false),
        ("ingest_id", DataType::Utf8, false),
    ];
    let actual: Vec<(&str, DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn results_carry_plain_utf8_not_utf8view() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate(
        dir.path(),
        "in.ndjson",
        200,
        1,
        socialcx::generator::OutputLayout::Ndjson,
    );
    ingest(&engine, &[file]).await;
    let batches = query(
        &engine,
        "SELECT text, channel, upper(brand) AS b, CAST(author_id AS VARCHAR) AS a, 'lit' AS l FROM conversations",
    )
    .await;
    for field in batches[0].schema().fields() {
        assert_eq!(
            field.data_type(),
            &DataType::Utf8,
            "{} should be Utf8",
            field.name()
        );
    }
}

#[tokio::test]
async fn tables_are_listed_in_information_schema() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let tables = pairs(
        &engine,
        "SELECT table_name, count(*) FROM information_schema.tables \
         WHERE table_catalog = 'socialcx' AND table_schema = 'public' GROUP BY 1 ORDER BY 1",
    )
    .await;
    let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
    let expected = [
        "alerts",
        "conversations",
        "job_runs",
        "quarantine",
        "routing",
    ];
    assert_eq!(names, expected);
    assert_eq!(engine.table_names(), expected);
}

#[tokio::test]
async fn an_order_by_survives_the_casts_to_plain_utf8_over_several_partitions() {
    // The lake's strings are scanned as Utf8View and cast to Utf8 for the results; the
    // casts must not undo the order (a projection above a merge of sorted partitions).
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate(
        dir.path(),
        "in.ndjson",
        5_000,
        3,
        socialcx::generator::OutputLayout::Ndjson,
    );
    ingest(&engine, &[file]).await;
    for setting in ["batch_size = 300", "target_partitions = 3"] {
        query(&engine, &format!("SET datafusion.execution.{setting}")).await;
    }
    for sql in [
        "SELECT thread_id, count(*) AS n FROM conversations GROUP BY thread_id ORDER BY thread_id",
        "SELECT author_id, thread_id FROM conversations ORDER BY author_id, thread_id",
        "SELECT author_id FROM conversations ORDER BY author_id LIMIT 4000",
    ] {
        let batches = query(&engine, sql).await;
        let mut got = Vec::new();
        for b in &batches {
            assert_eq!(b.schema().field(0).data_type(), &DataType::Utf8, "{sql}");
            let keys = b.column(0).as_string::<i32>();
            got.extend(keys.iter().map(|k| k.unwrap().to_string()));
        }
        assert!(got.len() > 1000, "{sql}: {} rows", got.len());
        let mut sorted = got.clone();
        sorted.sort();
        assert!(got == sorted, "{sql}: the rows are not in order");
    }
}
