//! Shipped reports: headers, binding, planning, and answers consistent with plain SQL.
//! (Checking each report against DuckDB on the same Parquet is the next step of issue 8.)

use socialcx::generator::OutputLayout;
use socialcx::reports::{self, ParamType, Report};

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_report_parses_plans_and_runs_with_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = common::generate(dir.path(), "g.ndjson", 6_000, 3, OutputLayout::Ndjson);
    common::ingest(&engine, &[file]).await;
    let shipped = reports::shipped();
    assert!(shipped.len() >= 2);
    for report in &shipped {
        assert!(
            !report.title.is_empty() && !report.description.is_empty(),
            "{}",
            report.name
        );
        let batches = report
            .plan(&engine, &[])
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert!(
            rows > 0,
            "report {} returned nothing on generated data",
            report.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_agrees_with_plain_counts_and_its_filters() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = common::generate(dir.path(), "g.ndjson", 8_000, 4, OutputLayout::Ndjson);
    common::ingest(&engine, &[file]).await;
    let baseline = reports::find("baseline").unwrap();
    let window = [
        ("from".to_string(), "2026-01-10".to_string()),
        ("to".to_string(), "2026-02-10T00:00:00Z".to_string()),
    ];
    let sql = baseline.bind(&window).unwrap();
    engine
        .sql(&format!("CREATE VIEW b AS {sql}"))
        .await
        .unwrap();
    let total = common::scalar(&engine, "SELECT sum(customer_posts) FROM b").await;
    let plain = common::scalar(
        &engine,
        "SELECT count(*) FROM conversations WHERE NOT is_brand \
         AND created_at >= '2026-01-10T00:00:00Z' AND created_at < '2026-02-10T00:00:00Z'",
    )
    .await;
    assert_eq!(total, plain);
    // Share of voice sums to 1 in every channel x stage x day.
    let off = common::scalar(
        &engine,
        "SELECT count(*) FROM (SELECT channel, stage, day, sum(share_of_voice) AS s FROM b \
         GROUP BY channel, stage, day) WHERE abs(s - 1.0) > 1e-9",
    )
    .await;
    assert_eq!(off, 0);
    let bad = common::scalar(
        &engine,
        "SELECT count(*) FROM b WHERE response_rate < 0 OR response_rate > 1 \
         OR share_positive + share_negative > 1.0000001 OR median_first_response_minutes < 0 \
         OR p90_first_response_minutes < median_first_response_minutes - 1e-6",
    )
    .await;
    assert_eq!(bad, 0);

    // The brand filter keeps that brand's rows unchanged (share of voice still among all brands).
    let brand = common::pairs(
        &engine,
        "SELECT brand, count(*) FROM b GROUP BY brand ORDER BY brand",
    )
    .await[0]
        .0
        .clone();
    let mut filtered = window.to_vec();
    filtered.push(("brand".into(), brand.clone()));
    let sql = baseline.bind(&filtered).unwrap();
    let one = common::rows(
        &engine,
        &format!("SELECT * FROM ({sql}) ORDER BY channel, stage, day"),
    )
    .await;
    let all = common::rows(
        &engine,
        &format!("SELECT * FROM b WHERE brand = '{brand}' ORDER BY channel, stage, day"),
    )
    .await;
    assert_eq!(one, all);
}

#[test]
fn parameters_are_typed_and_checked() {
    let report = Report::parse(
        "t.sql",
        "-- name: t\n-- title: T\n-- description: a test\n--   on two lines\n\
         -- param: since timestamp 2026-01-01  start\n-- param: who string null  who\n\
         -- param: n int 5  how many\nSELECT $who, $n FROM x WHERE t >= $since -- $who in a comment\n",
    )
    .unwrap();
    assert_eq!(report.description, "a test on two lines");
    assert_eq!(report.params[0].kind, ParamType::Timestamp);
    let sql = report.bind(&[("who".into(), "it's".into())]).unwrap();
    assert!(
        sql.contains("SELECT 'it''s', 5 FROM x WHERE t >= arrow_cast(1767225600000000"),
        "{sql}"
    );
    assert!(
        sql.contains("-- $who in a comment"),
        "comments are left alone: {sql}"
    );
    assert!(
        report
            .bind(&[("nope".into(), "1".into())])
            .unwrap_err()
            .to_string()
            .contains("no parameter")
    );
    assert!(
        report
            .bind(&[("n".into(), "many".into())])
            .unwrap_err()
            .to_string()
            .contains("integer")
    );
    let undeclared = Report::parse(
        "u.sql",
        "-- name: u\n-- title: U\n-- description: d\nSELECT $x",
    )
    .unwrap();
    assert!(
        undeclared
            .bind(&[])
            .unwrap_err()
            .to_string()
            .contains("does not declare")
    );
    assert!(
        Report::parse(
            "v.sql",
            "-- name: v\n-- title: V\n-- description: d\n-- param: a uuid 1  x\nSELECT 1"
        )
        .is_err()
    );
    assert!(
        reports::find("nope")
            .unwrap_err()
            .to_string()
            .contains("baseline")
    );
}
