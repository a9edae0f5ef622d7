//! Shipped reports: headers, binding, planning, answers consistent with plain SQL and with
//! hand-built conversations, and reports as views and table functions. (Each report is also
//! checked against DuckDB on the same Parquet: tests/reports/test_duckdb.py.)

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::physical_plan::ExecutionPlan;
use socialcx::EngineConfig;
use socialcx::generator::{GeneratorConfig, OutputLayout};
use socialcx::reports::{self, ParamType, Report};

use crate::common;

/// An engine over a new lake in `dir` holding `rows` generated messages (seed `seed`).
async fn generated(dir: &Path, rows: u64, seed: u64) -> socialcx::Engine {
    let engine = common::engine_in(dir).await;
    let file = common::generate(dir, "g.ndjson", rows, seed, OutputLayout::Ndjson);
    common::ingest(&engine, &[file]).await;
    engine
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_report_parses_plans_and_runs_with_its_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let engine = generated(dir.path(), 6_000, 3).await;
    let shipped = reports::shipped();
    let mut names: Vec<&str> = shipped.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    let files: Vec<String> = common::report_files().into_iter().map(|f| f.name).collect();
    assert_eq!(names, files, "one report per file of queries/");
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
    let engine = generated(dir.path(), 8_000, 4).await;
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

/// One NDJSON message line.
#[allow(clippy::too_many_arguments)]
fn message(
    id: &str,
    thread: &str,
    parent: Option<&str>,
    author: &str,
    is_brand: bool,
    channel: &str,
    at: &str,
    text: &str,
) -> String {
    serde_json::json!({
        "conversation_id": id, "thread_id": thread, "parent_id": parent, "channel": channel,
        "brand": "Acme", "author_id": author, "author_followers": 10, "is_brand": is_brand,
        "created_at": at, "text": text,
    })
    .to_string()
}

const ANGRY: &str = "My order never arrived and nobody answers. Terrible service, I want a refund.";

/// Hand-built threads whose place in the triage queue is known.
fn triage_lake(dir: &Path) -> std::path::PathBuf {
    let day = |t: &str| format!("2026-03-01T{t}:00Z");
    let mut lines = vec![
        // t1: answered -> not waiting.
        message(
            "t1",
            "t1",
            None,
            "c1",
            false,
            "twitter",
            &day("08:00"),
            ANGRY,
        ),
        message(
            "t1r",
            "t1",
            Some("t1"),
            "acme",
            true,
            "twitter",
            &day("08:30"),
            "Sorry! DM us.",
        ),
        // t2: c2 (influential) waiting since 09:00; the brand's answer at 12:30 is after `to`.
        message(
            "t2",
            "t2",
            None,
            "c2",
            false,
            "twitter",
            &day("09:00"),
            ANGRY,
        ),
        message(
            "t2r",
            "t2",
            Some("t2"),
            "acme",
            true,
            "twitter",
            &day("12:30"),
            "On it.",
        ),
        // t3 and t4: c3 (no influence), the same words at 09:00 and 11:00.
        message(
            "t3",
            "t3",
            None,
            "c3",
            false,
            "twitter",
            &day("09:00"),
            ANGRY,
        ),
        message("t4", "t4", None, "c3", false, "forum", &day("11:00"), ANGRY),
        // t5: purchase; answered, then the customer came back unhappy -> follow_up.
        message(
            "t5",
            "t5",
            None,
            "c4",
            false,
            "email",
            &day("07:00"),
            "Checkout keeps failing when I try to buy the premium plan, awful.",
        ),
        message(
            "t5r",
            "t5",
            Some("t5"),
            "acme",
            true,
            "email",
            &day("07:30"),
            "Try again?",
        ),
        message(
            "t5e",
            "t5",
            Some("t5r"),
            "c4",
            false,
            "email",
            &day("09:45"),
            "Any news?",
        ),
        message(
            "t5f",
            "t5",
            Some("t5r"),
            "c4",
            false,
            "email",
            &day("10:00"),
            "Still broken. This is awful.",
        ),
        // t6: a happy customer nobody answered: waiting, but last in line.
        message(
            "t6",
            "t6",
            None,
            "c5",
            false,
            "forum",
            &day("11:30"),
            "Love the new app, thank you so much!",
        ),
    ];
    // c2's influence: a February thread where eight customers reply to c2 (then the brand closes it).
    lines.push(message(
        "t7",
        "t7",
        None,
        "c2",
        false,
        "forum",
        "2026-02-20T10:00:00Z",
        "Great tips, everyone should follow this account",
    ));
    for i in 0..8 {
        lines.push(message(
            &format!("t7-{i}"),
            "t7",
            Some("t7"),
            &format!("fan{i}"),
            false,
            "forum",
            &format!("2026-02-20T11:0{i}:00Z"),
            "Agreed, great tips",
        ));
    }
    lines.push(message(
        "t7r",
        "t7",
        Some("t7"),
        "acme",
        true,
        "forum",
        "2026-02-20T12:00:00Z",
        "Thanks all",
    ));
    let path = dir.join("triage.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_ranks_waiting_conversations_by_influence_negativity_and_recency() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    common::ingest(&engine, &[triage_lake(dir.path())]).await;
    let sql = "SELECT thread_id, status, team, stage, author_id, waiting_hours, priority, \
               influence_percentile, sentiment, waiting_messages, text \
               FROM triage(NULL, '2026-03-01T12:00:00Z')";
    let rows = common::rows(&engine, sql).await;
    let order: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    // t2 outranks t3 (same words and wait, more influence); t4 (more recent) outranks t3;
    // t6 (happy) is last; t1 and t7 (answered) are not waiting.
    assert_eq!(order.len(), 5, "{rows:?}");
    assert!(
        !order.contains(&"t1") && !order.contains(&"t7"),
        "{order:?}"
    );
    let at = |t: &str| order.iter().position(|x| *x == t).unwrap();
    assert!(at("t2") < at("t3") && at("t4") < at("t3"), "{order:?}");
    assert_eq!(*order.last().unwrap(), "t6");
    let row = |t: &str| rows.iter().find(|r| r[0] == t).unwrap().clone();
    assert_eq!(row("t5")[1], "follow_up");
    assert_eq!(row("t5")[4], "c4");
    // The waiting message is the customer's latest: two came after the brand's reply.
    assert_eq!(
        (row("t5")[9].as_str(), row("t5")[10].as_str()),
        ("2", "Still broken. This is awful.")
    );
    assert_eq!(
        (row("t2")[9].as_str(), row("t2")[10].as_str()),
        ("1", ANGRY)
    );
    assert_eq!(row("t2")[1], "unanswered");
    // Routing by stage through the shipped table.
    assert_eq!(
        (row("t2")[2].as_str(), row("t2")[3].as_str()),
        ("support", "service")
    );
    assert_eq!(
        (row("t5")[2].as_str(), row("t5")[3].as_str()),
        ("sales", "purchase")
    );
    // The documented formula, from the row's own factors: t2 waited 3 hours.
    let t2 = row("t2");
    let f = |i: usize| t2[i].parse::<f64>().unwrap();
    assert_eq!(f(5), 3.0);
    let expected = 100.0 * (0.5 + f(7) / 200.0) * ((1.0 - f(8)) / 2.0) * 0.5f64.powf(3.0 / 24.0);
    assert!((f(6) - expected).abs() < 1e-9, "{} vs {expected}", f(6));
    assert!(f(7) > row("t3")[7].parse::<f64>().unwrap());
    // An hour later the brand's 12:30 answer is seen: t2 leaves the queue.
    let later = common::rows(
        &engine,
        "SELECT thread_id FROM triage(NULL, '2026-03-01T13:00:00Z') ORDER BY thread_id",
    )
    .await;
    assert!(!later.iter().any(|r| r[0] == "t2"), "{later:?}");

    // A routing table of one's own replaces the shipped one.
    let routing = dir.path().join("routing.toml");
    std::fs::write(
        &routing,
        "[teams]\nservice = \"care\"\nunclassified = \"care\"\n",
    )
    .unwrap();
    let custom = socialcx::open_with(
        EngineConfig::new(dir.path().join("lake").display().to_string()).with_routing(&routing),
    )
    .await
    .unwrap();
    let teams = common::rows(
        &custom,
        "SELECT thread_id, team FROM triage(NULL, '2026-03-01T12:00:00Z') ORDER BY thread_id",
    )
    .await;
    let team = |t: &str| teams.iter().find(|r| r[0] == t).unwrap()[1].clone();
    assert_eq!(team("t2"), "care");
    assert_eq!(team("t5"), "unrouted", "purchase is not in this table");
    std::fs::write(&routing, "[teams]\nservise = \"care\"\n").unwrap();
    let err = socialcx::open_with(
        EngineConfig::new(dir.path().join("lake").display().to_string()).with_routing(&routing),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown stage \"servise\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_views_and_table_functions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = generated(dir.path(), 5_000, 8).await;
    // Every report is a view in `reports`, listed as one.
    let views = common::rows(
        &engine,
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = 'reports' AND table_type = 'VIEW' ORDER BY table_name",
    )
    .await;
    let names: Vec<String> = common::report_files().into_iter().map(|f| f.name).collect();
    assert_eq!(
        views.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        names
    );
    // The view is the report with its defaults (its window resolved from the lake, as the
    // command line resolves it); the function with arguments is the report with those values
    // (positional, in header order; omitted ones default).
    let audit = reports::find("channel_audit").unwrap();
    let (defaults, _) = audit.resolve(&engine, &[]).await.unwrap();
    let by_report =
        common::rounded(common::rows(&engine, &audit.bind_values(&defaults).unwrap()).await);
    assert_eq!(
        common::rounded(common::rows(&engine, "SELECT * FROM reports.channel_audit").await),
        by_report
    );
    let values = [
        ("from".to_string(), "2026-01-10".to_string()),
        ("to".to_string(), "2026-02-01".to_string()),
        ("brand".to_string(), "null".to_string()),
        ("min_posts".to_string(), "5".to_string()),
    ];
    let expected = common::rounded(common::rows(&engine, &audit.bind(&values).unwrap()).await);
    let called = common::rounded(
        common::rows(
            &engine,
            "SELECT * FROM channel_audit(DATE '2026-01-10', '2026-02-01T00:00:00Z', NULL, 5)",
        )
        .await,
    );
    assert_eq!(called, expected);
    assert_ne!(called, by_report);
    // Projections and filters over a report work like over any table.
    let gaps = common::scalar(
        &engine,
        "SELECT count(*) FROM channel_audit(NULL, NULL, NULL, 1000000) WHERE gap",
    )
    .await;
    assert_eq!(
        gaps as usize,
        by_report.len(),
        "every cell is a gap below 1M posts"
    );
    // Bad calls are plain errors.
    for (sql, wanted) in [
        (
            "SELECT * FROM triage(1, 2, 3, 4, 5, 6, 7)",
            "at most 6 arguments",
        ),
        ("SELECT * FROM triage('last week')", "is not a timestamp"),
        (
            "SELECT * FROM influencers(NULL, NULL, NULL, 'many')",
            "integer",
        ),
    ] {
        let err = common::try_scalar(&engine, sql).await.unwrap_err();
        assert!(err.contains(wanted), "{sql}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_audit_covers_every_stage_and_channel() {
    let dir = tempfile::tempdir().unwrap();
    let engine = generated(dir.path(), 6_000, 9).await;
    let cells = common::scalar(&engine, "SELECT count(*) FROM reports.channel_audit").await;
    let channels =
        common::scalar(&engine, "SELECT count(DISTINCT channel) FROM conversations").await;
    assert_eq!(cells, 6 * channels);
    let posts = common::scalar(
        &engine,
        "SELECT sum(customer_posts) FROM reports.channel_audit",
    )
    .await;
    // The default window ends at the last complete day: the generator's last day, 2026-03-31
    // (its 90 days from 2026-01-01), before the late replies after it.
    let classified = common::scalar(
        &engine,
        "SELECT count(*) FROM conversations WHERE NOT is_brand AND moment_of_truth(text) IS NOT NULL \
         AND created_at < '2026-04-01T00:00:00Z'",
    )
    .await;
    assert_eq!(posts, classified);
    let bad = common::scalar(
        &engine,
        "SELECT count(*) FROM channel_audit(NULL, NULL, NULL, 40) \
         WHERE gap <> (customer_posts < 40) OR overlap_authors > unique_authors \
         OR unique_authors > customer_posts OR response_rate > 1",
    )
    .await;
    assert_eq!(bad, 0);
    let overlapping = common::scalar(
        &engine,
        "SELECT count(*) FROM reports.channel_audit WHERE overlap_authors > 0",
    )
    .await;
    assert!(
        overlapping > 0,
        "generated authors post on several channels"
    );
    // Unique and overlapping authors per cell, by their definition in plain SQL: an author
    // overlaps in a cell when they spoke about the stage on another channel too.
    let by_definition = common::rows(
        &engine,
        "WITH p AS (SELECT DISTINCT stage, channel, author_id FROM conversations \
                    WHERE NOT is_brand AND stage IS NOT NULL \
                      AND created_at < '2026-04-01T00:00:00Z'), \
              o AS (SELECT DISTINCT a.stage, a.channel, a.author_id FROM p a JOIN p b \
                    ON a.stage = b.stage AND a.author_id = b.author_id AND a.channel <> b.channel) \
         SELECT p.stage, p.channel, count(*), count(o.author_id) FROM p \
         LEFT JOIN o ON o.stage = p.stage AND o.channel = p.channel AND o.author_id = p.author_id \
         GROUP BY p.stage, p.channel ORDER BY 1, 2",
    )
    .await;
    let report = common::rows(
        &engine,
        "SELECT stage, channel, unique_authors, overlap_authors FROM reports.channel_audit \
         WHERE customer_posts > 0 ORDER BY 1, 2",
    )
    .await;
    assert!(by_definition.len() > 10, "{by_definition:?}");
    assert_eq!(report, by_definition);
    // The threads customers started in each cell and the share a brand account answered, by
    // their definition: a root post of the cell with at least one brand reply in its thread.
    let by_definition = common::rows(
        &engine,
        "WITH roots AS (SELECT stage, channel, conversation_id FROM conversations \
                        WHERE NOT is_brand AND stage IS NOT NULL AND parent_id IS NULL \
                          AND created_at < '2026-04-01T00:00:00Z'), \
              replied AS (SELECT DISTINCT thread_id FROM conversations \
                          WHERE is_brand AND parent_id IS NOT NULL) \
         SELECT r.stage, r.channel, count(*), \
                round(avg(CASE WHEN x.thread_id IS NULL THEN 0.0 ELSE 1.0 END), 9) \
         FROM roots r LEFT JOIN replied x ON x.thread_id = r.conversation_id \
         GROUP BY r.stage, r.channel ORDER BY 1, 2",
    )
    .await;
    let report = "SELECT stage, channel, customer_threads, round(response_rate, 9) \
                  FROM reports.channel_audit WHERE customer_threads > 0 ORDER BY 1, 2";
    assert_rates_match_their_definition(&engine, report, by_definition).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn influencers_are_the_customers_who_posted_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let engine = generated(dir.path(), 6_000, 5).await;
    // A window in the middle of the data: its replies reach authors who did not post in it.
    let (from, to) = ("'2026-02-01T00:00:00Z'", "'2026-03-01T00:00:00Z'");
    let outside = common::scalar(
        &engine,
        &format!("SELECT count(*) FROM author_influence({from}, {to}) WHERE is_brand IS NULL"),
    )
    .await;
    assert!(
        outside > 0,
        "the graph holds authors who did not post in the window"
    );
    // By definition, the customers of the window: the authors with a message in it and none
    // from a brand account, with their message count. The report with exactly that many rows
    // lists them all (an author without a post taking a place would leave one out).
    let by_definition = common::rows(
        &engine,
        &format!(
            "SELECT author_id, count(*) FROM conversations \
             WHERE created_at >= {from} AND created_at < {to} \
             GROUP BY author_id HAVING NOT bool_or(is_brand) ORDER BY author_id"
        ),
    )
    .await;
    assert!(by_definition.len() > 100, "{}", by_definition.len());
    let report = common::rows(
        &engine,
        &format!(
            "SELECT author_id, messages FROM influencers({from}, {to}, NULL, {}) \
             ORDER BY author_id",
            by_definition.len()
        ),
    )
    .await;
    assert_eq!(report, by_definition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vs_baseline_response_rate_is_the_share_of_the_periods_threads_a_brand_answered() {
    let dir = tempfile::tempdir().unwrap();
    let engine = generated(dir.path(), 8_000, 7).await;
    // By definition: the threads customers started in the week, per cell, and the share with
    // a brand account's reply in the week or the 28 days before it.
    let by_definition = common::rows(
        &engine,
        "WITH roots AS (SELECT brand, channel, coalesce(stage, 'unclassified') AS stage, \
                               conversation_id FROM conversations \
                        WHERE NOT is_brand AND parent_id IS NULL \
                          AND created_at >= '2026-02-09T00:00:00Z' \
                          AND created_at < '2026-02-16T00:00:00Z'), \
              replied AS (SELECT DISTINCT thread_id FROM conversations \
                          WHERE is_brand AND parent_id IS NOT NULL \
                            AND created_at >= '2026-01-12T00:00:00Z' \
                            AND created_at < '2026-02-16T00:00:00Z') \
         SELECT r.brand, r.channel, r.stage, count(*), \
                round(avg(CASE WHEN x.thread_id IS NULL THEN 0.0 ELSE 1.0 END), 9) \
         FROM roots r LEFT JOIN replied x ON x.thread_id = r.conversation_id \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .await;
    let report = "SELECT brand, channel, stage, period_sample, round(period_value, 9) \
                  FROM vs_baseline('2026-02-09', '2026-02-16', 28, 3) \
                  WHERE metric = 'response_rate' AND period_sample > 0 ORDER BY 1, 2, 3";
    assert_rates_match_their_definition(&engine, report, by_definition).await;
}

/// The rows of `report` equal `by_definition`, whose last column is a response rate: more
/// than ten cells, and more than ten of them with an answered thread.
async fn assert_rates_match_their_definition(
    engine: &socialcx::Engine,
    report: &str,
    by_definition: Vec<Vec<String>>,
) {
    assert!(by_definition.len() > 10, "{by_definition:?}");
    let answered = by_definition
        .iter()
        .filter(|r| r.last().is_some_and(|rate| rate != "0.0"))
        .count();
    assert!(answered > 10, "brands answer threads: {by_definition:?}");
    assert_eq!(common::rows(engine, report).await, by_definition);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vs_baseline_flags_an_injected_spike_and_nothing_in_that_cell_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::generate(dir.path(), "g.ndjson", 12_000, 12, OutputLayout::Ndjson);
    // 60 furious forum posts about one brand on 2026-02-20.
    let spike: Vec<String> = (0..60)
        .map(|i| {
            let mut m: serde_json::Value = serde_json::from_str(&message(
                &format!("spike{i}"),
                &format!("spike{i}"),
                None,
                &format!("angry{i}"),
                false,
                "forum",
                &format!("2026-02-20T{:02}:{:02}:00Z", i / 6, i % 60),
                ANGRY,
            ))
            .unwrap();
            m["brand"] = "Voltix".into();
            m.to_string()
        })
        .collect();
    let spiked = dir.path().join("spike.ndjson");
    std::fs::write(&spiked, spike.join("\n") + "\n").unwrap();
    let sql = "SELECT metric, flagged, z_score FROM vs_baseline('2026-02-20', '2026-02-21', 28, 3) \
               WHERE brand = 'Voltix' AND channel = 'forum' AND stage = 'service' ORDER BY metric";
    let flags = |rows: Vec<Vec<String>>| -> Vec<(String, String)> {
        rows.into_iter()
            .filter(|r| r[1] == "true")
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect()
    };

    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let plain = common::engine_in(&plain_dir).await;
    common::ingest(&plain, std::slice::from_ref(&file)).await;
    let before = flags(common::rows(&plain, sql).await);
    assert!(before.is_empty(), "flagged without a spike: {before:?}");

    let engine = common::engine_in(dir.path()).await;
    common::ingest(&engine, &[file, spiked]).await;
    let after = flags(common::rows(&engine, sql).await);
    let metrics: Vec<&str> = after.iter().map(|(m, _)| m.as_str()).collect();
    assert!(metrics.contains(&"customer_posts"), "{after:?}");
    let z: f64 = after
        .iter()
        .find(|(m, _)| m == "customer_posts")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(z > 3.0, "{z}");
}

#[tokio::test]
async fn the_string_null_is_a_value_not_the_absence_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = common::generate(
        dir.path(),
        "in.ndjson",
        300,
        4,
        socialcx::generator::OutputLayout::Ndjson,
    );
    common::ingest(&engine, &[file]).await;
    let all = common::scalar(
        &engine,
        "SELECT count(*) FROM baseline(NULL, NULL, NULL, NULL)",
    )
    .await;
    assert!(all > 0);
    // No brand is called 'null': filtering on it finds nothing, unlike NULL (no filter).
    let named_null = common::scalar(
        &engine,
        "SELECT count(*) FROM baseline(NULL, NULL, 'null', NULL)",
    )
    .await;
    assert_eq!(named_null, 0);
}

/// An instant as the tests read one (RFC 3339, or a day for its midnight).
fn instant(text: &str) -> DateTime<Utc> {
    reports::parse_timestamp(text).unwrap_or_else(|| panic!("{text:?} is not an instant"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_periods_end_at_the_last_complete_day_not_in_the_ragged_tail() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    // 60 days from 2026-01-01: the generator's last full day is 2026-03-01, and late replies
    // trail after it (the ragged tail a default period used to end in).
    let file = common::generate_days(dir.path(), "g.ndjson", 12_000, 31, 60);
    common::ingest(&engine, std::slice::from_ref(&file)).await;
    let input = common::read_ndjson(&file);
    let at =
        |m: &serde_json::Map<String, serde_json::Value>| instant(m["created_at"].as_str().unwrap());
    let end = instant("2026-03-02");
    let tail = input.iter().filter(|m| at(m) >= end).count();
    assert!(tail > 0, "the generated data has a ragged tail");
    let customer_posts_before = |end: DateTime<Utc>| {
        input
            .iter()
            .filter(|m| !m["is_brand"].as_bool().unwrap() && at(m) < end)
            .count() as i64
    };

    // baseline (the view, as a BI tool reads it): every customer post through 2026-03-01,
    // none of the tail, so its charts do not end in a fall to 0.
    let days = common::rows(
        &engine,
        "SELECT min(day), max(day), sum(customer_posts) FROM reports.baseline",
    )
    .await;
    assert_eq!(
        (days[0][0].as_str(), days[0][1].as_str()),
        ("2026-01-01", "2026-03-01")
    );
    assert_eq!(
        days[0][2].parse::<i64>().unwrap(),
        customer_posts_before(end)
    );

    // vs_baseline: the 7 days through 2026-03-01, and the 28 before them.
    let bounds = common::rows(
        &engine,
        "SELECT DISTINCT period_start, period_end, baseline_start FROM reports.vs_baseline",
    )
    .await;
    assert_eq!(bounds.len(), 1, "{bounds:?}");
    let bounds: Vec<DateTime<Utc>> = bounds[0].iter().map(|t| instant(t)).collect();
    assert_eq!(
        bounds,
        [
            instant("2026-02-23"),
            instant("2026-03-02"),
            instant("2026-01-26")
        ]
    );
    // No collapse of volume: the period's posts per day are about the baseline's (a period
    // running into the tail had a third of them, and every cell "dropped").
    let volume = common::rows(
        &engine,
        "SELECT sum(period_value), sum(baseline_mean) FROM reports.vs_baseline \
         WHERE metric = 'customer_posts'",
    )
    .await;
    let (period, baseline): (f64, f64) =
        (volume[0][0].parse().unwrap(), volume[0][1].parse().unwrap());
    assert!(
        period > 0.8 * baseline && period < 1.25 * baseline,
        "{period} posts a day in the period against {baseline} in the baseline"
    );

    // The report says what it covers.
    let vs = reports::find("vs_baseline").unwrap();
    let (_, stated) = vs.resolve(&engine, &[]).await.unwrap();
    let text = stated.describe();
    assert!(
        text.starts_with(
            "period 2026-02-23 to 2026-03-01 (UTC, 7 days), the 7 days through the last complete day"
        ),
        "{text}"
    );
    assert!(
        text.contains("baseline 2026-01-26 to 2026-02-22 (28 days before)"),
        "{text}"
    );

    // triage stays as of the last message: the queue as it stands now.
    let as_of = common::rows(&engine, "SELECT DISTINCT as_of FROM reports.triage").await;
    let last = input.iter().map(at).max().unwrap();
    assert_eq!(as_of.len(), 1);
    assert_eq!(instant(&as_of[0][0]), last);

    // The command line states the period on stderr (stdout keeps the rows), and --sql binds
    // the resolved end as a literal.
    let lake = dir.path().join("lake");
    let out = common::socialcx(&lake, &["report", "vs_baseline", "--format", "csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && stderr.contains("vs_baseline: period 2026-02-23 to 2026-03-01 (UTC, 7 days)"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("brand,channel,stage,metric"));
    let sql = common::ok(&common::socialcx(&lake, &["report", "baseline", "--sql"]));
    assert!(
        sql.contains(&format!(
            "created_at < arrow_cast({}",
            end.timestamp_micros()
        )),
        "{sql}"
    );
}

/// The lake files (paths relative to the lake, among `paths`) a physical plan reads.
fn files_read(plan: &Arc<dyn ExecutionPlan>, paths: &[String]) -> BTreeSet<String> {
    let locations = common::files_in_plan(plan);
    assert!(!locations.is_empty(), "the plan reads no file");
    let known: BTreeSet<String> = paths
        .iter()
        .filter(|p| locations.iter().any(|l| l.ends_with(p.as_str())))
        .cloned()
        .collect();
    assert_eq!(
        known.len(),
        locations.len(),
        "{locations:?} against {paths:?}"
    );
    known
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_vs_baseline_reads_only_the_files_of_its_five_weeks() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    // 150 days landed 30 at a time: one file per landing, each with its days and the late
    // replies after them. The last full day is 2026-05-30.
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for i in 0..5u64 {
        let config = GeneratorConfig {
            rows: 3_000,
            seed: 101 + i,
            start: start + Duration::days(30 * i as i64),
            days: 30,
            layout: OutputLayout::Ndjson,
        };
        let path = dir.path().join(format!("part{i}.ndjson"));
        socialcx::generator::generate_file(&config, &path, &socialcx::progress::Silent).unwrap();
        common::ingest(&engine, &[path]).await;
    }
    // The period is 2026-05-24 to 05-30 and its baseline the 28 days before: the files whose
    // time range (from the commit log) meets 2026-04-26 .. 2026-05-31 are the ones to read.
    let (from, to) = (instant("2026-04-26"), instant("2026-05-31"));
    let snapshot = engine.lake().snapshot().await.unwrap();
    let files = snapshot.files("conversations");
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let needed: BTreeSet<String> = files
        .iter()
        .filter(|f| {
            f.time_range
                .is_none_or(|[lo, hi]| lo < to.timestamp_micros() && hi >= from.timestamp_micros())
        })
        .map(|f| f.path.clone())
        .collect();
    assert!(
        files.len() >= 5 && needed.len() <= files.len() - 2,
        "{} files, {} needed",
        files.len(),
        needed.len()
    );
    // The view, the table function and the report itself: each resolves its window before
    // planning, so the lake prunes the other files.
    for sql in [
        "SELECT * FROM reports.vs_baseline",
        "SELECT * FROM vs_baseline()",
        "SELECT * FROM vs_baseline(NULL, NULL, 28)",
    ] {
        let plan = engine
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        assert_eq!(files_read(&plan, &paths), needed, "{sql}");
    }
    let report = reports::find("vs_baseline").unwrap();
    let plan = report
        .plan(&engine, &[])
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    assert_eq!(files_read(&plan, &paths), needed);
    // And the answer is the one for that window given by hand.
    let mut by_default =
        common::rounded(common::rows(&engine, "SELECT * FROM reports.vs_baseline").await);
    let mut by_hand = common::rounded(
        common::rows(
            &engine,
            "SELECT * FROM vs_baseline('2026-05-24', '2026-05-31')",
        )
        .await,
    );
    by_default.sort();
    by_hand.sort();
    assert!(!by_default.is_empty());
    assert_eq!(by_default, by_hand);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vs_baseline_flags_no_volume_change_resting_on_a_handful_of_posts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let mut lines = Vec::new();
    let mut post = |brand: &str, day: u32, month: u32, n: u32| {
        for k in 0..n {
            let id = format!("{brand}-{month}-{day}-{k}");
            let mut m: serde_json::Value = serde_json::from_str(&message(
                &id,
                &id,
                None,
                &format!("{brand}-fan{k}"),
                false,
                "forum",
                &format!(
                    "2026-{month:02}-{day:02}T{:02}:{:02}:00Z",
                    8 + k / 60,
                    k % 60
                ),
                ANGRY,
            ))
            .unwrap();
            m["brand"] = brand.into();
            lines.push(m.to_string());
        }
    };
    for day in 1..=28 {
        // Tiny and Rising: a post a week. Falling: 14 or 16 posts every day.
        if day % 7 == 1 {
            post("Tiny", day, 2, 1);
            post("Rising", day, 2, 1);
        }
        post("Falling", day, 2, if day % 2 == 0 { 14 } else { 16 });
    }
    // The period, 2026-03-01: Tiny 5 posts (z about 14, on 5 posts), Rising 12, Falling 2.
    post("Tiny", 1, 3, 5);
    post("Rising", 1, 3, 12);
    post("Falling", 1, 3, 2);
    let path = dir.path().join("handful.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    common::ingest(&engine, &[path]).await;
    let rows = common::rows(
        &engine,
        "SELECT brand, flagged, period_sample, z_score FROM vs_baseline('2026-03-01', '2026-03-02', 28, 3) \
         WHERE metric = 'customer_posts' AND channel = 'forum' ORDER BY brand",
    )
    .await;
    let flags: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        flags,
        [("Falling", "true"), ("Rising", "true"), ("Tiny", "false")],
        "{rows:?}"
    );
    // Tiny's z is as large as Rising's: only its sample keeps it from a flag.
    let z = |brand: &str| -> f64 {
        rows.iter().find(|r| r[0] == brand).unwrap()[3]
            .parse()
            .unwrap()
    };
    assert!(z("Tiny") > 3.0 && z("Falling") < -3.0, "{rows:?}");
}
