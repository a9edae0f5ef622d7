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

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the test-hooks feature: bash tests/run"
)]
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

    // A rerun that waits at the commit barrier after writing its files, killed there.
    let barrier = tempfile::tempdir().unwrap();
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
        .env("SOCIALCX_TEST_COMMIT_BARRIER", barrier.path())
        .env_remove("SOCIALCX_LAKE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::read_dir(barrier.path()).unwrap().count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the rerun never reached its commit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let partition = lake.join("metrics/daily/as_of=2026-01-08");
    assert_eq!(
        std::fs::read_dir(&partition).unwrap().count(),
        2,
        "the rerun wrote its file beside the first run's"
    );
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
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // Data from yesterday to tomorrow (UTC), so that every firing's day has some, even
    // across midnight.
    let lake = dir.path().join("lake");
    let file = dir.path().join("now.ndjson");
    let config = socialcx::generator::GeneratorConfig {
        rows: 3_000,
        seed: 10,
        start: chrono::Utc::now().date_naive().pred_opt().unwrap(),
        days: 3,
        ..Default::default()
    };
    socialcx::generator::generate_file(&config, &file, &socialcx::progress::Silent).unwrap();
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    // Every two seconds (six-field cron), for the day the firing falls on.
    let jobs = dir.path().join("jobs.toml");
    std::fs::write(
        &jobs,
        "[[job]]\nname = \"often\"\nreport = \"channel_audit\"\ntable = \"metrics.often\"\n\
         schedule = \"*/2 * * * * *\"\nas_of = \"same_day\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
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
    // The scheduler's log, line by line: "next: often at T" before each firing, and
    // "often DAY: N rows into metrics.often, ..." after each run.
    let (lines, log) = std::sync::mpsc::channel::<String>();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let is_run = |l: &str| l.starts_with("often ") && l.contains(" rows into metrics.often");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.iter().filter(|l: &&String| is_run(l)).count() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("three runs never finished: {seen:#?}"),
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    reader.join().unwrap();
    seen.extend(log.try_iter());
    assert!(exit.success(), "{seen:#?}");
    assert!(seen.iter().any(|l| l == "scheduler stopped"), "{seen:#?}");

    // Firings on the schedule: whole even seconds, two seconds apart.
    let firings: Vec<chrono::DateTime<chrono::Utc>> = seen
        .iter()
        .filter_map(|l| l.strip_prefix("next: often at "))
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&chrono::Utc)
        })
        .collect();
    for f in &firings {
        assert_eq!(
            (f.timestamp() % 2, f.timestamp_subsec_nanos()),
            (0, 0),
            "{f}"
        );
    }
    for pair in firings.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            chrono::TimeDelta::seconds(2),
            "{firings:?}"
        );
    }
    // Each run covered the UTC day its firing fell on (same_day); the last firing
    // announced may not have come before the stop.
    let runs: Vec<String> = seen
        .iter()
        .filter(|l| is_run(l))
        .map(|l| l["often ".len()..].split(':').next().unwrap().to_string())
        .collect();
    assert!(
        firings.len() == runs.len() || firings.len() == runs.len() + 1,
        "{seen:#?}"
    );
    let expected_days: Vec<String> = firings[..runs.len()]
        .iter()
        .map(|f| f.date_naive().to_string())
        .collect();
    assert_eq!(runs, expected_days);
    // The lake recorded exactly those runs, one attempt each, as scheduled runs.
    let recorded = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT as_of, status, trigger, count(*) OVER (PARTITION BY run_id) AS attempts \
             FROM job_runs ORDER BY started",
            "--format",
            "csv",
        ],
    ));
    let expected: String = std::iter::once("as_of,status,trigger,attempts\n".to_string())
        .chain(runs.iter().map(|d| format!("{d},succeeded,schedule,1\n")))
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn a_run_for_a_day_without_data_says_so_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, jobs) = cli_lake(
        dir.path(),
        2_000,
        5,
        "[[job]]\nname = \"daily\"\nreport = \"baseline\"\ntable = \"metrics.daily\"\n\
         schedule = \"0 6 * * *\"\n",
    );
    let jobs = jobs.to_str().unwrap();
    let out = socialcx(
        &lake,
        &[
            "jobs",
            "--jobs",
            jobs,
            "run",
            "daily",
            "--as-of",
            "2030-01-08",
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("daily 2030-01-08: no data"), "{stdout}");
    let span = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT min(date) AS a, max(date) AS b FROM conversations",
            "--format",
            "csv",
        ],
    ));
    let span: Vec<&str> = span.lines().nth(1).unwrap().split(',').collect();
    assert!(
        stderr.contains(&format!("run from {} to {}", span[0], span[1])),
        "{stderr}"
    );
    assert!(
        !lake.join("metrics/daily/as_of=2030-01-08").exists(),
        "no partition for a day without data"
    );
    let runs = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT status, rows FROM job_runs",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(runs, "status,rows\nno_data,0\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_says_with_v_why_it_raised_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let file = generate(dir.path(), "a.ndjson", 40_000, 12, 20);
    common::ingest(&engine, &[file]).await;
    std::fs::write(
        dir.path().join("cells.sql"),
        "-- name: cells\n-- title: Brand x channel per day\n-- description: Customer posts and mean sentiment.\n\
         -- param: from timestamp null  start\n-- param: to timestamp null  end\n\
         SELECT brand, channel, count(*) AS customer_posts, avg(cx_sentiment) AS mean_sentiment \
         FROM conversations WHERE NOT is_brand AND created_at >= $from AND created_at < $to \
         GROUP BY brand, channel\n",
    )
    .unwrap();
    let jobs_file = dir.path().join("jobs.toml");
    std::fs::write(
        &jobs_file,
        "[[job]]\nname = \"cells\"\nsql = \"cells.sql\"\ntable = \"metrics.cells\"\nschedule = \"0 5 * * *\"\n\
         [job.alert]\nkeys = [\"brand\", \"channel\"]\nmetrics = [\"customer_posts\", \"mean_sentiment\"]\n\
         k = 3.0\nbaseline_days = 28\nmin_history = 7\nweight = \"customer_posts\"\nmin_weight = 20\n",
    )
    .unwrap();
    let jobs = Jobs::load(Some(&jobs_file)).unwrap();
    let job = &jobs.jobs[0];
    // Eight days of history, then the day judged against them.
    let mut d = day("2026-01-01");
    while d < day("2026-01-09") {
        let outcome = run(&engine, job, d, Trigger::Backfill).await.unwrap();
        assert!(outcome.succeeded(), "{d}: {:?}", outcome.error);
        d = d.succ_opt().unwrap();
    }
    let outcome = run(&engine, job, day("2026-01-09"), Trigger::Run)
        .await
        .unwrap();
    let checked = outcome.checked.clone().expect("the job has alerts");
    // Every cell of the result is accounted for, once.
    assert_eq!(checked.cells, outcome.rows);
    assert_eq!(
        checked.light
            + checked.new
            + checked.short
            + checked.flat
            + checked.within
            + checked.breached,
        checked.cells,
        "{checked:?}"
    );
    // The light cells are those the partition itself shows under min_weight.
    let light = common::scalar(
        &engine,
        "SELECT count(*) FROM metrics.cells WHERE as_of = DATE '2026-01-09' AND customer_posts < 20",
    )
    .await;
    assert_eq!(checked.light as i64, light);
    assert!(light > 0 && (light as usize) < checked.cells, "{checked:?}");
    let alerted: std::collections::HashSet<&str> =
        outcome.alerts.iter().map(|a| a.cell.as_str()).collect();
    assert_eq!(checked.breached, alerted.len());
    let (z, cell, _) = checked.largest.clone().expect("some cells were judged");
    if checked.breached == 0 {
        assert!(z.abs() < 3.0, "{z} with no alert");
    } else {
        assert!(alerted.contains(cell.as_str()), "{cell}");
    }

    // The command line says it with -v, and only then.
    let lake = dir.path().join("lake");
    let jobs_arg = jobs_file.to_str().unwrap();
    let args = [
        "jobs",
        "--jobs",
        jobs_arg,
        "run",
        "cells",
        "--as-of",
        "2026-01-09",
    ];
    let quiet = ok(&socialcx(&lake, &args));
    assert!(!quiet.contains("cells checked"), "{quiet}");
    let mut verbose_args = args.to_vec();
    verbose_args.push("-v");
    let verbose = ok(&socialcx(&lake, &verbose_args));
    let said = checked.describe();
    assert!(verbose.contains(&said), "{said:?} in {verbose}");
    assert!(
        said.contains(&format!(
            "{} cells checked, {light} below min_weight=20 (customer_posts)",
            checked.cells
        )),
        "{said}"
    );
    assert!(said.contains("largest |z|"), "{said}");
}
