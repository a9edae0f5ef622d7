//! The "Customer Support on Twitter" layout: threads rebuilt from reply links.

use std::collections::HashMap;

use socialcx::generator::OutputLayout;
use socialcx::generator::text::BRANDS;

use crate::common::*;

/// id → (column → value) for a query's rows, keyed by its first column.
async fn by_id(engine: &socialcx::Engine, sql: &str) -> HashMap<String, Vec<String>> {
    rows(engine, sql)
        .await
        .into_iter()
        .map(|mut cells| (cells.remove(0), cells))
        .collect()
}

#[tokio::test]
async fn the_shipped_fixture_maps_threads_brands_and_replies() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let summary = ingest(&engine, &[sample("twcs_sample.csv")]).await;
    assert_eq!(summary.files[0].layout.as_deref(), Some("twcs"));
    assert_eq!(
        (summary.landed(), summary.quarantined()),
        (13, 1),
        "{summary}"
    );

    let rows = by_id(
        &engine,
        "SELECT conversation_id, thread_id, parent_id, brand, is_brand, replies, channel, \
         CAST(date_part('epoch', created_at) AS BIGINT) FROM conversations",
    )
    .await;
    // (id, thread, parent, brand, is_brand, replies)
    let expected = [
        ("1", "1", "", "AppleSupport", "false", "1"),
        ("2", "1", "1", "AppleSupport", "true", "1"),
        ("3", "1", "2", "AppleSupport", "false", "2"),
        ("4", "1", "3", "AppleSupport", "true", "0"),
        ("5", "1", "3", "AppleSupport", "false", "0"),
        ("11", "11", "", "AmazonHelp", "false", "1"),
        ("12", "11", "11", "AmazonHelp", "true", "1"),
        ("13", "11", "12", "AmazonHelp", "false", "0"),
        // 20 was never landed: it stands for the root of its replies' thread.
        ("21", "20", "20", "SpotifyCares", "true", "1"),
        ("22", "20", "21", "SpotifyCares", "false", "0"),
        // Unanswered, but it tags a brand account known from another thread.
        ("30", "30", "", "Uber_Support", "false", "0"),
        ("31", "31", "", "Uber_Support", "false", "1"),
        ("32", "31", "31", "Uber_Support", "true", "0"),
    ];
    assert_eq!(rows.len(), expected.len());
    for (id, thread, parent, brand, is_brand, replies) in expected {
        let r = &rows[id];
        assert_eq!(
            (
                r[0].as_str(),
                r[1].as_str(),
                r[2].as_str(),
                r[3].as_str(),
                r[4].as_str()
            ),
            (thread, parent, brand, is_brand, replies),
            "tweet {id}"
        );
        assert_eq!(r[5], "twitter");
    }
    // Tue Oct 31 22:10:47 +0000 2017
    assert_eq!(rows["1"][6], "1509487847");

    let reason = crate::common::rows(&engine, "SELECT line, reason FROM quarantine").await;
    assert_eq!(reason[0][0], "16");
    assert!(reason[0][1].contains("created_at"));
}

#[tokio::test]
async fn generated_twcs_rebuilds_the_threads_the_generator_made() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = generate(dir.path(), "in.ndjson", 4000, 77, OutputLayout::Ndjson);
    let twcs = generate(dir.path(), "in_twcs.csv", 4000, 77, OutputLayout::Twcs);
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    let truth = engine_in(&dir.path().join("a")).await;
    ingest(&truth, &[ndjson]).await;
    let mapped = engine_in(&dir.path().join("b")).await;
    let summary = ingest(&mapped, &[twcs]).await;
    assert_eq!(
        (summary.landed(), summary.quarantined()),
        (4000, 0),
        "{summary}"
    );

    let sql = "SELECT conversation_id, thread_id, coalesce(parent_id, ''), is_brand, replies, \
               CAST(created_at AS VARCHAR), text, brand, channel FROM conversations";
    let (want, got) = (by_id(&truth, sql).await, by_id(&mapped, sql).await);
    assert_eq!(want.len(), got.len());
    let handle: HashMap<&str, &str> = BRANDS.iter().map(|b| (b.name, b.handle)).collect();
    let mut twitter_checked = 0;
    for (id, w) in &want {
        let g = &got[id];
        assert_eq!(
            w[..6],
            g[..6],
            "message {id}: thread, parent, is_brand, replies, time, text"
        );
        // The brand is recovered as its support account wherever the thread names it.
        if w[7] == "twitter" {
            assert_eq!(handle[w[6].as_str()], g[6], "brand of tweet {id}");
            twitter_checked += 1;
        }
    }
    assert!(twitter_checked > 500);
}
