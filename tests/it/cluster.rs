//! A Ballista cluster started from the binary (a scheduler and executors, separate
//! processes on 127.0.0.1) answers as the embedded engine does, and refuses work planned
//! with another scoring configuration.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use socialcx::cluster::ClusterDispatch;
use socialcx::generator::OutputLayout;
use socialcx::{Engine, EngineConfig};

use crate::common::{cells, empty_lake, generate, ok, rounded, socialcx};

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
fn start_role(args: &[&str]) -> (Role, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .args(args)
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

/// A scheduler and `executors` executors over `lake`, each role started with `lexicon`
/// when it is given for it.
fn start_cluster(
    lake: &Path,
    executors: usize,
    scheduler_lexicon: Option<&Path>,
    executor_lexicon: Option<&Path>,
) -> Cluster {
    let mut args = vec!["cluster", "scheduler", "--addr", "127.0.0.1:0"];
    if let Some(path) = scheduler_lexicon {
        args.splice(0..0, ["--lexicon", path.to_str().unwrap()]);
    }
    let (scheduler, url) = start_role(&args);
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
    let lake = lake.display().to_string();
    for _ in 0..executors {
        let mut args = vec!["--lake", &lake];
        if let Some(path) = executor_lexicon {
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
        let (executor, _) = start_role(&args);
        cluster.executors.push(executor);
    }
    cluster
}

/// An engine over `lake` whose queries run on the cluster at `url`.
async fn client(lake: &Path, url: &str) -> Engine {
    let dispatch = ClusterDispatch::new(url).unwrap();
    socialcx::open_with(
        EngineConfig::new(lake.display().to_string()).with_dispatch(Arc::new(dispatch)),
    )
    .await
    .unwrap()
}

/// Every row of a query's result, as text, through the engine's one execution path.
async fn run(engine: &Engine, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let df = engine.sql(sql).await.map_err(|e| e.to_string())?;
    let batches = engine.collect(df).await.map_err(|e| e.to_string())?;
    Ok(rounded(cells(&batches)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_answers_as_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    let input = generate(dir.path(), "in.ndjson", 4000, 11, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", input.to_str().unwrap()],
    ));
    let cluster = start_cluster(&lake, 2, None, None);
    let embedded = socialcx::open_with(EngineConfig::new(lake.display().to_string()))
        .await
        .unwrap();
    let distributed = client(&lake, &cluster.url).await;
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
    ];
    for sql in queries {
        let here = run(&embedded, sql).await.unwrap();
        let there = run(&distributed, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(!here.is_empty(), "{sql}");
        assert_eq!(here, there, "{sql}");
    }
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_scoring_otherwise_refuses_the_work_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    let input = generate(dir.path(), "in.ndjson", 500, 12, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", input.to_str().unwrap()],
    ));
    let lexicon = dir.path().join("brand.toml");
    std::fs::write(&lexicon, "[words]\n\"glitchy\" = -2.0\n").unwrap();
    let cluster = start_cluster(&lake, 1, None, Some(&lexicon));
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
    let other = start_cluster(&lake, 1, Some(&lexicon), Some(&lexicon));
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
