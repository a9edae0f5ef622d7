//! `max_by` and `min_by` (src/engine/max_by.rs) against DataFusion's own
//! `first_value(... ORDER BY ...)`, an independent implementation of the same choice.

use crate::common::{engine_in, generate, ingest, rows};

/// The same question asked both ways, over every thread of a generated lake: the latest
/// message (ties broken by the greatest id) and the earliest, a struct value, and the
/// latest customer message (a filter: a thread's latest message is often the brand's).
fn pairs() -> [(&'static str, &'static str); 4] {
    [
        (
            "max_by(text, row(created_at, conversation_id))",
            "first_value(text ORDER BY created_at DESC, conversation_id DESC)",
        ),
        (
            "arg_min(author_id, row(created_at, conversation_id))",
            "first_value(author_id ORDER BY created_at, conversation_id)",
        ),
        (
            "max_by(named_struct('a', author_id, 's', cx_sentiment), \
                    row(likes + shares, conversation_id))['s']",
            "first_value(cx_sentiment ORDER BY likes + shares DESC, conversation_id DESC)",
        ),
        (
            "max_by(conversation_id, row(created_at, conversation_id)) \
               FILTER (WHERE NOT is_brand)",
            "first_value(conversation_id ORDER BY created_at DESC, conversation_id DESC) \
               FILTER (WHERE NOT is_brand)",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn max_by_and_min_by_choose_the_row_first_value_chooses() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "g.ndjson", 20_000, 5, Default::default());
    let engine = engine_in(&dir.path().join("lake")).await;
    ingest(&engine, &[file]).await;
    // Small batches: a group's best row is replaced across batches and partitions.
    for setting in ["batch_size = 700", "target_partitions = 3"] {
        engine
            .context()
            .sql(&format!("SET datafusion.execution.{setting}"))
            .await
            .unwrap();
    }
    // The second pass skips the partial aggregation (each row becomes a state of its own).
    for skip_partial in [false, true] {
        if skip_partial {
            for setting in [
                "skip_partial_aggregation_probe_rows_threshold = 1",
                "skip_partial_aggregation_probe_ratio_threshold = 0.0",
            ] {
                engine
                    .context()
                    .sql(&format!("SET datafusion.execution.{setting}"))
                    .await
                    .unwrap();
            }
        }
        for (ours, reference) in pairs() {
            let sql = |f: &str| {
                format!(
                    "SELECT thread_id, {f} FROM conversations GROUP BY thread_id ORDER BY thread_id"
                )
            };
            let expected = rows(&engine, &sql(reference)).await;
            assert!(expected.len() > 3000, "{} threads", expected.len());
            assert_eq!(
                rows(&engine, &sql(ours)).await,
                expected,
                "{ours} (skip partial: {skip_partial})"
            );
            // Without groups.
            let whole = |f: &str| format!("SELECT {f} FROM conversations");
            assert_eq!(
                rows(&engine, &whole(ours)).await,
                rows(&engine, &whole(reference)).await,
                "{ours}"
            );
        }
    }
    // As a window over each thread, beside the window function first_value.
    let window = "SELECT conversation_id, {} FROM conversations ORDER BY conversation_id";
    assert_eq!(
        rows(
            &engine,
            &window.replace(
                "{}",
                "max_by(text, row(created_at, conversation_id)) OVER (PARTITION BY thread_id)"
            )
        )
        .await,
        rows(
            &engine,
            &window.replace(
                "{}",
                "first_value(text) OVER (PARTITION BY thread_id \
                   ORDER BY created_at DESC, conversation_id DESC \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
            )
        )
        .await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_with_a_null_key_or_value_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(&dir.path().join("lake")).await;
    let table = "(VALUES (1, 'a', 1), (1, 'b', NULL), (1, NULL, 9), (2, NULL, 1), (2, 'c', NULL), \
                 (3, 'x', 5), (3, 'y', 5)) t(g, v, k)";
    let ours = rows(
        &engine,
        &format!("SELECT g, max_by(v, k), min_by(v, k) FROM {table} GROUP BY g ORDER BY g"),
    )
    .await;
    let reference = rows(
        &engine,
        &format!(
            "SELECT g, first_value(v ORDER BY k DESC) FILTER (WHERE v IS NOT NULL AND k IS NOT NULL), \
                    first_value(v ORDER BY k) FILTER (WHERE v IS NOT NULL AND k IS NOT NULL) \
             FROM {table} GROUP BY g ORDER BY g"
        ),
    )
    .await;
    // Group 3 ties: either of its rows is a right answer; the others must be exact.
    assert_eq!(ours[..2], reference[..2]);
    assert_eq!(ours[1], ["2", "", ""]);
    assert!(["x", "y"].contains(&ours[2][1].as_str()), "{ours:?}");
    // A call without its key is a plan error, not a panic.
    let err = engine
        .sql("SELECT max_by(v) FROM (VALUES (1)) t(v)")
        .await
        .err();
    assert!(err.is_some_and(|e| e.to_string().contains("max_by")));
}
