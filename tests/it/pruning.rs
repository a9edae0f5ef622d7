//! Date filters prune files before any is opened; results stay exact.

use crate::common::*;

async fn plan_files(engine: &socialcx::Engine, sql: &str) -> usize {
    let plan = engine
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    files_in_plan(&plan).len()
}

#[tokio::test]
async fn date_filters_prune_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    // Busy days (over 16Ki rows each), so each has files of its own.
    let file = generate_days(dir.path(), "in.ndjson", 120_000, 5, 4);
    ingest(&engine, std::slice::from_ref(&file)).await;

    // The independent count: days in the input, and rows on one day.
    let rows = read_ndjson(&file);
    let mut days: Vec<String> = rows
        .iter()
        .map(|r| r["created_at"].as_str().unwrap()[..10].to_string())
        .collect();
    days.sort();
    let per_day: Vec<usize> = days.chunk_by(|a, b| a == b).map(|d| d.len()).collect();
    days.dedup();
    // The four generated days are busy; the late replies after them are a small tail that
    // shares one file (fewer than 16Ki rows, all in January).
    let busy = per_day.iter().filter(|n| **n >= 16 * 1024).count();
    let tail: usize = per_day.iter().filter(|n| **n < 16 * 1024).sum();
    assert_eq!(busy, 4, "{per_day:?}");
    assert!(tail > 0 && tail < 16 * 1024 && days.last().unwrap().starts_with("2026-01"));
    let on_day = rows
        .iter()
        .filter(|r| r["created_at"].as_str().unwrap().starts_with("2026-01-02"))
        .count();

    let all = plan_files(&engine, "SELECT count(text) FROM conversations").await;
    assert_eq!(all, busy + 1, "one file per busy day, one for the tail");

    let sql = "SELECT count(*) FROM conversations WHERE date = DATE '2026-01-02'";
    assert_eq!(plan_files(&engine, sql).await, 1);
    assert_eq!(scalar(&engine, sql).await as usize, on_day);

    // EXPLAIN shows the single surviving file, in its partition.
    let explain = query(&engine, &format!("EXPLAIN {sql}")).await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    // (A file may be read in byte ranges, each named: count the distinct files.)
    let named: std::collections::BTreeSet<&str> = text
        .split(|c: char| c.is_whitespace() || "[],".contains(c))
        .filter_map(|w| w.split_once(".parquet").map(|(path, _)| path))
        .collect();
    assert_eq!(named.len(), 1, "{text}");
    assert!(text.contains("date=2026-01-02/"), "{text}");

    // A filter on created_at prunes by the time range the log records for each file.
    let sql = "SELECT count(*) FROM conversations WHERE created_at >= TIMESTAMP '2026-01-02T00:00:00Z' \
               AND created_at < TIMESTAMP '2026-01-04T00:00:00Z'";
    assert_eq!(plan_files(&engine, sql).await, 2);
    let expected = rows
        .iter()
        .filter(|r| {
            let t = r["created_at"].as_str().unwrap();
            ("2026-01-02".."2026-01-04").contains(&&t[..10])
        })
        .count();
    assert_eq!(scalar(&engine, sql).await as usize, expected);

    // A filter on another column cannot prune files, and must not lose rows.
    let sql = "SELECT count(*) FROM conversations WHERE channel = 'email'";
    assert_eq!(plan_files(&engine, sql).await, all);
    let emails = rows.iter().filter(|r| r["channel"] == "email").count();
    assert_eq!(scalar(&engine, sql).await as usize, emails);
}

/// `n` one-row days from 1990-01-01 on, then `busy_days` days of March 2026 with `per_day`
/// rows each, as NDJSON; returns the dates of the rows.
fn sparse_history(
    path: &std::path::Path,
    n: i64,
    busy_days: u32,
    per_day: usize,
) -> Vec<chrono::NaiveDate> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
    let mut dates: Vec<chrono::NaiveDate> =
        (0..n).map(|i| epoch + chrono::Duration::days(i)).collect();
    for d in 1..=busy_days {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        dates.extend(std::iter::repeat_n(day, per_day));
    }
    let mut out = String::new();
    for (i, day) in dates.iter().enumerate() {
        out.push_str(&format!(
            "{{\"conversation_id\":\"s{i}\",\"channel\":\"twitter\",\"brand\":\"Acme\",\
             \"author_id\":\"u{}\",\"created_at\":\"{day}T12:00:00Z\",\"text\":\"post {i}\"}}\n",
            i % 97
        ));
    }
    std::fs::write(path, out).unwrap();
    dates
}

#[tokio::test]
async fn sparse_history_lands_in_few_files_and_still_prunes() {
    // 20,000 rows, each on its own day (1990 to 2044), and a month of small days (20 x 1,000).
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let input = dir.path().join("history.ndjson");
    let dates = sparse_history(&input, 20_000, 20, 1_000);
    let summary = ingest(&engine, std::slice::from_ref(&input)).await;
    assert_eq!(summary.landed(), dates.len() as u64);

    // The expected layout, from the documented rule: a year's file for each sparse year,
    // and March 2026 (20,000 rows >= 16Ki, its days each below) one month file beside
    // 2026's year file.
    let mut years: Vec<i32> = dates[..20_000].iter().map(chrono::Datelike::year).collect();
    years.dedup();
    assert_eq!(years.len(), 55);
    let all = plan_files(&engine, "SELECT count(text) FROM conversations").await;
    assert_eq!(all, years.len() + 1);
    assert_eq!(
        scalar(
            &engine,
            "SELECT count(DISTINCT conversation_id) FROM conversations"
        )
        .await,
        dates.len() as i64
    );

    // A day's filter opens the one file whose span holds it, and counts exactly.
    let sql = "SELECT count(*) FROM conversations WHERE date = DATE '1990-06-15'";
    assert_eq!(plan_files(&engine, sql).await, 1);
    assert_eq!(scalar(&engine, sql).await, 1);
    let explain = query(&engine, &format!("EXPLAIN {sql}")).await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    assert!(text.contains("year=1990/"), "{text}");
    // Across a year's end: two files.
    let sql = "SELECT count(*) FROM conversations WHERE date BETWEEN DATE '1999-12-30' AND DATE '2000-01-02'";
    assert_eq!(plan_files(&engine, sql).await, 2);
    assert_eq!(scalar(&engine, sql).await, 4);
    // The month of small days is one file under month=2026-03.
    // It is read with 2026's year file, whose span (January to December) covers March too.
    let sql = "SELECT count(*) FROM conversations WHERE date = DATE '2026-03-07'";
    assert_eq!(plan_files(&engine, sql).await, 2);
    assert_eq!(
        scalar(&engine, sql).await,
        1_001,
        "its 1,000 and the sparse row of that day"
    );
    let explain = query(&engine, &format!("EXPLAIN {sql}")).await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    assert!(text.contains("month=2026-03/"), "{text}");
}
