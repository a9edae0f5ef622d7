//! The memory limit: a big query spills to disk or fails with a clear error.

use socialcx::EngineConfig;
use socialcx::generator::OutputLayout;

use crate::common::*;

#[tokio::test]
async fn a_sort_larger_than_the_memory_limit_spills_and_stays_correct() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "in.ndjson", 20_000, 13, OutputLayout::Ndjson);
    let lake = dir.path().join("lake").display().to_string();
    let loader = socialcx::open(&lake).await.unwrap();
    ingest(&loader, std::slice::from_ref(&file)).await;

    let spill = dir.path().join("spill");
    std::fs::create_dir_all(&spill).unwrap();
    let config = EngineConfig::new(lake)
        .with_memory_limit(6 << 20)
        .with_spill_dir(&spill)
        .with_target_partitions(1);
    let engine = socialcx::open_with(config).await.unwrap();
    assert_eq!(engine.memory_limit(), 6 << 20);

    let df = engine
        .sql("SELECT text, conversation_id FROM conversations ORDER BY text, conversation_id")
        .await
        .unwrap();
    match df.collect().await {
        Ok(batches) => {
            let mut got = Vec::new();
            for b in &batches {
                for i in 0..b.num_rows() {
                    got.push(
                        datafusion::arrow::util::display::array_value_to_string(b.column(0), i)
                            .unwrap(),
                    );
                }
            }
            let mut expected: Vec<String> = read_ndjson(&file)
                .iter()
                .map(|r| r["text"].as_str().unwrap().to_string())
                .collect();
            expected.sort();
            assert_eq!(got, expected);
        }
        Err(e) => assert!(
            e.to_string().contains("Resources exhausted"),
            "a clean failure: {e}"
        ),
    }

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
        .expect_err("64 KiB cannot hold 20,000 texts");
    assert!(err.to_string().contains("Resources exhausted"), "{err}");
}
