//! Date filters prune files before any is opened; results stay exact.

use std::sync::Arc;

use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;
use socialcx::generator::OutputLayout;

use crate::common::*;

fn files_scanned(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let here = plan
        .downcast_ref::<DataSourceExec>()
        .and_then(|ds| ds.data_source().downcast_ref::<FileScanConfig>())
        .map(|cfg| cfg.file_groups.iter().map(|g| g.len()).sum())
        .unwrap_or(0);
    here + plan
        .children()
        .iter()
        .map(|c| files_scanned(c))
        .sum::<usize>()
}

async fn plan_files(engine: &socialcx::Engine, sql: &str) -> usize {
    let plan = engine
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    files_scanned(&plan)
}

#[tokio::test]
async fn date_filters_prune_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate(dir.path(), "in.ndjson", 3000, 5, OutputLayout::Ndjson);
    ingest(&engine, std::slice::from_ref(&file)).await;

    // The independent count: days in the input, and rows on one day.
    let rows = read_ndjson(&file);
    let mut days: Vec<String> = rows
        .iter()
        .map(|r| r["created_at"].as_str().unwrap()[..10].to_string())
        .collect();
    days.sort();
    days.dedup();
    assert!(
        days.len() > 30,
        "the generator spreads rows over the period"
    );
    let on_day = rows
        .iter()
        .filter(|r| r["created_at"].as_str().unwrap().starts_with("2026-01-15"))
        .count();

    let all = plan_files(&engine, "SELECT count(text) FROM conversations").await;
    assert_eq!(all, days.len(), "one file per day");

    let sql = "SELECT count(*) FROM conversations WHERE date = DATE '2026-01-15'";
    assert_eq!(plan_files(&engine, sql).await, 1);
    assert_eq!(scalar(&engine, sql).await as usize, on_day);

    // EXPLAIN shows the single surviving file, in its partition.
    let explain = query(&engine, &format!("EXPLAIN {sql}")).await;
    let text = datafusion::arrow::util::pretty::pretty_format_batches(&explain)
        .unwrap()
        .to_string();
    assert_eq!(text.matches(".parquet").count(), 1, "{text}");
    assert!(text.contains("date=2026-01-15/"), "{text}");

    // A filter on created_at prunes by the time range the log records for each file.
    let sql = "SELECT count(*) FROM conversations WHERE created_at >= TIMESTAMP '2026-01-10T00:00:00Z' \
               AND created_at < TIMESTAMP '2026-01-13T00:00:00Z'";
    assert_eq!(plan_files(&engine, sql).await, 3);
    let expected = rows
        .iter()
        .filter(|r| {
            let t = r["created_at"].as_str().unwrap();
            ("2026-01-10".."2026-01-13").contains(&&t[..10])
        })
        .count();
    assert_eq!(scalar(&engine, sql).await as usize, expected);

    // A filter on another column cannot prune files, and must not lose rows.
    let sql = "SELECT count(*) FROM conversations WHERE channel = 'email'";
    assert_eq!(plan_files(&engine, sql).await, days.len());
    let emails = rows.iter().filter(|r| r["channel"] == "email").count();
    assert_eq!(scalar(&engine, sql).await as usize, emails);
}
