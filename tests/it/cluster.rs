//! A Ballista cluster started from the binary (a scheduler and executors, separate
//! processes on 127.0.0.1) answers as the embedded engine does, and refuses work planned
//! with another scoring configuration.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use socialcx::cluster::ClusterDispatch;
use socialcx::generator::OutputLayout;
use socialcx::reports::Report;
use socialcx::server::ServerConfig;
use socialcx::{Engine, EngineConfig};

use crate::common::{cells, copy_dir, empty_lake, generate, ok, rounded, socialcx};

/// A role process of a test cluster and what it has logged so far.
struct Role {
    child: Child,
    /// What it logged, and a signal at each new line.
    log: Arc<(Mutex<String>, Condvar)>,
}

impl Role {
    /// Wait until the role has logged `needle`, and say whether it did within a minute.
    fn logged(&self, needle: &str) -> bool {
        let (log, line) = &*self.log;
        let (log, _) = line
            .wait_timeout_while(log.lock().unwrap(), Duration::from_secs(60), |log| {
                !log.contains(needle)
            })
            .unwrap();
        log.contains(needle)
    }

    /// Whether the role has logged `needle` yet.
    fn has_logged(&self, needle: &str) -> bool {
        self.log.0.lock().unwrap().contains(needle)
    }
}

/// The role processes of a test cluster, killed when it ends.
struct Cluster {
    url: String,
    scheduler: Role,
    executors: Vec<Role>,
}

impl Cluster {
    /// Wait until an executor logs `needle`, and say which did first (panics after a minute).
    fn first_executor_logging(&self, needle: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            for (i, executor) in self.executors.iter().enumerate() {
                let (log, line) = &*executor.log;
                let (log, _) = line
                    .wait_timeout_while(log.lock().unwrap(), Duration::from_millis(20), |log| {
                        !log.contains(needle)
                    })
                    .unwrap();
                if log.contains(needle) {
                    return i;
                }
            }
        }
        panic!("no executor logged {needle:?} within a minute");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for role in std::iter::once(&mut self.scheduler).chain(&mut self.executors) {
            let _ = role.child.kill();
            let _ = role.child.wait();
        }
    }
}

/// Start `socialcx ARGS` and wait for the first line it prints (its address, once set up).
/// What it logs is kept, and passed on to this test's output.
fn start_role(args: &[&str], env: &[(&str, String)]) -> (Role, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("SOCIALCX_LAKE")
        .env_remove("SOCIALCX_CLUSTER")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let log = Arc::new((Mutex::new(String::new()), Condvar::new()));
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("{line}");
            let mut log = kept.0.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
            kept.1.notify_all();
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        !line.is_empty(),
        "{args:?} ended without saying its address"
    );
    (Role { child, log }, line.trim().to_string())
}

/// How a test cluster's roles start.
#[derive(Default)]
struct Roles<'a> {
    /// The lake the executors read (`--lake`).
    lake: String,
    executors: usize,
    /// `--lexicon` for the scheduler, for the executors.
    scheduler_lexicon: Option<&'a Path>,
    executor_lexicon: Option<&'a Path>,
    /// The executors' environment (their credentials).
    executor_env: Vec<(&'a str, String)>,
    /// More options for the scheduler, for the executors.
    scheduler_options: Vec<&'a str>,
    executor_options: Vec<&'a str>,
}

/// A scheduler and executors as `roles` says.
fn start_cluster(roles: Roles) -> Cluster {
    let mut args = vec!["cluster", "scheduler", "--addr", "127.0.0.1:0"];
    args.extend(&roles.scheduler_options);
    if let Some(path) = roles.scheduler_lexicon {
        args.splice(0..0, ["--lexicon", path.to_str().unwrap()]);
    }
    let (scheduler, url) = start_role(&args, &[]);
    let mut cluster = Cluster {
        url,
        scheduler,
        executors: Vec::new(),
    };
    // The scheduler says its address before it listens: wait until it accepts.
    let addr = cluster.url.strip_prefix("df://").unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "the scheduler at {addr} never listened"
        );
        std::thread::yield_now();
    }
    for _ in 0..roles.executors {
        let mut args = vec!["--lake", &roles.lake];
        if let Some(path) = roles.executor_lexicon {
            args.extend(["--lexicon", path.to_str().unwrap()]);
        }
        args.extend([
            "cluster",
            "executor",
            "--scheduler",
            &cluster.url,
            "--addr",
            "127.0.0.1:0",
            "--slots",
            "2",
        ]);
        args.extend(&roles.executor_options);
        let (executor, _) = start_role(&args, &roles.executor_env);
        // Registered, so that clients see its slots.
        assert!(
            executor.logged("Executor registration succeed"),
            "an executor did not register"
        );
        cluster.executors.push(executor);
    }
    cluster
}

/// A cluster of `executors` executors over the local lake `lake`.
fn local_cluster(lake: &Path, executors: usize) -> Cluster {
    start_cluster(Roles {
        lake: lake.display().to_string(),
        executors,
        ..Roles::default()
    })
}

/// An engine of `config` whose queries run on the cluster at `url`.
async fn client_of(config: EngineConfig, url: &str) -> Engine {
    let dispatch = ClusterDispatch::new(url).unwrap();
    socialcx::open_with(config.with_dispatch(Arc::new(dispatch)))
        .await
        .unwrap()
}

/// An engine over the local lake `lake` whose queries run on the cluster at `url`.
async fn client(lake: &Path, url: &str) -> Engine {
    client_of(EngineConfig::new(lake.display().to_string()), url).await
}

/// A local lake in `dir` holding `rows` generated messages (from `seed`), ingested by the CLI.
fn ingested_lake(dir: &Path, rows: u64, seed: u64) -> PathBuf {
    let lake = empty_lake(dir);
    let input = generate(dir, "in.ndjson", rows, seed, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", input.to_str().unwrap()],
    ));
    lake
}

/// Every row of a query's result, as text, through the engine's one execution path.
async fn run(engine: &Engine, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let df = engine.sql(sql).await.map_err(|e| e.to_string())?;
    let batches = engine.collect(df).await.map_err(|e| e.to_string())?;
    Ok(rounded(cells(&batches)))
}

/// Each of `queries` answers the same rows on `distributed` as on `embedded`, and some.
async fn answer_alike(embedded: &Engine, distributed: &Engine, queries: &[&str]) {
    for sql in queries {
        let here = run(embedded, sql).await.unwrap();
        let there = run(distributed, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(!here.is_empty(), "{sql}");
        assert_eq!(here, there, "{sql}");
    }
}

/// Every row of `report` with `values`, as text, through the engine's one execution path.
async fn report_rows(
    engine: &Engine,
    report: &Report,
    values: &[(String, String)],
) -> Vec<Vec<String>> {
    let df = report.plan(engine, values).await.unwrap();
    rounded(cells(&engine.collect(df).await.unwrap()))
}

/// How many jobs the cluster at `url` has run or runs.
async fn jobs_of(url: &str) -> usize {
    socialcx::cluster::status::status(url)
        .await
        .unwrap()
        .jobs
        .len()
}

/// Every row of `table` as `engine` reads it, sorted, as text.
async fn table_rows(engine: &Engine, table: &str) -> Vec<Vec<String>> {
    let mut rows = run(engine, &format!("SELECT * FROM {table}"))
        .await
        .unwrap();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_answers_as_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_lake(dir.path(), 4000, 11);
    // A twin of the lake, for what jobs write.
    let twin = dir.path().join("twin");
    copy_dir(&lake, &twin);
    let cluster = local_cluster(&lake, 2);
    let embedded = socialcx::open_with(EngineConfig::new(lake.display().to_string()))
        .await
        .unwrap();
    let distributed = client(&lake, &cluster.url).await;
    // The client plans as many partitions as the cluster has slots (2 executors, 2 each),
    // not as many as its own cores.
    let partitions = |engine: &Engine| engine.context().state().config().target_partitions();
    assert_eq!(partitions(&distributed), 4);
    assert_eq!(
        partitions(
            &client_of(
                EngineConfig::new(lake.display().to_string()).with_target_partitions(3),
                &cluster.url
            )
            .await
        ),
        3,
        "an explicit setting wins"
    );
    let queries = [
        // The scoring functions, evaluated where the rows are.
        "SELECT channel, count(*) AS n, sum(sentiment(text)) AS s, avg(cx_sentiment(text)) AS c, \
                count(moment_of_truth(text)) AS staged \
         FROM conversations GROUP BY channel ORDER BY channel",
        "SELECT moment_of_truth(text) AS stage, count(*) AS n FROM conversations \
         GROUP BY 1 ORDER BY 1 NULLS FIRST",
        // The stored columns, a join across threads, a window.
        "SELECT r.brand, count(*) AS replies, sum(r.sentiment) AS s \
         FROM conversations r JOIN conversations p ON r.parent_id = p.conversation_id \
         WHERE p.is_brand = false GROUP BY r.brand ORDER BY r.brand",
        "SELECT conversation_id, rank() OVER (PARTITION BY brand ORDER BY likes DESC, conversation_id) AS k \
         FROM conversations ORDER BY conversation_id LIMIT 50",
        // The graph functions: their inputs read on the executors.
        "SELECT author_id, pagerank, in_degree, influence_percentile FROM author_influence() \
         ORDER BY pagerank DESC, author_id LIMIT 25",
        "SELECT thread_id, author_id, betweenness FROM thread_centrality() \
         ORDER BY thread_id, author_id LIMIT 40",
        // The client's catalog, alone and beside a lake table (read here, shipped as rows).
        "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY 1, 2",
        "SELECT c.channel, count(*) AS n, max(k.columns) AS columns FROM conversations c \
         CROSS JOIN (SELECT count(*) AS columns FROM information_schema.columns \
                     WHERE table_name = 'conversations') k GROUP BY c.channel ORDER BY 1",
    ];
    answer_alike(&embedded, &distributed, &queries).await;
    // The work ran on the executors, spread over both (the client has no executor).
    for (i, executor) in cluster.executors.iter().enumerate() {
        assert!(executor.logged("Finished task"), "executor {i} ran no task");
    }
    // The command line reaches it the same way.
    let out = ok(&socialcx(
        &lake,
        &[
            "--cluster",
            &cluster.url,
            "sql",
            "SELECT count(*) AS n FROM conversations WHERE sentiment(text) > 0.05",
        ],
    ));
    let expected = run(
        &embedded,
        "SELECT count(*) AS n FROM conversations WHERE sentiment(text) > 0.05",
    )
    .await
    .unwrap();
    assert!(out.contains(&expected[0][0]), "{out}");
    // `cluster status` lists both executors and the jobs, each completed.
    let out = ok(&socialcx(
        &lake,
        &["--cluster", &cluster.url, "cluster", "status", "--json"],
    ));
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status["executors"].as_array().unwrap().len(), 2, "{out}");
    let jobs = status["jobs"].as_array().unwrap();
    assert!(jobs.len() > queries.len(), "{out}");
    assert!(jobs.iter().all(|j| j["status"] == "Completed"), "{out}");
    let table = ok(&socialcx(
        &lake,
        &["--cluster", &cluster.url, "cluster", "status"],
    ));
    assert!(table.contains("2 executors"), "{table}");

    // A BI tool over Flight SQL reaches the cluster through the server.
    let before = jobs_of(&cluster.url).await;
    let server =
        crate::server::Running::start(client(&lake, &cluster.url).await, ServerConfig::default())
            .await;
    let mut flight = server.client().await;
    let sql = "SELECT brand, count(*) AS n, sum(cx_sentiment(text)) AS c \
               FROM conversations GROUP BY brand ORDER BY brand";
    let (_, batches) = crate::server::run(&mut flight, sql).await.unwrap();
    assert_eq!(rounded(cells(&batches)), run(&embedded, sql).await.unwrap());
    assert!(
        jobs_of(&cluster.url).await > before,
        "the server's query ran here"
    );
    server.stop().await;

    // A job's query runs there, and it lands what the embedded engine lands.
    let day = run(
        &embedded,
        "SELECT CAST(date AS VARCHAR) AS day FROM conversations WHERE NOT is_brand \
         GROUP BY date ORDER BY count(*) DESC, date LIMIT 1",
    )
    .await
    .unwrap()[0][0]
        .clone();
    let before = jobs_of(&cluster.url).await;
    for (lake, cluster) in [(&lake, Some(&cluster.url)), (&twin, None)] {
        let mut args = vec!["jobs", "run", "baseline_daily", "--as-of", &day];
        if let Some(url) = cluster {
            args.splice(0..0, ["--cluster", url.as_str()]);
        }
        ok(&socialcx(lake, &args));
    }
    assert!(
        jobs_of(&cluster.url).await > before,
        "the job's query ran here"
    );
    // What it landed, read by the executors, is what landed in the twin.
    let twin = socialcx::open(&twin.display().to_string()).await.unwrap();
    let landed = table_rows(&client(&lake, &cluster.url).await, "metrics.baseline_daily").await;
    assert!(!landed.is_empty());
    assert_eq!(landed, table_rows(&twin, "metrics.baseline_daily").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_read_an_s3_lake_with_their_own_credentials() {
    let s3 = crate::s3::S3::start(&["cx-lake"]);
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "in.ndjson", 3000, 17, OutputLayout::Ndjson);
    let lake = "s3://cx-lake/cluster";
    // The client reaches S3 directly, with options of its own.
    let config = || {
        let mut config = EngineConfig::new(lake);
        config.storage_options = crate::s3::S3::options(&s3.endpoint);
        config
    };
    let embedded = socialcx::open_with(config()).await.unwrap();
    let summary = crate::common::ingest(&embedded, &[input]).await;
    assert_eq!(summary.failed(), 0, "{summary}");
    // The executors through the counting proxy, with credentials from their environment;
    // the scheduler has none.
    let cluster = start_cluster(Roles {
        lake: lake.to_string(),
        executors: 2,
        executor_env: vec![
            ("AWS_ENDPOINT_URL", s3.proxy.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ],
        ..Roles::default()
    });
    let distributed = client_of(config(), &cluster.url).await;
    let read_before = s3.stats()["forwarded"].as_u64().unwrap();
    answer_alike(
        &embedded,
        &distributed,
        &[
        "SELECT brand, count(*) AS n, sum(sentiment(text)) AS s, sum(cx_sentiment) AS c \
         FROM conversations GROUP BY brand ORDER BY brand",
        "SELECT moment_of_truth(text) AS stage, count(*) AS n FROM conversations \
         GROUP BY 1 ORDER BY 1 NULLS FIRST",
        "SELECT count(*) AS n, count(DISTINCT reason) AS reasons FROM quarantine",
        "SELECT author_id, pagerank FROM author_influence() ORDER BY pagerank DESC, author_id LIMIT 10",
        "SELECT thread_id, author_id, betweenness FROM thread_centrality() \
         ORDER BY thread_id, author_id LIMIT 20",
        ],
    )
    .await;
    // Every shipped report, with its defaults and with a parameter.
    let brand = run(&embedded, "SELECT min(brand) FROM conversations")
        .await
        .unwrap()[0][0]
        .clone();
    let mut rows = 0;
    for report in socialcx::reports::shipped() {
        for values in [vec![], vec![("brand".to_string(), brand.clone())]] {
            let here = report_rows(&embedded, &report, &values).await;
            let there = report_rows(&distributed, &report, &values).await;
            rows += here.len();
            assert_eq!(here, there, "report {} with {values:?}", report.name);
        }
    }
    assert!(rows > 0);
    // The data came through the executors' endpoint: they read the lake, not the client.
    let read = s3.stats()["forwarded"].as_u64().unwrap() - read_before;
    assert!(read > 0, "the executors read nothing from S3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_scoring_otherwise_refuses_the_work_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_lake(dir.path(), 500, 12);
    let lexicon = dir.path().join("brand.toml");
    std::fs::write(&lexicon, "[words]\n\"glitchy\" = -2.0\n").unwrap();
    let cluster = start_cluster(Roles {
        lake: lake.display().to_string(),
        executors: 1,
        executor_lexicon: Some(&lexicon),
        ..Roles::default()
    });
    let distributed = client(&lake, &cluster.url).await;
    let err = run(
        &distributed,
        "SELECT sum(sentiment(text)) FROM conversations",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("sentiment() was planned with scoring configuration")
            && err.contains("--lexicon"),
        "{err}"
    );
    // A scheduler of the other configuration refuses the plan itself, as clearly.
    let other = start_cluster(Roles {
        lake: lake.display().to_string(),
        executors: 1,
        scheduler_lexicon: Some(&lexicon),
        executor_lexicon: Some(&lexicon),
        ..Roles::default()
    });
    let err = run(
        &client(&lake, &other.url).await,
        "SELECT max(cx_sentiment(text)) FROM conversations",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("cx_sentiment() was planned with scoring configuration"),
        "{err}"
    );
    assert!(!other.executors[0].has_logged("Execute task"));
    // What uses no scoring function still runs there, and answers as here.
    let embedded = socialcx::open(&lake.display().to_string()).await.unwrap();
    let sql = "SELECT count(*), sum(likes) FROM conversations WHERE likes >= 0";
    assert_eq!(
        run(&distributed, sql).await.unwrap(),
        run(&embedded, sql).await.unwrap()
    );
}

#[tokio::test]
async fn a_cluster_nobody_runs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    // A port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = socialcx(
        &lake,
        &[
            "--cluster",
            &format!("df://127.0.0.1:{port}"),
            "sql",
            "SELECT 1",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be reached"), "{err}");
    let out = socialcx(&lake, &["--cluster", "http://x:1", "sql", "SELECT 1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("df://HOST:PORT"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_killed_mid_query_leaves_the_cluster_answering() {
    const HEAVY: &str = "SELECT a.brand, count(*) AS pairs, \
         sum(sentiment(concat(a.text, ' ', b.text))) AS s \
         FROM conversations a JOIN conversations b ON a.brand = b.brand \
         GROUP BY a.brand ORDER BY a.brand";
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_lake(dir.path(), 6000, 13);
    // Heartbeats every second, an executor lost after three without one.
    let mut cluster = start_cluster(Roles {
        lake: lake.display().to_string(),
        executors: 2,
        scheduler_options: vec!["--executor-timeout", "3"],
        executor_options: vec!["--heartbeat", "1"],
        ..Roles::default()
    });
    let embedded = socialcx::open(&lake.display().to_string()).await.unwrap();
    let expected = run(&embedded, HEAVY).await.unwrap();
    let distributed = client(&lake, &cluster.url).await;
    let query = tokio::spawn(async move { run(&distributed, HEAVY).await });
    // The first executor to run a task of the query dies there.
    let victim = cluster.first_executor_logging("Execute task");
    let killed = &mut cluster.executors[victim].child;
    killed.kill().unwrap();
    killed.wait().unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(180), query)
        .await
        .expect("the query neither finished nor failed after its executor died")
        .unwrap();
    // Ballista runs the lost tasks again on the survivor, or the query fails saying so.
    match outcome {
        Ok(rows) => assert_eq!(rows, expected),
        Err(e) => assert!(e.contains("on the cluster at"), "{e}"),
    }
    // The next query runs on the surviving executor.
    let sql =
        "SELECT channel, count(*), sum(sentiment(text)) FROM conversations GROUP BY 1 ORDER BY 1";
    assert_eq!(
        run(&client(&lake, &cluster.url).await, sql).await.unwrap(),
        run(&embedded, sql).await.unwrap()
    );
}

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the test-hooks feature: bash tests/run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_without_our_functions_and_a_client_of_other_versions_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_lake(dir.path(), 300, 14);
    // An executor as a build without socialcx's functions would be.
    let cluster = start_cluster(Roles {
        lake: lake.display().to_string(),
        executors: 1,
        executor_env: vec![("SOCIALCX_TEST_EXECUTOR_WITHOUT_FUNCTIONS", "1".into())],
        ..Roles::default()
    });
    let distributed = client(&lake, &cluster.url).await;
    for (sql, function) in [
        (
            "SELECT sum(sentiment(text)) FROM conversations",
            "sentiment",
        ),
        (
            "SELECT max(influence(author_followers, likes, shares, replies)) FROM conversations",
            "influence",
        ),
    ] {
        let err = run(&distributed, sql).await.unwrap_err();
        assert!(
            err.contains(&format!("{function}() is not a function of this process")),
            "{err}"
        );
    }
    // DataFusion's own functions still run there, as here.
    let embedded = socialcx::open(&lake.display().to_string()).await.unwrap();
    let sql = "SELECT upper(min(brand)), sum(length(text)) FROM conversations";
    assert_eq!(
        run(&distributed, sql).await.unwrap(),
        run(&embedded, sql).await.unwrap()
    );
    // A client of other Ballista and DataFusion versions is told, before it submits.
    let before = jobs_of(&cluster.url).await;
    let out = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .args(["--lake", lake.to_str().unwrap(), "--cluster", &cluster.url])
        .args(["sql", "SELECT count(*) FROM conversations"])
        .env("SOCIALCX_TEST_CLAIMED_VERSIONS", "54.1.0/54.0.0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "runs Ballista {}",
            socialcx::cluster::status::Versions::ours().version
        )) && err.contains("built with Ballista 54.1.0 and DataFusion 54.0.0"),
        "{err}"
    );
    assert_eq!(jobs_of(&cluster.url).await, before);
}
