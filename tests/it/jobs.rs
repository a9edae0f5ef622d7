//! Baseline metric jobs: results land as partitions of metrics tables, reruns replace them
//! whole, failures and kills leave the previous result, every attempt is recorded, backfills
//! cover every period, and alerts fire on a spike and not without it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use socialcx::jobs::config::Jobs;
use socialcx::jobs::{Trigger, run};
use socialcx::reports;

use crate::common::{self, generate_days as generate, ok, socialcx};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Rows of `metrics.baseline_daily` for one day, without the partition columns, sorted.
async fn partition(engine: &socialcx::Engine, as_of: &str) -> Vec<Vec<String>> {
    let mut rows = common::rows(
        engine,
        &format!("SELECT * FROM metrics.baseline_daily WHERE as_of = DATE '{as_of}'"),
    )
    .await;
    for r in &mut rows {
        r.drain(0..2);
    }
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_lands_the_report_and_a_rerun_replaces_its_partition() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = generate(dir.path(), "a.ndjson", 8_000, 3, 30);
    common::ingest(&engine, &[file]).await;
    let jobs = Jobs::shipped();
    let job = jobs.find("baseline_daily").unwrap();

    let outcome = run(&engine, job, day("2026-01-15"), Trigger::Run)
        .await
        .unwrap();
    assert!(outcome.succeeded(), "{:?}", outcome.error);
    assert!(outcome.rows > 20);
    // The partition is exactly the report for that day.
    let mut expected = common::rows(
        &engine,
        &reports::find("baseline")
            .unwrap()
            .bind(&[
                ("from".into(), "2026-01-15".into()),
                ("to".into(), "2026-01-16".into()),
            ])
            .unwrap(),
    )
    .await;
    expected.sort();
    let first = partition(&engine, "2026-01-15").await;
    assert_eq!(first, expected);
    assert_eq!(first.len(), outcome.rows);

    // A rerun: the same rows, once; both runs recorded.
    run(&engine, job, day("2026-01-15"), Trigger::Run)
        .await
        .unwrap();
    assert_eq!(partition(&engine, "2026-01-15").await, first);
    let files = engine.lake().snapshot().await.unwrap();
    assert_eq!(files.files("metrics.baseline_daily").len(), 1);
    assert_eq!(
        common::scalar(
            &engine,
            "SELECT count(*) FROM job_runs WHERE job = 'baseline_daily' AND status = 'succeeded' \
             AND as_of = DATE '2026-01-15'"
        )
        .await,
        2
    );

    // New conversations of that day, then a rerun: the partition follows the lake.
    let more = generate(dir.path(), "b.ndjson", 8_000, 4, 30);
    common::ingest(&engine, &[more]).await;
    run(&engine, job, day("2026-01-15"), Trigger::Run)
        .await
        .unwrap();
    let third = partition(&engine, "2026-01-15").await;
    assert_ne!(third, first);
    let posts =
        |rows: &[Vec<String>]| -> i64 { rows.iter().map(|r| r[4].parse::<i64>().unwrap()).sum() };
    assert_eq!(
        posts(&third),
        common::scalar(
            &engine,
            "SELECT count(*) FROM conversations WHERE NOT is_brand AND date = DATE '2026-01-15'"
        )
        .await
    );
    // Another day is another partition.
    run(&engine, job, day("2026-01-16"), Trigger::Run)
        .await
        .unwrap();
    assert_eq!(
        common::scalar(
            &engine,
            "SELECT count(DISTINCT as_of) FROM metrics.baseline_daily"
        )
        .await,
        2
    );
    // jobs list: the next firing and the last outcome.
    let listing =
        socialcx::cli::jobs::list(&engine, &jobs, "2026-02-01T07:00:00Z".parse().unwrap())
            .await
            .unwrap();
    assert!(
        listing.contains("next run  2026-02-02 06:15 UTC"),
        "{listing}"
    );
    assert!(listing.contains("for 2026-01-16: succeeded"), "{listing}");
    assert!(
        listing.contains("channel_audit_weekly") && listing.contains("last run  never"),
        "{listing}"
    );
}

/// A jobs file with one job over a query of our own that fails when `fail` is true.
fn failing_jobs(dir: &Path, fail: bool) -> Jobs {
    std::fs::write(
        dir.join("posts.sql"),
        "-- name: posts\n-- title: Posts per channel\n-- description: Customer posts per channel.\n\
         -- param: from timestamp null  start\n-- param: to timestamp null  end\n\
         -- param: fail bool false  make it fail\n\
         SELECT channel, count(*) AS posts, \
         sum(CASE WHEN $fail THEN CAST(text AS BIGINT) ELSE 0 END) AS boom \
         FROM conversations WHERE created_at >= $from AND created_at < $to GROUP BY channel\n",
    )
    .unwrap();
    let text = format!(
        "[[job]]\nname = \"posts\"\nsql = \"posts.sql\"\ntable = \"metrics.posts\"\n\
         schedule = \"0 5 * * *\"\nretries = 2\nretry_backoff_seconds = 0\n\
         params = {{ fail = {fail} }}\n"
    );
    let path = dir.join(format!("jobs-{fail}.toml"));
    std::fs::write(&path, text).unwrap();
    Jobs::load(Some(&path)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_recorded_and_keeps_the_previous_result() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = generate(dir.path(), "a.ndjson", 3_000, 5, 20);
    common::ingest(&engine, &[file]).await;
    let good = failing_jobs(dir.path(), false);
    let outcome = run(&engine, &good.jobs[0], day("2026-01-10"), Trigger::Run)
        .await
        .unwrap();
    assert!(outcome.succeeded());
    let before = common::rows(
        &engine,
        "SELECT channel, posts FROM metrics.posts ORDER BY channel",
    )
    .await;
    assert!(!before.is_empty());

    let bad = failing_jobs(dir.path(), true);
    let outcome = run(&engine, &bad.jobs[0], day("2026-01-10"), Trigger::Run)
        .await
        .unwrap();
    assert!(!outcome.succeeded());
    assert_eq!(outcome.attempts, 3);
    assert!(
        outcome.error.as_deref().unwrap().contains("Cannot cast"),
        "{:?}",
        outcome.error
    );
    assert_eq!(
        common::rows(
            &engine,
            "SELECT channel, posts FROM metrics.posts ORDER BY channel"
        )
        .await,
        before
    );
    let attempts = common::rows(
        &engine,
        "SELECT attempt, status, error IS NOT NULL FROM job_runs WHERE job = 'posts' \
         ORDER BY finished, attempt",
    )
    .await;
    let expected: Vec<Vec<String>> = [
        ["1", "succeeded", "false"],
        ["1", "failed", "true"],
        ["2", "failed", "true"],
        ["3", "failed", "true"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(attempts, expected);
}

/// A lake landed through the CLI with `rows` generated messages over 20 days, and a jobs
/// file holding `jobs`: (lake, jobs file).
fn cli_lake(
    dir: &Path,
    rows: u64,
    seed: u64,
    jobs: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let lake = dir.join("lake");
    let file = generate(dir, "a.ndjson", rows, seed, 20);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let path = dir.join("jobs.toml");
    std::fs::write(&path, jobs).unwrap();
    (lake, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_no_partial_partition_and_its_lock_expires() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, jobs) = cli_lake(
        dir.path(),
        5_000,
        6,
        "[[job]]\nname = \"daily\"\nreport = \"baseline\"\ntable = \"metrics.daily\"\n\
         schedule = \"0 6 * * *\"\nlock_ttl_seconds = 3\nretries = 0\n",
    );
    let jobs = jobs.to_str().unwrap();
    let run_daily = || {
        socialcx(
            &lake,
            &[
                "jobs",
                "--jobs",
                jobs,
                "run",
                "daily",
                "--as-of",
                "2026-01-08",
            ],
        )
    };
    let select = "SELECT brand, channel, stage, customer_posts FROM metrics.daily ORDER BY 1, 2, 3";
    ok(&run_daily());
    let before = ok(&socialcx(&lake, &["sql", select, "--format", "csv"]));
    // More data for that day, so that a finished rerun would change the partition.
    let more = generate(dir.path(), "b.ndjson", 5_000, 7, 20);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", more.to_str().unwrap()],
    ));

    // A rerun that pauses after writing its files and before committing, killed there.
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .args([
            "--lake",
            lake.to_str().unwrap(),
            "jobs",
            "--jobs",
            jobs,
            "run",
            "daily",
            "--as-of",
            "2026-01-08",
        ])
        .env("SOCIALCX_TEST_PAUSE_BEFORE_COMMIT_MS", "60000")
        .env_remove("SOCIALCX_LAKE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let partition_dir = lake.join("metrics/daily/as_of=2026-01-08");
    let written = |d: &Path| {
        std::fs::read_dir(d)
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while written(&partition_dir) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(written(&partition_dir), 2, "the rerun wrote its file");
    child.kill().unwrap();
    child.wait().unwrap();

    // Readers still see the first result, whole; the killed run recorded nothing.
    assert_eq!(
        ok(&socialcx(&lake, &["sql", select, "--format", "csv"])),
        before
    );
    let runs = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n FROM job_runs",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(runs, "n\n1\n");
    // Its lock is still held: a run now is refused, saying by whom and until when.
    let busy = run_daily();
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(
        stderr.contains("already running") && stderr.contains("until"),
        "{stderr}"
    );
    // Once the lease runs out, the next run takes over and succeeds.
    std::thread::sleep(Duration::from_secs(4));
    ok(&run_daily());
    let after = ok(&socialcx(&lake, &["sql", select, "--format", "csv"]));
    assert_ne!(after, before);
    let total = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT sum(customer_posts) AS n FROM metrics.daily",
            "--format",
            "csv",
        ],
    ));
    let posts = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n FROM conversations WHERE NOT is_brand AND date = DATE '2026-01-08'",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(total, posts);
}

#[test]
fn a_ninety_day_backfill_covers_every_day_once() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "a.ndjson", 20_000, 8, 90);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let out = ok(&socialcx(
        &lake,
        &[
            "jobs",
            "backfill",
            "baseline_daily",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--no-progress",
        ],
    ));
    assert!(
        out.contains("90 periods from 2026-01-01 to 2026-03-31, 0 failed"),
        "{out}"
    );
    let check = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT (SELECT count(DISTINCT as_of) FROM metrics.baseline_daily) AS days, \
                    (SELECT sum(customer_posts) FROM metrics.baseline_daily) AS posts, \
                    (SELECT count(*) FROM conversations WHERE NOT is_brand AND date <= DATE '2026-03-31') AS customer_posts, \
                    (SELECT count(*) FROM job_runs WHERE status = 'succeeded' AND trigger = 'backfill') AS runs, \
                    (SELECT count(*) FROM metrics.baseline_daily WHERE as_of <> day) AS misplaced",
            "--format",
            "csv",
        ],
    ));
    let values: Vec<&str> = check.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(values[0], "90");
    assert_eq!(values[1], values[2], "every customer post counted once");
    assert_eq!(values[3], "90");
    assert_eq!(values[4], "0");
}

/// A per-brand daily volume and sentiment query and a job alerting on it.
fn brand_jobs(dir: &Path) -> Jobs {
    std::fs::write(
        dir.join("brands.sql"),
        "-- name: brands\n-- title: Brands per day\n-- description: Customer posts and mean sentiment per brand.\n\
         -- param: from timestamp null  start\n-- param: to timestamp null  end\n\
         SELECT brand, count(*) AS customer_posts, avg(sentiment(text)) AS mean_sentiment \
         FROM conversations WHERE NOT is_brand AND created_at >= $from AND created_at < $to GROUP BY brand\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("jobs.toml"),
        "[[job]]\nname = \"brands\"\nsql = \"brands.sql\"\ntable = \"metrics.brands\"\nschedule = \"0 5 * * *\"\n\
         [job.alert]\nkeys = [\"brand\"]\nmetrics = [\"customer_posts\", \"mean_sentiment\"]\n\
         k = 5.0\nbaseline_days = 28\nmin_history = 21\nweight = \"customer_posts\"\nmin_weight = 20\n",
    )
    .unwrap();
    Jobs::load(Some(&dir.join("jobs.toml"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_on_an_injected_spike_and_not_on_the_data_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "a.ndjson", 40_000, 9, 60);
    let jobs = brand_jobs(dir.path());
    let job = &jobs.jobs[0];
    // 400 furious posts about Voltix on 20 February.
    let spike: Vec<String> = (0..400)
        .map(|i| {
            serde_json::json!({
                "conversation_id": format!("spike{i}"), "channel": "twitter", "brand": "Voltix",
                "author_id": format!("angry{i}"), "created_at": format!("2026-02-20T{:02}:{:02}:00Z", i % 24, i % 60),
                "text": "My order never arrived and nobody answers. Terrible, awful service!",
            })
            .to_string()
        })
        .collect();
    let spiked = dir.path().join("spike.ndjson");
    std::fs::write(&spiked, spike.join("\n") + "\n").unwrap();

    let mut found = Vec::new();
    for (name, files) in [
        ("plain", vec![file.clone()]),
        ("spiked", vec![file, spiked]),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let engine = common::engine_in(&sub).await;
        common::ingest(&engine, &files).await;
        let mut d = day("2026-01-01");
        while d <= day("2026-02-24") {
            let outcome = run(&engine, job, d, Trigger::Backfill).await.unwrap();
            assert!(outcome.succeeded(), "{d}: {:?}", outcome.error);
            d = d.succ_opt().unwrap();
        }
        found.push(
            common::rows(
                &engine,
                "SELECT as_of, cell, metric, direction FROM alerts ORDER BY as_of, cell, metric",
            )
            .await,
        );
    }
    assert_eq!(
        found[0],
        Vec::<Vec<String>>::new(),
        "alerts without a spike"
    );
    let expected: Vec<Vec<String>> = [
        ["2026-02-20", "brand=Voltix", "customer_posts", "above"],
        ["2026-02-20", "brand=Voltix", "mean_sentiment", "below"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(found[1], expected);
}

#[test]
fn the_scheduler_fires_jobs_on_time_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Every two seconds (six-field cron), for the day the firing falls on.
    let (lake, jobs) = cli_lake(
        dir.path(),
        2_000,
        10,
        "[[job]]\nname = \"often\"\nreport = \"channel_audit\"\ntable = \"metrics.often\"\n\
         schedule = \"*/2 * * * * *\"\nas_of = \"same_day\"\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .args([
            "--lake",
            lake.to_str().unwrap(),
            "jobs",
            "--jobs",
            jobs.to_str().unwrap(),
            "schedule",
        ])
        .env_remove("SOCIALCX_LAKE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(7));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("scheduler stopped"), "{stderr}");
    let runs = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT run_id) AS runs, min(status) AS status, \
             min(trigger) AS trigger, count(DISTINCT as_of) AS days FROM job_runs",
            "--format",
            "csv",
        ],
    ));
    let row: Vec<&str> = runs.lines().nth(1).unwrap().split(',').collect();
    let n: i64 = row[0].parse().unwrap();
    assert!((2..=4).contains(&n), "{runs}\n{stderr}");
    assert_eq!(row[1], row[0], "one attempt per firing");
    assert_eq!(&row[2..], ["succeeded", "schedule", "1"]);
    // Each firing covered the day it fell on (same_day), in UTC.
    let today = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n FROM job_runs WHERE as_of = current_date()",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(today, format!("n\n{n}\n"));
}
