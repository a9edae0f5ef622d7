//! The lake on a real S3-compatible server (moto, started per test by `tests/s3/server.py`
//! from the venv `tests/run` installs), with a proxy in front of it that throttles, fails
//! or denies on demand.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use socialcx::{Engine, EngineConfig};

use crate::common;

/// The Python of the test venv (tests/run creates it with moto[server] and boto3).
fn python() -> PathBuf {
    if let Some(py) = std::env::var_os("SOCIALCX_PYTHON") {
        return PathBuf::from(py);
    }
    let venv = std::env::var_os("SOCIALCX_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()))
                .join(".cache/socialcx-venv")
        });
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "no test venv at {}: run `bash tests/run`, which installs moto[server] there",
        venv.display()
    );
    py
}

/// The secret key the tests use (moto accepts any): it must never appear in a message.
const SECRET: &str = "s3cr3t-never-shown";

/// A moto S3 server and its fault-injecting proxy, stopped on drop.
pub(crate) struct S3 {
    child: Child,
    pub(crate) endpoint: String,
    pub(crate) proxy: String,
}

impl S3 {
    pub(crate) fn start(buckets: &[&str]) -> S3 {
        let mut cmd = Command::new(python());
        cmd.arg(common::repo().join("tests/s3/server.py"));
        for b in buckets {
            cmd.args(["--bucket", b]);
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("start tests/s3/server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            let stderr = std::fs::read_to_string(log.path()).unwrap_or_default();
            panic!("the S3 server did not start: {line:?}\n{stderr}")
        });
        S3 {
            endpoint: ready["endpoint"].as_str().unwrap().to_string(),
            proxy: ready["proxy"].as_str().unwrap().to_string(),
            child,
        }
    }

    /// Object-store options for a lake reached at `endpoint`.
    pub(crate) fn options(endpoint: &str) -> Vec<(String, String)> {
        [
            ("aws_endpoint", endpoint),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", SECRET),
            ("aws_region", "us-east-1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    async fn engine(&self, lake: &str, endpoint: &str) -> socialcx::Result<Engine> {
        let mut config = EngineConfig::new(lake).with_target_partitions(2);
        config.storage_options = Self::options(endpoint);
        socialcx::open_with(config).await
    }

    /// Set the proxy's behaviour (see tests/s3/server.py).
    fn faults(&self, mode: &str, n: u64) {
        http_get(&format!("{}/__faults?mode={mode}&n={n}", self.proxy));
    }

    pub(crate) fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&http_get(&format!("{}/__stats", self.proxy))).unwrap()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // the server exits when its stdin closes
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP GET (the proxy's control endpoints), without an HTTP client crate.
fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

use crate::common::generate_days as generate;

/// Answers that must be the same on any lake holding the same messages.
const QUERIES: &[&str] = &[
    "SELECT channel, count(*) AS n, sum(likes) AS likes FROM conversations GROUP BY channel ORDER BY channel",
    "SELECT brand, round(avg(sentiment(text)), 9) AS mood, count(DISTINCT author_id) AS authors \
     FROM conversations GROUP BY brand ORDER BY brand",
    "SELECT date, count(*) FROM conversations WHERE created_at >= '2026-01-10' AND created_at < '2026-01-20' \
     GROUP BY date ORDER BY date",
    "SELECT moment_of_truth(text) AS mot, count(*) FROM conversations GROUP BY mot ORDER BY mot NULLS FIRST",
    "SELECT stage, round(sum(cx_sentiment), 6) FROM conversations GROUP BY stage ORDER BY stage NULLS FIRST",
    "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY reason",
    "SELECT author_id, round(pagerank, 12) FROM author_influence() ORDER BY pagerank DESC, author_id LIMIT 20",
];

async fn answers(engine: &Engine) -> Vec<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for q in QUERIES {
        out.push(common::rows(engine, q).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_queries_on_s3_match_the_local_lake() {
    let s3 = S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    let data = generate(dir.path(), "a.ndjson", 20_000, 11, 30);
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"conversation_id\": \"x1\"}\nnot json\n{\"conversation_id\": \"x2\", \"created_at\": \"yesterday\"}\n",
    )
    .unwrap();

    let local = common::engine_in(dir.path()).await;
    let remote = s3
        .engine("s3://cx-lake/lakes/main", &s3.endpoint)
        .await
        .unwrap();
    for engine in [&local, &remote] {
        let summary = common::ingest(engine, &[data.clone(), bad.clone()]).await;
        assert_eq!(summary.failed(), 0, "{summary}");
    }
    assert_eq!(answers(&remote).await, answers(&local).await);
    assert_eq!(
        common::scalar(&remote, "SELECT count(*) FROM conversations").await,
        20_000
    );
    assert!(common::scalar(&remote, "SELECT count(*) FROM quarantine").await >= 3);

    // Idempotent: the same file again lands nothing.
    let again = common::ingest(&remote, std::slice::from_ref(&data)).await;
    assert_eq!(again.failed(), 0);
    assert_eq!(
        common::scalar(&remote, "SELECT count(*) FROM conversations").await,
        20_000
    );

    // A second engine over the same S3 lake sees the same data (nothing is local).
    let other = s3
        .engine("s3://cx-lake/lakes/main", &s3.endpoint)
        .await
        .unwrap();
    assert_eq!(answers(&other).await, answers(&local).await);
    // ... and reads the influence graph the first one stored on S3 (docs/lake.md, "Stored
    // results") instead of computing it.
    let plan = common::query(&other, "EXPLAIN SELECT * FROM author_influence()").await;
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string();
    assert!(
        plan.contains("stored result _results/author_influence/"),
        "{plan}"
    );
    // A different prefix is a different, empty lake.
    let empty = s3
        .engine("s3://cx-lake/lakes/other", &s3.endpoint)
        .await
        .unwrap();
    assert_eq!(
        common::scalar(&empty, "SELECT count(*) FROM conversations").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_go_up_in_parts_and_throttling_is_retried() {
    let s3 = S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    // One day of 400k messages, landed in one segment: a Parquet file above the 10 MB
    // multipart threshold.
    let data = generate(dir.path(), "big.ndjson", 400_000, 12, 1);
    s3.faults("throttle", 3);
    let engine = s3.engine("s3://cx-lake/big", &s3.proxy).await.unwrap();
    let options = socialcx::ingest::IngestOptions {
        segment_bytes: 1 << 30,
        ..Default::default()
    };
    let summary = socialcx::ingest::ingest_files(&engine, std::slice::from_ref(&data), &options)
        .await
        .unwrap();
    assert_eq!(summary.failed(), 0, "{summary}");
    let stats = s3.stats();
    assert!(stats["multipart_uploads"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        stats["injected"].as_u64().unwrap() >= 1,
        "throttled: {stats}"
    );

    s3.faults("pass", 0);
    let direct = s3.engine("s3://cx-lake/big", &s3.endpoint).await.unwrap();
    assert_eq!(
        common::scalar(&direct, "SELECT count(*) FROM conversations").await,
        400_000
    );
    let local = common::engine_in(dir.path()).await;
    common::ingest(&local, &[data]).await;
    assert_eq!(
        common::rows(&direct, QUERIES[0]).await,
        common::rows(&local, QUERIES[0]).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_failing_mid_ingest_leaves_nothing_visible_and_a_retry_lands_once() {
    let s3 = S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path(), "first.ndjson", 5_000, 13, 10);
    // Three busy days and a tail: four data files (small days would share one).
    let second = generate(dir.path(), "second.ndjson", 80_000, 14, 3);
    let direct = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    common::ingest(&direct, std::slice::from_ref(&first)).await;

    // The server accepts two writes of the second ingest, then fails every write.
    s3.faults("fail-after", 2);
    let flaky = s3.engine("s3://cx-lake/lake", &s3.proxy).await.unwrap();
    let result =
        socialcx::ingest::ingest_files(&flaky, std::slice::from_ref(&second), &Default::default())
            .await;
    match result {
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("s3://cx-lake/lake"), "{message}");
            assert!(message.contains("500 Internal Server Error"), "{message}");
            assert!(
                !message.contains("<?xml"),
                "no raw response bodies: {message}"
            );
        }
        Ok(summary) => assert_eq!(
            summary.failed(),
            1,
            "the ingest reports the failure: {summary}"
        ),
    }
    let stats = s3.stats();
    assert!(stats["injected"].as_u64().unwrap() >= 1, "{stats}");

    // Readers see the lake as it was: no file of the failed ingest is visible.
    let reader = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    assert_eq!(
        common::scalar(&reader, "SELECT count(*) FROM conversations").await,
        5_000
    );

    // Once the server recovers, the same file lands, exactly once.
    s3.faults("pass", 0);
    let summary = common::ingest(&flaky, std::slice::from_ref(&second)).await;
    assert_eq!(summary.failed(), 0, "{summary}");
    let reader = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    assert_eq!(
        common::scalar(&reader, "SELECT count(*) FROM conversations").await,
        85_000
    );
    assert_eq!(
        common::scalar(
            &reader,
            "SELECT count(*) - count(DISTINCT conversation_id) FROM conversations"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_problems_get_clear_errors_naming_the_lake() {
    let s3 = S3::start(&["cx-lake"]);

    let err = s3
        .engine("s3://missing-bucket/lake", &s3.endpoint)
        .await
        .map(|_| ());
    let err = match err {
        Err(e) => e.to_string(),
        Ok(()) => {
            let engine = s3
                .engine("s3://missing-bucket/lake", &s3.endpoint)
                .await
                .unwrap();
            engine
                .sql("SELECT count(*) FROM conversations")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap_err()
                .to_string()
        }
    };
    assert!(err.contains("s3://missing-bucket/lake"), "{err}");
    assert!(err.contains("bucket does not exist"), "{err}");

    s3.faults("deny", 0);
    let err = open_error(&s3, "s3://cx-lake/lake", &s3.proxy).await;
    assert!(
        err.contains("s3://cx-lake/lake") && err.contains("access denied"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "no credentials in messages: {err}");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let err = open_error(&s3, "s3://cx-lake/lake", &closed).await;
    assert!(err.contains("cannot reach the object store"), "{err}");

    let err = socialcx::open("s3:///lake").await.unwrap_err().to_string();
    assert!(err.contains("no bucket"), "{err}");
}

/// The error a first use of the lake gives (opening, or the first query).
async fn open_error(s3: &S3, lake: &str, endpoint: &str) -> String {
    match s3.engine(lake, endpoint).await {
        Err(e) => e.to_string(),
        Ok(engine) => match common::try_scalar(&engine, "SELECT count(*) FROM conversations").await
        {
            Err(e) => e,
            Ok(n) => panic!("expected an error, got {n}"),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_flight_server_work_on_s3() {
    let s3 = S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    let data = generate(dir.path(), "c.ndjson", 3_000, 15, 10);
    let bin = env!("CARGO_BIN_EXE_socialcx");
    let env = [
        ("AWS_ENDPOINT_URL", s3.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .envs(env)
            .output()
            .expect("socialcx runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "--lake",
        "s3://cx-lake/cli",
        "ingest",
        "--no-progress",
        data.to_str().unwrap(),
    ]);
    let out = run(&[
        "--lake",
        "s3://cx-lake/cli",
        "sql",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM conversations",
    ]);
    assert_eq!(out.trim(), "n\n3000");

    // The Flight SQL server over the same S3 lake.
    let engine = s3.engine("s3://cx-lake/cli", &s3.endpoint).await.unwrap();
    let server = socialcx::server::Server::bind(
        engine,
        socialcx::server::ServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = arrow_flight::sql::client::FlightSqlServiceClient::new(channel);
    let info = client
        .execute("SELECT count(*) AS n FROM conversations".into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let batches: Vec<_> =
        futures::TryStreamExt::try_collect::<Vec<_>>(client.do_get(ticket).await.unwrap())
            .await
            .unwrap();
    use datafusion::arrow::array::AsArray;
    assert_eq!(
        batches[0]
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            .value(0),
        3_000
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_on_s3_replace_partitions_atomically_and_keep_them_when_a_run_fails() {
    use socialcx::jobs::config::Jobs;
    use socialcx::jobs::{Trigger, run};
    let s3 = S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    let file = generate(dir.path(), "a.ndjson", 4_000, 15, 10);
    let direct = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    common::ingest(&direct, std::slice::from_ref(&file)).await;
    let jobs = Jobs::parse(
        "[[job]]\nname = \"daily\"\nreport = \"baseline\"\ntable = \"metrics.daily\"\n\
         schedule = \"0 6 * * *\"\nretries = 0\nlock_ttl_seconds = 2\n",
        "jobs.toml",
        None,
    )
    .unwrap();
    let job = &jobs.jobs[0];
    let as_of = "2026-01-05".parse().unwrap();
    let select = "SELECT brand, channel, stage, customer_posts FROM metrics.daily ORDER BY 1, 2, 3";
    assert!(
        run(&direct, job, as_of, Trigger::Run)
            .await
            .unwrap()
            .succeeded()
    );
    let first = common::rows(&direct, select).await;
    assert!(!first.is_empty());
    // A rerun replaces the partition: one file, the same rows.
    assert!(
        run(&direct, job, as_of, Trigger::Run)
            .await
            .unwrap()
            .succeeded()
    );
    assert_eq!(common::rows(&direct, select).await, first);
    let snapshot = direct.lake().snapshot().await.unwrap();
    assert_eq!(snapshot.files("metrics.daily").len(), 1);

    // More data for the day, then a run whose writes start failing after its data file.
    let more = generate(dir.path(), "b.ndjson", 4_000, 16, 10);
    common::ingest(&direct, std::slice::from_ref(&more)).await;
    s3.faults("fail-after", 2);
    let flaky = s3.engine("s3://cx-lake/lake", &s3.proxy).await.unwrap();
    let failed = run(&flaky, job, as_of, Trigger::Run).await;
    assert!(
        failed.as_ref().map(|o| !o.succeeded()).unwrap_or(true),
        "{failed:?}"
    );
    let reader = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    assert_eq!(
        common::rows(&reader, select).await,
        first,
        "the old partition, whole"
    );

    // The store recovers; once the failed run's lease is out, a run lands the new data.
    s3.faults("pass", 0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        run(&flaky, job, as_of, Trigger::Run)
            .await
            .unwrap()
            .succeeded()
    );
    let reader = s3.engine("s3://cx-lake/lake", &s3.endpoint).await.unwrap();
    let now = common::rows(&reader, select).await;
    assert_ne!(now, first);
    assert_eq!(
        common::scalar(&reader, "SELECT sum(customer_posts) FROM metrics.daily").await,
        common::scalar(
            &reader,
            "SELECT count(*) FROM conversations WHERE NOT is_brand AND date = DATE '2026-01-05'"
        )
        .await
    );
}
