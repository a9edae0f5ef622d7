//! `socialcx compact`: the small files that ingests leave are merged, every answer stays the
//! same, a killed compaction leaves every answer whole, and a second run does nothing.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use socialcx::generator::GeneratorConfig;
use socialcx::ingest::compact::{CompactOptions, compact};

use crate::common::{
    at_commit_barrier, engine_in, generate_with, ingest, ok, rows, socialcx, wait_at_barrier,
};

/// Eight small ingests, ten files: three in January, three in March (20 days each, a file
/// per ingest spanning its days) and two of 20,000 messages on 1 May (a day's own file
/// each, and a file spanning the replies of the days after).
fn small_ingests(dir: &Path) -> Vec<PathBuf> {
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let mut inputs = Vec::new();
    for (i, (start, days, rows)) in [
        (day(1, 1), 20, 2_000),
        (day(1, 1), 20, 2_000),
        (day(1, 1), 20, 2_000),
        (day(3, 1), 20, 1_500),
        (day(3, 1), 20, 1_500),
        (day(3, 1), 20, 1_500),
        (day(5, 1), 1, 20_000),
        (day(5, 1), 1, 20_000),
    ]
    .into_iter()
    .enumerate()
    {
        inputs.push(generate_with(
            dir,
            &format!("{i}.ndjson"),
            GeneratorConfig {
                rows,
                seed: 70 + i as u64,
                start,
                days,
                ..Default::default()
            },
        ));
    }
    inputs
}

/// Answers that cover every row and column, and the days' pruning.
const EVERY_ROW: &str = "SELECT * FROM conversations ORDER BY conversation_id";
const ONE_DAY: &str = "SELECT channel, count(*), round(sum(cx_sentiment), 9), count(stage) \
                       FROM conversations WHERE date = DATE '2026-05-01' \
                       GROUP BY channel ORDER BY channel";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_merges_each_months_small_files_and_every_answer_stays() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    ingest(&engine, &small_ingests(dir.path())).await;
    let files = |s: &socialcx::lake::log::Snapshot| s.files("conversations").to_vec();
    let before = files(&engine.lake().snapshot().await.unwrap());
    assert_eq!(before.len(), 10, "{before:#?}");
    let every_row = rows(&engine, EVERY_ROW).await;
    let one_day = rows(&engine, ONE_DAY).await;
    assert_eq!(every_row.len(), 50_500);
    // What the lake's layout makes of each month's rows landed at once: May's first day in
    // its own directory, and each month's small days in one file.
    let first_of_may = NaiveDate::from_ymd_opt(2026, 5, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros();
    let may = |dir: &str| -> u64 {
        let starts = |f: &&socialcx::lake::log::DataFile| {
            f.path.contains(dir) && f.time_range.unwrap()[0] >= first_of_may
        };
        before.iter().filter(starts).map(|f| f.rows).sum()
    };
    let mut expected = vec![
        (
            "conversations/date=2026-05-01".to_string(),
            may("date=2026-05-01"),
        ),
        ("conversations/year=2026".to_string(), 6_000),
        ("conversations/year=2026".to_string(), 4_500),
        ("conversations/year=2026".to_string(), may("year=2026")),
    ];
    expected.sort();

    let summary = compact(&engine, &CompactOptions::default()).await.unwrap();
    let after = files(&engine.lake().snapshot().await.unwrap());
    assert_eq!(
        (
            summary.merged,
            summary.written,
            summary.commits,
            summary.files
        ),
        (10, 4, 3, 4),
        "{summary:?}"
    );
    let mut dirs: Vec<(String, u64)> = after
        .iter()
        .map(|f| (f.path.rsplit_once('/').unwrap().0.to_string(), f.rows))
        .collect();
    dirs.sort();
    assert_eq!(dirs, expected);
    assert_eq!(rows(&engine, EVERY_ROW).await, every_row);
    assert_eq!(rows(&engine, ONE_DAY).await, one_day);
    // The day's filter reads the day's file only.
    let explained = rows(&engine, &format!("EXPLAIN {ONE_DAY}")).await;
    let scan = format!("{explained:?}");
    assert!(
        scan.contains("date=2026-05-01") && !scan.contains("year=2026"),
        "{scan}"
    );

    // Nothing left to merge: a second run changes nothing.
    let again = compact(&engine, &CompactOptions::default()).await.unwrap();
    assert_eq!((again.merged, again.commits, again.files), (0, 0, 4));
    assert!(again.to_string().starts_with("nothing to do"), "{again}");
    assert_eq!(files(&engine.lake().snapshot().await.unwrap()), after);
}

/// `socialcx compact` on `lake`, waiting at each commit.
fn compact_at_barrier(lake: &Path, barrier: &Path) -> std::process::Child {
    at_commit_barrier(lake, barrier, &["compact", "--no-progress", "--no-graphs"])
}

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the commit barrier: cargo test --features test-hooks (bash tests/run)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compact_killed_between_months_leaves_every_answer_whole_and_a_rerun_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let engine = engine_in(dir.path()).await;
    ingest(&engine, &small_ingests(dir.path())).await;
    let every_row = rows(&engine, EVERY_ROW).await;
    let version = engine.lake().snapshot().await.unwrap().version;

    // Killed with its first month's file written, before the commit: nothing changed.
    let barrier = tempfile::tempdir().unwrap();
    let mut child = compact_at_barrier(&lake, barrier.path());
    wait_at_barrier(
        &barrier.path().join(format!("ready-{}", child.id())),
        &mut child,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let snapshot = engine.lake().snapshot().await.unwrap();
    assert_eq!(snapshot.version, version);
    assert_eq!(snapshot.files("conversations").len(), 10);
    assert_eq!(rows(&engine, EVERY_ROW).await, every_row);

    // Killed after January's commit, waiting at March's: January is one file, every row once.
    let barrier = tempfile::tempdir().unwrap();
    std::fs::write(barrier.path().join("go-0"), b"").unwrap();
    let mut child = compact_at_barrier(&lake, barrier.path());
    wait_at_barrier(
        &barrier.path().join(format!("ready-{}-1", child.id())),
        &mut child,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let snapshot = engine.lake().snapshot().await.unwrap();
    assert_eq!(snapshot.version, version + 1);
    assert_eq!(snapshot.files("conversations").len(), 8);
    assert_eq!(rows(&engine, EVERY_ROW).await, every_row);

    // The rerun finishes the job: the two months left.
    let out = ok(&socialcx(
        &lake,
        &["compact", "--no-progress", "--no-graphs"],
    ));
    assert!(
        out.starts_with("compacted 7 files (44500 rows) into 3 in 2 commits"),
        "{out}"
    );
    assert_eq!(rows(&engine, EVERY_ROW).await, every_row);
    let out = ok(&socialcx(
        &lake,
        &["compact", "--no-progress", "--no-graphs"],
    ));
    assert!(out.starts_with("nothing to do"), "{out}");
}
