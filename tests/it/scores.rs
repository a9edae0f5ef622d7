//! Stored scores: ingest stores `sentiment`, `cx_sentiment`, `stage` and `stages`; every answer
//! is the current configuration's (computed from `text` for files another configuration
//! scored); `enrich` stores them again, atomically, resumably.

use std::path::{Path, PathBuf};

use socialcx::EngineConfig;
use socialcx::ingest::enrich::{EnrichOptions, enrich};
use socialcx::lake::table::DerivedColumns;

use crate::common::*;

/// Rows whose stored score differs from the function's, per column (all must be 0).
const MISMATCHES: &str = "SELECT count(*) AS n,
    sum(CASE WHEN sentiment IS NOT DISTINCT FROM sentiment(text) THEN 0 ELSE 1 END) AS sentiment,
    sum(CASE WHEN cx_sentiment IS NOT DISTINCT FROM cx_sentiment(text) THEN 0 ELSE 1 END) AS cx,
    sum(CASE WHEN stage IS NOT DISTINCT FROM moment_of_truth(text) THEN 0 ELSE 1 END) AS stage,
    sum(CASE WHEN stages IS NOT DISTINCT FROM moments_of_truth(text) THEN 0 ELSE 1 END) AS stages
  FROM conversations";

async fn mismatches(engine: &socialcx::Engine) -> Vec<String> {
    rows(engine, MISMATCHES).await.remove(0)
}

/// The physical plan of `sql`, as text.
async fn plan(engine: &socialcx::Engine, sql: &str) -> String {
    rows(engine, &format!("EXPLAIN {sql}"))
        .await
        .into_iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A domain lexicon and a taxonomy that change many scores of generated posts.
fn custom_config(dir: &Path, lake: &Path) -> EngineConfig {
    let lexicon = dir.join("lexicon.toml");
    std::fs::write(
        &lexicon,
        "[words]\nhelp = -2.5\nthanks = -1.5\norder = 1.5\n",
    )
    .unwrap();
    let taxonomy = dir.join("taxonomy.toml");
    std::fs::write(&taxonomy, "threshold = 2.5\n").unwrap();
    EngineConfig::new(lake.display().to_string())
        .with_target_partitions(2)
        .with_lexicon(lexicon)
        .with_taxonomy(taxonomy)
}

async fn open(config: EngineConfig) -> socialcx::Engine {
    socialcx::open_with(config).await.expect("engine opens")
}

#[tokio::test]
async fn stored_scores_equal_the_functions_on_every_row_and_are_read_not_computed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let file = generate_days(dir.path(), "a.ndjson", 6_000, 3, 120);
    ingest(&engine, &[file, sample("conversations.ndjson")]).await;
    let files = engine.lake().snapshot().await.unwrap();
    let files = files.files("conversations");
    assert!(files.len() >= 2, "several files: {}", files.len());
    let fingerprint = engine.scoring().fingerprint();
    assert!(
        files
            .iter()
            .all(|f| f.fingerprint.as_deref() == Some(fingerprint))
    );
    assert_eq!(mismatches(&engine).await, ["9000", "0", "0", "0", "0"]);
    // Stored scores are not all null (a null column would equal a null function only
    // where the function is null).
    let scored = scalar(
        &engine,
        "SELECT count(*) FROM conversations WHERE sentiment IS NOT NULL AND cx_sentiment IS NOT NULL",
    )
    .await;
    assert_eq!(scored, 9000);
    let explained = plan(
        &engine,
        "SELECT avg(sentiment), count(stage) FROM conversations",
    )
    .await;
    assert!(!explained.contains("sentiment(text"), "{explained}");
    assert!(!explained.contains("moment_of_truth("), "{explained}");
}

/// Ingest scores a segment's rows as they are parsed, before duplicates are dropped: every
/// row that lands still gets its own text's scores when rows before it were dropped as
/// repeated in the segment, landed by an earlier segment or already in the lake.
#[tokio::test]
async fn each_row_lands_with_its_own_scores_when_duplicates_are_dropped_around_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let generated = generate_days(dir.path(), "all.ndjson", 3_000, 17, 30);
    let text = std::fs::read_to_string(&generated).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first = dir.path().join("first.ndjson");
    std::fs::write(&first, lines[..1_000].join("\n")).unwrap();
    ingest(&engine, &[first]).await;
    // Lines the lake holds, then new ones with some repeated at once (the same segment)
    // and some repeated at the end (a later segment).
    let mut second: Vec<&str> = lines[500..1_000].to_vec();
    for (i, line) in lines.iter().enumerate().skip(1_000) {
        second.push(line);
        if i % 7 == 0 {
            second.push(line);
        }
    }
    second.extend(&lines[1_000..1_200]);
    let path = dir.path().join("second.ndjson");
    std::fs::write(&path, second.join("\n")).unwrap();
    let options = socialcx::ingest::IngestOptions {
        segment_bytes: 32 << 10,
        ..Default::default()
    };
    let summary = socialcx::ingest::ingest_files(&engine, &[path], &options)
        .await
        .unwrap();
    assert_eq!(summary.landed(), 2_000);
    assert_eq!(summary.duplicates() as usize, second.len() - 2_000);
    assert_eq!(mismatches(&engine).await, ["3000", "0", "0", "0", "0"]);
}

#[tokio::test]
async fn another_configuration_is_answered_on_the_fly_until_enrich_stores_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let shipped = engine_in(dir.path()).await;
    let first = generate_days(dir.path(), "a.ndjson", 4_000, 5, 90);
    ingest(&shipped, &[first]).await;
    let custom = open(custom_config(dir.path(), &lake)).await;
    assert_ne!(
        custom.scoring().fingerprint(),
        shipped.scoring().fingerprint()
    );
    // The configuration matters: the two engines disagree on many rows...
    let differ = |e: &socialcx::Engine| {
        let e = e.clone();
        async move {
            rows(
                &e,
                "SELECT conversation_id, sentiment, stage FROM conversations ORDER BY 1",
            )
            .await
        }
    };
    let (a, b) = (differ(&shipped).await, differ(&custom).await);
    let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(changed > 400, "only {changed} rows differ");
    // ...and each answers with its own configuration, the custom one computing from text.
    assert_eq!(mismatches(&custom).await, ["4000", "0", "0", "0", "0"]);
    let sql = "SELECT avg(sentiment), count(stage) FROM conversations";
    let explained = plan(&custom, sql).await;
    assert!(explained.contains("sentiment(text@"), "{explained}");
    let before = rows(&custom, sql).await;

    let done = enrich(&custom, &EnrichOptions::default()).await.unwrap();
    let snapshot = custom.lake().snapshot().await.unwrap();
    let enriched: Vec<String> = snapshot
        .files("conversations")
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(done.files, enriched.len());
    assert_eq!(done.rows, 4000);
    assert_eq!(rows(&custom, sql).await, before);
    assert_eq!(mismatches(&custom).await, ["4000", "0", "0", "0", "0"]);
    let explained = plan(&custom, sql).await;
    assert!(!explained.contains("sentiment(text"), "{explained}");
    // The shipped engine now computes its own scores for every file.
    assert_eq!(mismatches(&shipped).await, ["4000", "0", "0", "0", "0"]);
    assert_eq!(differ(&shipped).await, a);
    // Nothing more to do; then only the files another configuration wrote are rewritten.
    assert_eq!(
        enrich(&custom, &EnrichOptions::default())
            .await
            .unwrap()
            .files,
        0
    );
    let second = generate_days(dir.path(), "b.ndjson", 500, 6, 10);
    ingest(&shipped, &[second]).await;
    let snapshot = custom.lake().snapshot().await.unwrap();
    let new_files = snapshot.files("conversations").len() - enriched.len();
    let again = enrich(&custom, &EnrichOptions::default()).await.unwrap();
    assert_eq!((again.files, again.current), (new_files, enriched.len()));
    let snapshot = custom.lake().snapshot().await.unwrap();
    for path in &enriched {
        assert!(
            snapshot
                .files("conversations")
                .iter()
                .any(|f| &f.path == path),
            "{path} was rewritten again"
        );
    }
    assert_eq!(mismatches(&custom).await, ["4500", "0", "0", "0", "0"]);
}

/// A copy of the lake the previous layout wrote (no score columns, no fingerprints):
/// `datasets/sample/conversations.ndjson` and `broken_lines.ndjson`, ingested by the build
/// before scores were stored.
fn old_lake(dir: &Path) -> PathBuf {
    let to = dir.join("old-lake");
    copy_dir(&repo().join("tests/fixtures/lake-v1"), &to);
    to
}

/// Every shipped report with its defaults, as CSV, on `lake`; decimals to 9 significant
/// digits (parallel sums add in any order).
fn reports(lake: &Path) -> Vec<String> {
    let round = |csv: String| -> String {
        let mut out = String::new();
        let mut cell = String::new();
        let flush = |cell: &mut String, out: &mut String| {
            match cell.parse::<f64>() {
                Ok(f) if cell.contains('.') => out.push_str(&format!("{f:.8e}")),
                _ => out.push_str(cell),
            }
            cell.clear();
        };
        for c in csv.chars() {
            if c == ',' || c == '\n' {
                flush(&mut cell, &mut out);
                out.push(c);
            } else {
                cell.push(c);
            }
        }
        flush(&mut cell, &mut out);
        out
    };
    report_files()
        .iter()
        .map(|r| round(ok(&socialcx(lake, &["report", &r.name, "--format", "csv"]))))
        .collect()
}

#[tokio::test]
async fn a_lake_from_before_stored_scores_answers_as_a_new_one_and_enrich_upgrades_it() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_lake(dir.path());
    let engine = open(EngineConfig::new(old.display().to_string())).await;
    let snapshot = engine.lake().snapshot().await.unwrap();
    assert!(
        snapshot
            .files("conversations")
            .iter()
            .all(|f| f.fingerprint.is_none())
    );
    assert_eq!(mismatches(&engine).await, ["3002", "0", "0", "0", "0"]);
    // Replies whose parent the lake holds: without the parent's author stored, and with it.
    const PARENTS: &str = "SELECT count(*) FILTER (WHERE c.parent_author_id IS NULL), \
                                  count(*) FILTER (WHERE c.parent_author_id = p.author_id) \
                           FROM conversations c JOIN conversations p \
                             ON c.parent_id = p.conversation_id";
    let before = rows(&engine, PARENTS).await.remove(0);
    assert_ne!(before[0], "0");
    assert_eq!(before[1], "0");
    // The same inputs landed by this build: the same reports.
    let fresh = dir.path().join("fresh");
    ok(&socialcx(
        &fresh,
        &[
            "ingest",
            "--no-progress",
            sample("conversations.ndjson").to_str().unwrap(),
            sample("broken_lines.ndjson").to_str().unwrap(),
        ],
    ));
    let expected = reports(&fresh);
    assert_eq!(reports(&old), expected);

    let out = ok(&socialcx(&old, &["enrich", "--no-progress"]));
    assert!(out.contains("enriched 2 files (3002 rows)"), "{out}");
    // ... and computed the reports' influence graphs over the new files, which the reports
    // then read.
    assert!(
        out.contains("influencers: author_influence computed and stored"),
        "{out}"
    );
    assert_eq!(reports(&old), expected);
    let engine = open(EngineConfig::new(old.display().to_string())).await;
    assert_eq!(mismatches(&engine).await, ["3002", "0", "0", "0", "0"]);
    // enrich stored every parent's author.
    assert_eq!(rows(&engine, PARENTS).await[0], ["0", before[0].as_str()]);
    let explained = plan(&engine, "SELECT avg(cx_sentiment) FROM conversations").await;
    assert!(!explained.contains("cx_sentiment(text"), "{explained}");
    let again = ok(&socialcx(&old, &["enrich", "--no-progress"]));
    assert!(again.contains("nothing to do"), "{again}");
    assert!(
        again.contains("influencers: author_influence already stored"),
        "{again}"
    );
}

#[test]
fn enrich_says_when_a_graph_cannot_be_stored_and_the_reports_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let sample = sample("conversations.ndjson");
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", sample.to_str().unwrap()],
    ));
    let expected = ok(&socialcx(
        &lake,
        &["report", "influencers", "--format", "csv"],
    ));
    // Where the results go is a file: nothing can be stored under it.
    std::fs::remove_dir_all(lake.join("_results")).ok();
    std::fs::write(lake.join("_results"), "not a directory").unwrap();
    let out = socialcx(&lake, &["enrich", "--no-progress"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("influencers: influence graph not stored: author_influence was computed but could not be stored"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("computed and stored"),
        "{out:?}"
    );
    // The reports compute the graph instead, with the same answer.
    let again = ok(&socialcx(
        &lake,
        &["report", "influencers", "--format", "csv"],
    ));
    assert_eq!(again, expected);
}

/// `socialcx enrich` on `lake`, one file per commit, waiting at each commit.
fn enrich_at_barrier(lake: &Path, barrier: &Path, args: &[&str]) -> std::process::Child {
    let enrich = ["enrich", "--no-progress", "--files-per-commit", "1"];
    at_commit_barrier(lake, barrier, &[args, &enrich[..]].concat())
}

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the commit barrier: cargo test --features test-hooks (bash tests/run)"
)]
#[tokio::test]
async fn enrich_killed_between_commits_leaves_every_answer_whole_and_a_rerun_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let shipped = engine_in(dir.path()).await;
    // Several inputs: several files to enrich, one per commit.
    let inputs: Vec<PathBuf> = (0..5)
        .map(|i| generate_days(dir.path(), &format!("{i}.ndjson"), 800, 10 + i, 30))
        .collect();
    ingest(&shipped, &inputs).await;
    let files = shipped.lake().snapshot().await.unwrap();
    let total_files = files.files("conversations").len();
    assert!(total_files >= 5, "{total_files} files");
    let config = custom_config(dir.path(), &lake);
    let lexicon = config.lexicon.clone().unwrap();
    let taxonomy = config.taxonomy.clone().unwrap();
    let custom_args = [
        "--lexicon",
        lexicon.to_str().unwrap(),
        "--taxonomy",
        taxonomy.to_str().unwrap(),
    ];
    let custom = open(config).await;
    let answer = "SELECT brand, count(*), round(sum(sentiment), 9), count(stage), \
                  count(DISTINCT conversation_id) FROM conversations GROUP BY brand ORDER BY brand";
    let expected = rows(&custom, answer).await;

    // Killed with its first file written, before any commit: nothing changed.
    let barrier = tempfile::tempdir().unwrap();
    let mut child = enrich_at_barrier(&lake, barrier.path(), &custom_args);
    wait_at_barrier(
        &barrier.path().join(format!("ready-{}", child.id())),
        &mut child,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let version = custom.lake().snapshot().await.unwrap().version;
    assert_eq!(version, shipped.lake().snapshot().await.unwrap().version);
    assert_eq!(rows(&custom, answer).await, expected);

    // Killed after two commits, waiting at its third.
    let barrier = tempfile::tempdir().unwrap();
    std::fs::write(barrier.path().join("go-0"), b"").unwrap();
    std::fs::write(barrier.path().join("go-1"), b"").unwrap();
    let mut child = enrich_at_barrier(&lake, barrier.path(), &custom_args);
    wait_at_barrier(
        &barrier.path().join(format!("ready-{}-2", child.id())),
        &mut child,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let snapshot = custom.lake().snapshot().await.unwrap();
    assert_eq!(snapshot.version, version + 2);
    let fingerprint = custom.scoring().fingerprint();
    let current = |s: &socialcx::lake::log::Snapshot| {
        s.files("conversations")
            .iter()
            .filter(|f| f.fingerprint.as_deref() == Some(fingerprint))
            .count()
    };
    assert_eq!(current(&snapshot), 2);
    assert_eq!(snapshot.files("conversations").len(), total_files);
    // Both engines answer whole: every row once, scores of their own configuration.
    assert_eq!(rows(&custom, answer).await, expected);
    assert_eq!(mismatches(&custom).await, ["4000", "0", "0", "0", "0"]);
    assert_eq!(mismatches(&shipped).await, ["4000", "0", "0", "0", "0"]);

    // The rerun finishes the job: only the files left, each row landed once.
    let out = ok(&socialcx(
        &lake,
        &[&custom_args[..], &["enrich", "--no-progress"]].concat(),
    ));
    assert!(
        out.contains(&format!("enriched {} files", total_files - 2)),
        "{out}"
    );
    let snapshot = custom.lake().snapshot().await.unwrap();
    assert_eq!(current(&snapshot), total_files);
    assert_eq!(rows(&custom, answer).await, expected);
    let explained = plan(&custom, "SELECT avg(sentiment) FROM conversations").await;
    assert!(!explained.contains("sentiment(text"), "{explained}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_clients_get_the_servers_configuration_stored_or_computed() {
    use crate::server::{Running, run};
    use datafusion::arrow::util::display::array_value_to_string;
    use socialcx::server::ServerConfig;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let shipped = engine_in(dir.path()).await;
    let file = generate_days(dir.path(), "a.ndjson", 1_500, 9, 30);
    ingest(&shipped, &[file]).await;
    let stored = "SELECT conversation_id, sentiment, cx_sentiment, stage, stages \
                  FROM conversations ORDER BY conversation_id";
    let computed = "SELECT conversation_id, sentiment(text), cx_sentiment(text), \
                    moment_of_truth(text), moments_of_truth(text) \
                    FROM conversations ORDER BY conversation_id";
    let mut answers = Vec::new();
    for engine in [shipped, open(custom_config(dir.path(), &lake)).await] {
        let server = Running::start(engine, ServerConfig::default()).await;
        let mut client = server.client().await;
        let mut cells = Vec::new();
        for sql in [stored, computed] {
            let (_, batches) = run(&mut client, sql).await.unwrap();
            let mut text: Vec<Vec<String>> = Vec::new();
            for b in &batches {
                for i in 0..b.num_rows() {
                    text.push(
                        b.columns()
                            .iter()
                            .map(|c| array_value_to_string(c, i).unwrap())
                            .collect(),
                    );
                }
            }
            cells.push(text);
        }
        assert_eq!(cells[0].len(), 1_500);
        assert_eq!(
            cells[0], cells[1],
            "stored columns = the functions, over the wire"
        );
        answers.push(cells.remove(0));
        server.stop().await;
    }
    // The custom server answered with its own configuration, not the stored one.
    let changed = answers[0]
        .iter()
        .zip(&answers[1])
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 100, "only {changed} rows differ");
}
