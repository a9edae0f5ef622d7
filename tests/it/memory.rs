//! The memory limit: a big query spills to disk or fails with a clear error.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::physical_plan::{ExecutionPlan, collect};
use socialcx::EngineConfig;
use socialcx::generator::OutputLayout;

use crate::common::*;

#[tokio::test]
async fn a_sort_larger_than_the_memory_limit_spills_and_stays_correct() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "in.ndjson", 40_000, 13, OutputLayout::Ndjson);
    let lake = dir.path().join("lake").display().to_string();
    let loader = socialcx::open(&lake).await.unwrap();
    ingest(&loader, std::slice::from_ref(&file)).await;

    let spill = dir.path().join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let config = EngineConfig::new(lake)
        .with_memory_limit(2 << 20)
        .with_spill_dir(&spill)
        .with_target_partitions(1);
    let engine = socialcx::open_with(config).await.unwrap();
    assert_eq!(engine.memory_limit(), 2 << 20);

    // 40,000 texts and ids do not fit in 2 MiB: the sort must spill, and still be right.
    let plan = engine
        .sql("SELECT text, conversation_id FROM conversations ORDER BY text, conversation_id")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let batches = collect(Arc::clone(&plan), engine.context().task_ctx())
        .await
        .expect("the sort spills instead of failing");
    assert!(
        spills(&plan) > 0,
        "nothing spilled: the limit was not reached"
    );
    let mut got = Vec::new();
    for b in &batches {
        let texts = b.column(0).as_string::<i32>();
        got.extend((0..b.num_rows()).map(|i| texts.value(i).to_string()));
    }
    let mut expected: Vec<String> = read_ndjson(&file)
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(got, expected);

    // A limit far too small for a hash aggregate fails cleanly, naming the cause.
    let tiny = socialcx::open_with(
        EngineConfig::new(dir.path().join("lake").display().to_string())
            .with_memory_limit(64 << 10)
            .with_target_partitions(1),
    )
    .await
    .unwrap();
    let err = tiny
        .sql("SELECT author_id, array_agg(text) FROM conversations GROUP BY author_id")
        .await
        .unwrap()
        .collect()
        .await
        .expect_err("64 KiB cannot hold 40,000 texts");
    assert!(err.to_string().contains("Resources exhausted"), "{err}");
}

/// Spill files written by `plan` and its children while it ran.
fn spills(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let own = plan.metrics().and_then(|m| m.spill_count()).unwrap_or(0);
    own + plan.children().into_iter().map(spills).sum::<usize>()
}
