//! What an adversarial client or a heavy workload must not do to the server: crash it with
//! crafted bytes, freeze it with heavy queries, keep burning CPU after a timeout or after
//! the client left, hold a slot past the deadline, or block shutdown.
//!
//! The byte-level tests mutate valid handles, tickets, parameter streams and auth headers
//! (a bounded, seeded fuzz run) and send them to the decoders and to a live server. The
//! workload tests run the real binary and read its CPU time from `/proc`.

use std::io::{BufRead, BufReader};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any,
    CommandPreparedStatementQuery, ProstMessageExt,
};
use arrow_flight::utils::batches_to_flight_data;
use arrow_flight::{Action, FlightData, FlightDescriptor, Ticket};
use datafusion::arrow::array::{AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use socialcx::server::ServerConfig;
use socialcx::server::auth::{Authenticator, Credentials};
use socialcx::server::handle::{StatementLimits, Statements, sql_ticket, ticket_sql};
use socialcx::server::params;
use tonic::Code;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::Channel;

use crate::server::{Running, fetch, lake, run, status};

/// A mutation of `bytes`: flipped bits, bytes set to extremes, truncation, duplication,
/// insertion, or a huge little-endian length written over eight bytes.
fn mutate(bytes: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let rounds = rng.random_range(1..4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                out[i] = [0x00, 0xff, 0x7f, 0x80][rng.random_range(0..4)];
            }
            2 => out.truncate(rng.random_range(0..=len)),
            3 if len > 0 => {
                let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                let piece = out[a.min(b)..a.max(b)].to_vec();
                out.extend_from_slice(&piece);
            }
            4 => {
                let i = rng.random_range(0..=len);
                let junk: Vec<u8> = (0..rng.random_range(1..16)).map(|_| rng.random()).collect();
                out.splice(i..i, junk);
            }
            _ if len >= 8 => {
                let i = rng.random_range(0..=len - 8);
                let huge: i64 = [1 << 46, i64::MAX, -1, 1 << 31][rng.random_range(0..4)];
                out[i..i + 8].copy_from_slice(&huge.to_le_bytes());
            }
            _ => out.push(rng.random()),
        }
    }
    out
}

/// A valid parameter stream: one row binding `$1` to `value`.
fn parameter_messages(handle: &[u8], value: i64) -> Vec<FlightData> {
    let schema = Schema::new(vec![Field::new("$1", DataType::Int64, true)]);
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(schema.clone()),
        vec![std::sync::Arc::new(Int64Array::from(vec![value]))],
    )
    .unwrap();
    let mut messages = batches_to_flight_data(&schema, vec![batch]).unwrap();
    let command = CommandPreparedStatementQuery {
        prepared_statement_handle: handle.to_vec().into(),
    };
    messages[0].flight_descriptor =
        Some(FlightDescriptor::new_cmd(command.as_any().encode_to_vec()));
    messages
}

/// `messages` with one of them mutated (its header or its body).
fn mutate_messages(messages: &[FlightData], rng: &mut ChaCha8Rng) -> Vec<FlightData> {
    let mut out = messages.to_vec();
    let i = rng.random_range(0..out.len());
    if rng.random_bool(0.7) {
        out[i].data_header = mutate(&out[i].data_header, rng).into();
    } else {
        out[i].data_body = mutate(&out[i].data_body, rng).into();
    }
    out
}

/// Prepare `sql` through the raw action, returning the server's handle.
pub(crate) async fn prepare(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> bytes::Bytes {
    let request = ActionCreatePreparedStatementRequest {
        query: sql.into(),
        transaction_id: None,
    };
    let action = Action {
        r#type: "CreatePreparedStatement".into(),
        body: request.as_any().encode_to_vec().into(),
    };
    let mut results = client.do_action(action).await.unwrap();
    let body = results.next().await.unwrap().unwrap();
    let result: ActionCreatePreparedStatementResult =
        Any::decode(body.body).unwrap().unpack().unwrap().unwrap();
    result.prepared_statement_handle
}

/// Run the prepared statement `handle` names, as a client that keeps the original handle.
pub(crate) async fn execute_prepared(
    client: &mut FlightSqlServiceClient<Channel>,
    handle: &[u8],
) -> Result<Vec<RecordBatch>, tonic::Status> {
    let command = CommandPreparedStatementQuery {
        prepared_statement_handle: handle.to_vec().into(),
    };
    let descriptor = FlightDescriptor::new_cmd(command.as_any().encode_to_vec());
    let info = client
        .inner_mut()
        .get_flight_info(descriptor)
        .await?
        .into_inner();
    fetch(client, info).await.map(|(_, batches)| batches)
}

/// Bind parameters with `DoPut`; the error, if the server refused them.
async fn put(
    client: &mut FlightSqlServiceClient<Channel>,
    messages: Vec<FlightData>,
) -> Result<(), tonic::Status> {
    let mut results = client
        .do_put(futures::stream::iter(messages))
        .await
        .map_err(status)?;
    while results.message().await?.is_some() {}
    Ok(())
}

/// The status codes a refused request may get: anything but a broken connection (what a
/// panicking handler gives) or an internal error.
fn assert_refused_cleanly(result: Result<(), tonic::Status>, what: &str) {
    if let Err(status) = result {
        assert!(
            matches!(
                status.code(),
                Code::InvalidArgument
                    | Code::NotFound
                    | Code::ResourceExhausted
                    | Code::Unimplemented
                    | Code::PermissionDenied
                    | Code::FailedPrecondition
            ),
            "{what}: {status:?}"
        );
    }
}

#[test]
fn fuzzed_parameter_streams_handles_tickets_and_headers_never_panic_the_decoders() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let statements = Statements::new(StatementLimits::default());
    let handle = statements.create("anonymous", "SELECT $1");
    let valid = parameter_messages(&handle, 41);
    let decoded = futures::executor::block_on(params::decode(valid.clone())).unwrap();
    assert_eq!(decoded.unwrap().num_rows(), 1, "the valid stream decodes");

    // A systematic sweep: a huge value over every 8-byte window of every header (this is
    // where lengths, offsets and row counts live), then random mutations.
    let mut inputs = Vec::new();
    for (m, message) in valid.iter().enumerate() {
        for at in 0..message.data_header.len().saturating_sub(7) {
            for huge in [1i64 << 46, -1] {
                let mut header = message.data_header.to_vec();
                header[at..at + 8].copy_from_slice(&huge.to_le_bytes());
                let mut messages = valid.clone();
                messages[m].data_header = header.into();
                inputs.push(messages);
            }
        }
    }
    for _ in 0..20_000 {
        inputs.push(mutate_messages(&valid, &mut rng));
    }
    let mut refused = 0;
    for messages in inputs {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(params::decode(messages))
        }));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(status)) => {
                assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
                refused += 1;
            }
            Err(_) => panic!("the parameter decoder panicked"),
        }
    }
    assert!(refused > 10_000, "most mutations are refused ({refused})");

    for _ in 0..20_000 {
        let bad_handle = mutate(&handle, &mut rng);
        if bad_handle != handle.as_ref() {
            let err = statements.get("anonymous", &bad_handle).unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument);
        }
        let ticket = mutate(&sql_ticket("SELECT 1"), &mut rng);
        let _ = ticket_sql(&ticket);
    }

    let auth = Authenticator::new(
        &Credentials {
            user: Some("analyst".into()),
            password: Some("secret".into()),
            token: Some("static".into()),
        },
        Duration::from_secs(60),
    );
    let seeds = [
        "Basic YW5hbHlzdDpzZWNyZXQ=",
        "Bearer static",
        "Basic YW5hbHlzdDpzZWNyZXQ",
    ];
    for _ in 0..20_000 {
        let seed = seeds[rng.random_range(0..seeds.len())];
        let header = mutate(seed.as_bytes(), &mut rng);
        let Ok(value) = MetadataValue::try_from(header.as_slice()) else {
            continue;
        };
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", value);
        if let Err(status) = auth.check(&metadata) {
            assert_eq!(status.code(), Code::Unauthenticated);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_refuses_crafted_requests_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 50).await;
    let server = Running::start(engine, ServerConfig::default()).await;
    let mut client = server.client().await;
    let mut rng = ChaCha8Rng::seed_from_u64(23);

    let handle = prepare(&mut client, "SELECT $1::BIGINT + 1 AS n").await;
    let ticket = client
        .execute("SELECT 1 AS one".into(), None)
        .await
        .unwrap()
        .endpoint[0]
        .ticket
        .clone()
        .unwrap();
    let valid = parameter_messages(&handle, 41);

    for round in 0..150 {
        let limit = Duration::from_secs(20);
        // A tampered ticket (a truncated or altered protobuf, or altered SQL).
        let bad_ticket = Ticket::new(mutate(&ticket.ticket, &mut rng));
        let result = tokio::time::timeout(limit, async {
            let stream = client.do_get(bad_ticket).await.map_err(status)?;
            stream.try_collect::<Vec<_>>().await.map_err(status)?;
            Ok(())
        })
        .await
        .expect("a tampered ticket is answered");
        assert_refused_cleanly(result, &format!("ticket, round {round}"));

        // A tampered prepared-statement handle.
        let bad_handle = mutate(&handle, &mut rng);
        if bad_handle != handle.as_ref() {
            let err = tokio::time::timeout(limit, execute_prepared(&mut client, &bad_handle))
                .await
                .expect("a tampered handle is answered")
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        }

        // A tampered parameter stream.
        let result =
            tokio::time::timeout(limit, put(&mut client, mutate_messages(&valid, &mut rng)))
                .await
                .expect("tampered parameters are answered");
        assert_refused_cleanly(result, &format!("parameters, round {round}"));
    }

    // Parameters past the size cap are refused before they are buffered whole.
    let big: Vec<FlightData> = (0..40)
        .map(|_| FlightData {
            data_body: vec![0u8; 1 << 20].into(),
            ..valid[1].clone()
        })
        .collect();
    let mut messages = valid.clone();
    messages.truncate(1);
    messages.extend(big);
    let err = put(&mut client, messages).await.unwrap_err();
    assert!(
        matches!(err.code(), Code::ResourceExhausted | Code::InvalidArgument),
        "{err:?}"
    );

    // The server is unharmed: plain and prepared queries answer correctly.
    let (_, batches) = run(&mut client, "SELECT 7 AS n").await.unwrap();
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 7);
    put(&mut client, parameter_messages(&handle, 41))
        .await
        .unwrap();
    let batches = execute_prepared(&mut client, &handle).await.unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        42
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_parameters_stay_with_the_original_handle_until_it_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 10).await;
    let server = Running::start(engine, ServerConfig::default()).await;
    let mut client = server.client().await;
    let handle = prepare(&mut client, "SELECT $1::BIGINT * 2 AS n").await;

    // Without values the statement is refused; flightsql-dbapi binds with DoPut, ignores
    // the handle in the answer and executes the original one.
    let err = execute_prepared(&mut client, &handle).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    for value in [5, -8] {
        put(&mut client, parameter_messages(&handle, value))
            .await
            .unwrap();
        let batches = execute_prepared(&mut client, &handle).await.unwrap();
        assert_eq!(
            batches[0].column(0).as_primitive::<Int64Type>().value(0),
            value * 2
        );
    }

    // Closed means gone.
    let close = arrow_flight::sql::ActionClosePreparedStatementRequest {
        prepared_statement_handle: handle.clone(),
    };
    client
        .do_action(Action {
            r#type: "ClosePreparedStatement".into(),
            body: close.as_any().encode_to_vec().into(),
        })
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let err = execute_prepared(&mut client, &handle).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("prepare the statement again"),
        "{err}"
    );
    server.stop().await;
}

/// A `socialcx serve` process on an ephemeral port, killed when dropped.
struct ServeProcess {
    child: Child,
    addr: String,
}

impl ServeProcess {
    fn start(lake: &Path, args: &[&str]) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
            .arg("--lake")
            .arg(lake)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("SOCIALCX_LAKE")
            .env_remove("SOCIALCX_TOKEN")
            .env_remove("SOCIALCX_USER")
            .env_remove("SOCIALCX_PASSWORD")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server prints its address")
                .unwrap();
            if let Some(rest) = line.split("server on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServeProcess { child, addr }
    }

    async fn client(&self) -> FlightSqlServiceClient<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await
            .expect("connects");
        FlightSqlServiceClient::new(channel)
    }

    /// CPU seconds the process has used (user + system), from `/proc`.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 / 100.0
    }

    /// Wait until the process has burnt `seconds` more CPU than now: the query is running.
    async fn wait_until_busy(&self, seconds: f64) {
        let start = self.cpu_seconds();
        let limit = Instant::now() + Duration::from_secs(30);
        while self.cpu_seconds() - start < seconds {
            assert!(Instant::now() < limit, "the query never started working");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// CPU seconds burnt over `window`, measured `settle` from now.
    async fn cpu_over(&self, settle: Duration, window: Duration) -> f64 {
        tokio::time::sleep(settle).await;
        let before = self.cpu_seconds();
        tokio::time::sleep(window).await;
        self.cpu_seconds() - before
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        // `kill` sends the one signal; no libc binding needed for it.
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let limit = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < limit,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A nested-loop join of 4e10 pairs: minutes of CPU, one row out.
const HEAVY: &str = "SELECT count(*) AS n FROM range(200000) a CROSS JOIN range(200000) b \
                     WHERE a.value + b.value = -1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_stops_a_nested_loop_join_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &["--query-timeout", "3s"]);
    let mut client = server.client().await;
    let started = Instant::now();
    let err = run(&mut client, HEAVY).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(
        elapsed < Duration::from_secs(6),
        "the deadline fired late: {elapsed:?}"
    );
    let burnt = server
        .cpu_over(Duration::from_secs(1), Duration::from_secs(2))
        .await;
    assert!(burnt < 0.3, "{burnt:.2} CPU seconds after the timeout");
    let (_, batches) = run(&mut client, "SELECT 1 AS n").await.unwrap();
    assert_eq!(batches[0].num_rows(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departed_client_stops_its_query_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &["--query-timeout", "10m"]);
    {
        let mut client = server.client().await;
        let info = client.execute(HEAVY.into(), None).await.unwrap();
        let stream = client
            .do_get(info.endpoint[0].ticket.clone().unwrap())
            .await
            .unwrap();
        server.wait_until_busy(1.0).await;
        drop(stream);
        drop(client);
    }
    let burnt = server
        .cpu_over(Duration::from_secs(1), Duration::from_secs(2))
        .await;
    assert!(burnt < 0.3, "{burnt:.2} CPU seconds after the client left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_queries_do_not_freeze_the_server_and_shutdown_has_a_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServeProcess::start(
        dir.path(),
        &["--query-timeout", "10m", "--shutdown-grace", "1s"],
    );
    let mut heavy = Vec::new();
    for _ in 0..2 {
        let mut client = server.client().await;
        heavy.push(tokio::spawn(async move { run(&mut client, HEAVY).await }));
    }
    server.wait_until_busy(2.0).await;
    // A new client connects and is answered promptly while both run.
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(2), async {
        let mut client = server.client().await;
        run(&mut client, "SELECT 1 AS n").await
    })
    .await
    .expect("SELECT 1 answered within 2 s beside two heavy queries")
    .unwrap();
    assert_eq!(answer.1[0].num_rows(), 1, "after {:?}", started.elapsed());
    // SIGTERM: the running queries get the grace period, then the server exits.
    let stopping = Instant::now();
    assert!(server.terminate().success());
    assert!(stopping.elapsed() < Duration::from_secs(10));
    for query in heavy {
        assert!(
            query.await.unwrap().is_err(),
            "a heavy query cannot have finished"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_loses_its_slot_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServeProcess::start(
        dir.path(),
        &[
            "--query-timeout",
            "2s",
            "--max-concurrent-queries",
            "1",
            "--shutdown-grace",
            "1s",
        ],
    );
    let mut stalled = server.client().await;
    let info = stalled
        .execute(
            "SELECT value, repeat('x', 100) AS pad FROM generate_series(1, 100000000)".into(),
            None,
        )
        .await
        .unwrap();
    let mut stream = stalled
        .do_get(info.endpoint[0].ticket.clone().unwrap())
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.num_rows() > 0);
    // The stalled stream is kept open, unread. Within a few seconds the only slot is free.
    let mut other = server.client().await;
    let started = Instant::now();
    let answer = loop {
        match run(&mut other, "SELECT 3 AS n").await {
            Ok(answer) => break answer,
            Err(e) => {
                assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the slot stayed taken"
                );
            }
        }
    };
    assert_eq!(
        answer.1[0].column(0).as_primitive::<Int64Type>().value(0),
        3
    );
    // Shutdown does not wait for the stalled client beyond the grace period.
    let stopping = Instant::now();
    assert!(server.terminate().success());
    assert!(stopping.elapsed() < Duration::from_secs(10));
    drop(stream);
}

/// An engine over the lake at exactly `path`.
async fn open_lake(path: &Path) -> socialcx::Engine {
    socialcx::open(path.to_str().unwrap())
        .await
        .expect("the lake opens")
}

/// Ingest `files` with one `socialcx ingest` process each, all at once: every process
/// waits at the commit barrier until all have checked the lake.
fn ingest_concurrently(lake: &Path, files: &[&Path]) {
    let barrier = tempfile::tempdir().unwrap();
    let children: Vec<Child> = files
        .iter()
        .map(|file| {
            Command::new(env!("CARGO_BIN_EXE_socialcx"))
                .arg("--lake")
                .arg(lake)
                .arg("ingest")
                .arg(file)
                .env_remove("SOCIALCX_LAKE")
                .env("SOCIALCX_TEST_COMMIT_BARRIER", barrier.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let limit = Instant::now() + Duration::from_secs(120);
    while std::fs::read_dir(barrier.path()).unwrap().count() < files.len() {
        assert!(
            Instant::now() < limit,
            "the ingests never reached their commits"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(barrier.path().join("go"), b"").unwrap();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
}

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the test-hooks feature: bash tests/run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingests_of_the_same_and_overlapping_files_land_every_row_once() {
    use socialcx::generator::OutputLayout;
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let file = crate::common::generate(data.path(), "same.ndjson", 20_000, 5, OutputLayout::Ndjson);
    let lake_dir = dir.path().join("lake");
    ingest_concurrently(&lake_dir, &[&file, &file, &file]);
    let engine = open_lake(&lake_dir).await;
    let count = |sql: &'static str| {
        let engine = engine.clone();
        async move { crate::common::scalar(&engine, sql).await }
    };
    assert_eq!(count("SELECT count(*) FROM conversations").await, 20_000);
    assert_eq!(
        count("SELECT count(DISTINCT conversation_id) FROM conversations").await,
        20_000
    );

    // Overlapping inputs: the lines of one file split into two that share a third of them.
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let other = tempfile::tempdir().unwrap();
    let (a, b) = (other.path().join("a.ndjson"), other.path().join("b.ndjson"));
    std::fs::write(&a, lines[..14_000].join("\n")).unwrap();
    std::fs::write(&b, lines[6_000..].join("\n")).unwrap();
    let lake2 = dir.path().join("lake2");
    ingest_concurrently(&lake2, &[&a, &b]);
    let engine2 = open_lake(&lake2).await;
    assert_eq!(
        crate::common::scalar(&engine2, "SELECT count(*) FROM conversations").await,
        20_000
    );
    assert_eq!(
        crate::common::scalar(
            &engine2,
            "SELECT count(DISTINCT conversation_id) FROM conversations"
        )
        .await,
        20_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_allowed_still_refuse_files_of_the_host_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 10).await;
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "k\nhost-only\n").unwrap();
    let copy_to = dir.path().join("copied.csv");
    let statements = [
        format!(
            "CREATE EXTERNAL TABLE leak (k VARCHAR) STORED AS CSV LOCATION '{}' \
             OPTIONS ('format.has_header' 'true')",
            secret.display()
        ),
        format!(
            "COPY (SELECT 1 AS n) TO '{}' STORED AS CSV",
            copy_to.display()
        ),
    ];
    let writable = Running::start(
        engine.clone(),
        ServerConfig {
            allow_writes: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let mut client = writable.client().await;
    for sql in &statements {
        let err = run(&mut client, sql).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{sql}: {err:?}");
        assert!(err.message().contains("--allow-file-access"), "{err}");
    }
    assert!(!copy_to.exists());
    // Views over the lake are still fine with writes allowed.
    run(
        &mut client,
        "CREATE VIEW n AS SELECT count(*) AS n FROM conversations",
    )
    .await
    .unwrap();
    writable.stop().await;

    let trusted = Running::start(
        engine,
        ServerConfig {
            allow_writes: true,
            allow_file_access: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let mut client = trusted.client().await;
    run(&mut client, &statements[0]).await.unwrap();
    let (_, batches) = run(&mut client, "SELECT k FROM leak").await.unwrap();
    assert_eq!(
        batches[0].column(0).as_string::<i32>().value(0),
        "host-only"
    );
    trusted.stop().await;
}

#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "needs the test-hooks feature: bash tests/run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_killed_before_its_commit_leaves_nothing_and_lands_whole_on_retry() {
    use socialcx::generator::OutputLayout;
    let dir = tempfile::tempdir().unwrap();
    let file = crate::common::generate(dir.path(), "in.ndjson", 5_000, 9, OutputLayout::Ndjson);
    let lake_dir = dir.path().join("lake");
    let barrier = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(&lake_dir)
        .arg("ingest")
        .arg(&file)
        .env_remove("SOCIALCX_LAKE")
        .env("SOCIALCX_TEST_COMMIT_BARRIER", barrier.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its files are written and it waits at the commit: kill -9 there.
    let limit = Instant::now() + Duration::from_secs(120);
    while std::fs::read_dir(barrier.path()).unwrap().count() == 0 {
        assert!(
            Instant::now() < limit,
            "the ingest never reached its commit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let engine = open_lake(&lake_dir).await;
    assert_eq!(
        crate::common::scalar(&engine, "SELECT count(*) FROM conversations").await,
        0,
        "written but uncommitted files are invisible"
    );
    let out = crate::common::socialcx(&lake_dir, &["ingest", file.to_str().unwrap()]);
    crate::common::ok(&out);
    assert_eq!(
        crate::common::scalar(&engine, "SELECT count(*) FROM conversations").await,
        5_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_writes_allowed_each_client_changes_only_its_own_session() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 20).await;
    let server = Running::start(
        engine.clone(),
        ServerConfig {
            allow_writes: true,
            ..ServerConfig::default()
        },
    )
    .await;
    // Two connections: two clients.
    let mut alice = server.client().await;
    let mut bob = server.client().await;
    run(&mut alice, "CREATE VIEW mine AS SELECT 41 + 1 AS n")
        .await
        .unwrap();
    run(&mut alice, "SET datafusion.execution.batch_size = 7")
        .await
        .unwrap();
    run(&mut alice, "DROP TABLE conversations").await.unwrap();

    let (_, batches) = run(&mut alice, "SELECT n FROM mine").await.unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        42
    );
    let setting = "SELECT value FROM information_schema.df_settings \
                   WHERE name = 'datafusion.execution.batch_size'";
    let (_, batches) = run(&mut alice, setting).await.unwrap();
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "7");
    assert!(
        run(&mut alice, "SELECT count(*) FROM conversations")
            .await
            .is_err()
    );

    // Bob sees none of it.
    let err = run(&mut bob, "SELECT n FROM mine").await.unwrap_err();
    assert!(err.message().contains("mine"), "{err}");
    let (_, batches) = run(&mut bob, setting).await.unwrap();
    assert_ne!(batches[0].column(0).as_string::<i32>().value(0), "7");
    let (_, batches) = run(&mut bob, "SELECT count(*) FROM conversations")
        .await
        .unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        20
    );
    // Nor does the engine itself.
    assert!(engine.table_names().contains(&"conversations".to_string()));
    assert!(!engine.table_names().contains(&"mine".to_string()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_beyond_the_limit_is_resource_exhausted_and_a_panic_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = socialcx::EngineConfig::new(dir.path().join("lake").display().to_string())
        .with_memory_limit(8 << 20)
        .with_target_partitions(2);
    let engine = socialcx::open_with(config).await.unwrap();
    let server = Running::start(engine, ServerConfig::default()).await;
    let mut client = server.client().await;
    let sort = "SELECT value, s FROM (SELECT value, repeat('x', 500) || CAST(random() AS VARCHAR) s \
                FROM range(300000)) ORDER BY s";
    let err = run(&mut client, sort).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    // A kernel that panics (a string column past 2 GiB) fails the query, not the server.
    let err = run(
        &mut client,
        "SELECT max(length(repeat('x', 300000 + value % 2))) FROM range(8192)",
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(err.message().contains("overflow"), "{err}");
    let (_, batches) = run(&mut client, "SELECT 5 AS n").await.unwrap();
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 5);
    server.stop().await;
}
