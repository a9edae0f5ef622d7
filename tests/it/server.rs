//! The Flight SQL server, through arrow-flight's own Flight SQL client on an ephemeral port.
//! (The ADBC driver's view of the same server is tested in `tests/adbc/`.)

use std::sync::Arc;
use std::time::Duration;

use arrow_flight::FlightInfo;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetTables, SqlInfo};
use datafusion::arrow::array::{AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Int64Type, Schema, TimeUnit};
use futures::TryStreamExt;
use socialcx::Engine;
use socialcx::generator::OutputLayout;
use socialcx::server::auth::Credentials;
use socialcx::server::wire::{to_wire, wire_schema};
use socialcx::server::{Server, ServerConfig};
use tokio::sync::oneshot;
use tonic::Code;
use tonic::transport::Channel;

use crate::common;
use crate::probes::{Gate, Ticker};

/// A running server over `engine`; dropping the sender stops it.
pub(crate) struct Running {
    pub(crate) addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<socialcx::Result<()>>>,
}

impl Running {
    pub(crate) async fn start(engine: Engine, config: ServerConfig) -> Running {
        let config = ServerConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let server = Server::bind(engine, config).await.expect("server binds");
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub(crate) async fn client(&self) -> FlightSqlServiceClient<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("connects");
        FlightSqlServiceClient::new(channel)
    }

    pub(crate) async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("server stops on signal")
            .unwrap()
            .expect("server ends cleanly");
    }
}

/// The announced schema and the streamed batches of `info`, checking that they agree.
pub(crate) async fn fetch(
    client: &mut FlightSqlServiceClient<Channel>,
    info: FlightInfo,
) -> Result<(Schema, Vec<RecordBatch>), tonic::Status> {
    let announced = info.clone().try_decode_schema().expect("schema decodes");
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("ticket");
        let stream: FlightRecordBatchStream = client.do_get(ticket).await.map_err(status)?;
        let got: Vec<RecordBatch> = stream.try_collect().await.map_err(tonic::Status::from)?;
        for batch in &got {
            assert_eq!(
                batch.schema().as_ref(),
                &announced,
                "streamed schema differs from the announced one"
            );
        }
        batches.extend(got);
    }
    Ok((announced, batches))
}

pub(crate) async fn run(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<(Schema, Vec<RecordBatch>), tonic::Status> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(status)?;
    fetch(client, info).await
}

/// The gRPC status inside an arrow-flight client error.
pub(crate) fn status(e: FlightError) -> tonic::Status {
    match e {
        FlightError::Tonic(status) => *status,
        other => tonic::Status::unknown(other.to_string()),
    }
}

pub(crate) async fn lake(dir: &std::path::Path, rows: u64) -> Engine {
    let engine = common::engine_in(dir).await;
    let file = common::generate(dir, "g.ndjson", rows, 7, OutputLayout::Ndjson);
    common::ingest(&engine, &[file]).await;
    engine
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_stream_the_announced_wire_schema_and_match_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 3_000).await;
    let server = Running::start(engine.clone(), ServerConfig::default()).await;
    let mut client = server.client().await;

    let sql = "SELECT conversation_id, brand, channel, created_at, sentiment(text) AS s, \
               moments_of_truth(text) AS stages, influence(author_followers, likes, shares, replies) AS inf \
               FROM conversations ORDER BY conversation_id";
    let (schema, batches) = run(&mut client, sql).await.unwrap();
    let direct = common::query(&engine, sql).await;
    let direct_schema = wire_schema(&direct[0].schema());
    assert_eq!(
        &schema,
        direct_schema.as_ref(),
        "announced = engine's wire schema"
    );
    let expected: Vec<RecordBatch> = direct
        .iter()
        .map(|b| to_wire(b, &direct_schema).unwrap())
        .collect();
    assert_eq!(
        concat_batches(&direct_schema, &batches).unwrap(),
        concat_batches(&direct_schema, &expected).unwrap(),
        "same rows as the engine"
    );
    assert_eq!(rows(&batches), 3_000);
    // Timestamps in UTC; a non-null column stays non-null on the wire.
    let created = schema.field_with_name("created_at").unwrap();
    assert_eq!(
        created.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(
        schema
            .field_with_name("conversation_id")
            .unwrap()
            .is_nullable(),
        direct[0]
            .schema()
            .field_with_name("conversation_id")
            .unwrap()
            .is_nullable()
    );

    // Types clients cannot read are converted, announced and streamed alike.
    let (schema, batches) = run(
        &mut client,
        "SELECT arrow_cast('x', 'Utf8View') AS v, arrow_cast('y', 'Dictionary(Int32, Utf8)') AS d, \
         arrow_cast(now(), 'Timestamp(Microsecond, Some(\"Europe/Paris\"))') AS t",
    )
    .await
    .unwrap();
    assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
    assert_eq!(schema.field(1).data_type(), &DataType::Utf8);
    assert_eq!(
        schema.field(2).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(batches[0].column(1).as_string::<i32>().value(0), "y");

    // A 1M-row result streams in many messages and arrives whole.
    let (_, batches) = run(&mut client, "SELECT value FROM generate_series(1, 1000000)")
        .await
        .unwrap();
    assert_eq!(rows(&batches), 1_000_000);
    assert!(batches.len() > 10, "streamed in {} batches", batches.len());
    let sum: i64 = batches
        .iter()
        .map(|b| {
            b.column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(sum, 1_000_000 * 1_000_001 / 2);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_bind_parameters_and_run_repeatedly() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 2_000).await;
    let server = Running::start(engine.clone(), ServerConfig::default()).await;
    let mut client = server.client().await;

    let mut prepared = client
        .prepare(
            "SELECT count(*) AS n FROM conversations WHERE brand = $1 AND likes >= $2".into(),
            None,
        )
        .await
        .unwrap();
    let params = prepared.parameter_schema().unwrap().clone();
    assert_eq!(params.fields().len(), 2);
    assert_eq!(params.field(0).name(), "$1");
    assert_eq!(params.field(0).data_type(), &DataType::Utf8);
    assert_eq!(prepared.dataset_schema().unwrap().field(0).name(), "n");

    let brands = common::pairs(
        &engine,
        "SELECT brand, count(*) FROM conversations GROUP BY brand",
    )
    .await;
    assert!(brands.len() >= 2);
    for (brand, _) in brands.iter().take(3) {
        for min_likes in [0i64, 5] {
            let batch = RecordBatch::try_new(
                Arc::new(params.clone()),
                vec![
                    Arc::new(StringArray::from(vec![brand.as_str()])),
                    Arc::new(Int64Array::from(vec![min_likes])),
                ],
            )
            .unwrap();
            prepared.set_parameters(batch).unwrap();
            let info = prepared.execute().await.unwrap();
            let (_, batches) = fetch(&mut client, info).await.unwrap();
            let got = batches[0].column(0).as_primitive::<Int64Type>().value(0);
            let want = common::scalar(
                &engine,
                &format!(
                    "SELECT count(*) FROM conversations WHERE brand = '{brand}' AND likes >= {min_likes}"
                ),
            )
            .await;
            assert_eq!(got, want, "{brand} {min_likes}");
        }
    }
    prepared.close().await.unwrap();

    // JDBC-style `?` placeholders are numbered in order.
    let mut prepared = client
        .prepare("SELECT ? AS a, ? AS b".into(), None)
        .await
        .unwrap();
    let schema = prepared.parameter_schema().unwrap().clone();
    assert_eq!(schema.fields().len(), 2);
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("x", DataType::Int64, true),
            datafusion::arrow::datatypes::Field::new("y", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![41])),
            Arc::new(StringArray::from(vec!["second"])),
        ],
    )
    .unwrap();
    prepared.set_parameters(batch).unwrap();
    let info = prepared.execute().await.unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        41
    );
    assert_eq!(batches[0].column(1).as_string::<i32>().value(0), "second");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lists_catalogs_schemas_tables_and_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 200).await;
    let server = Running::start(engine.clone(), ServerConfig::default()).await;
    let mut client = server.client().await;

    let info = client.get_catalogs().await.unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "socialcx");

    let info = client
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: None,
        })
        .await
        .unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    let schemas: Vec<&str> = batches[0]
        .column(1)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert!(
        schemas.contains(&"public") && schemas.contains(&"information_schema"),
        "{schemas:?}"
    );

    // With and without a catalog; a name pattern; the schema of each table when asked.
    for catalog in [None, Some("socialcx".to_string())] {
        let info = client
            .get_tables(CommandGetTables {
                catalog: catalog.clone(),
                db_schema_filter_pattern: Some("public".into()),
                table_name_filter_pattern: Some("conv%".into()),
                table_types: vec![],
                include_schema: true,
            })
            .await
            .unwrap();
        let (schema, batches) = fetch(&mut client, info).await.unwrap();
        assert_eq!(schema.fields().len(), 5, "include_schema adds table_schema");
        let names: Vec<&str> = batches[0]
            .column(2)
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect();
        assert_eq!(names, vec!["conversations"], "catalog {catalog:?}");
        let ipc = batches[0].column(4).as_binary::<i32>().value(0);
        let table_schema = Schema::try_from(arrow_flight::IpcMessage(ipc.to_vec().into())).unwrap();
        let direct = engine
            .context()
            .table_provider("conversations")
            .await
            .unwrap()
            .schema();
        assert_eq!(&table_schema, wire_schema(&direct).as_ref());
    }
    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: None,
            table_types: vec!["SYSTEM TABLE".into()],
            include_schema: false,
        })
        .await
        .unwrap();
    let (schema, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(schema.fields().len(), 4);
    let names: Vec<&str> = batches[0]
        .column(2)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert!(
        names.contains(&"tables") && names.contains(&"columns"),
        "{names:?}"
    );

    let info = client.get_table_types().await.unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    let types: Vec<&str> = batches[0]
        .column(0)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert!(types.contains(&"TABLE") && types.contains(&"VIEW"));

    let info = client
        .get_sql_info(vec![
            SqlInfo::FlightSqlServerName,
            SqlInfo::FlightSqlServerReadOnly,
        ])
        .await
        .unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(batches[0].num_rows(), 2);
    let all = client.get_sql_info(vec![]).await.unwrap();
    let (_, batches) = fetch(&mut client, all).await.unwrap();
    assert!(
        rows(&batches) > 60,
        "GetSqlInfo answers {} entries",
        rows(&batches)
    );

    let info = client
        .get_xdbc_type_info(arrow_flight::sql::CommandGetXdbcTypeInfo { data_type: None })
        .await
        .unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    let type_names: Vec<&str> = batches[0]
        .column(0)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert!(type_names.contains(&"VARCHAR") && type_names.contains(&"TIMESTAMP"));

    let info = client
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: None,
            table: "conversations".into(),
        })
        .await
        .unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(rows(&batches), 0, "no keys, but an answer");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_tokens_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 100).await;
    let config = ServerConfig {
        credentials: Credentials {
            user: Some("analyst".into()),
            password: Some("correct horse".into()),
            token: Some("static-token-123".into()),
        },
        ..ServerConfig::default()
    };
    let server = Running::start(engine, config).await;

    let mut anonymous = server.client().await;
    let err = run(&mut anonymous, "SELECT 1").await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err}");

    let mut wrong = server.client().await;
    let err = wrong.handshake("analyst", "wrong").await.unwrap_err();
    assert!(
        err.to_string().contains("invalid user name or password"),
        "{err}"
    );
    assert!(!err.to_string().contains("correct horse"));

    let mut right = server.client().await;
    right.handshake("analyst", "correct horse").await.unwrap();
    assert!(right.token().is_some(), "a bearer token is issued");
    let (_, batches) = run(&mut right, "SELECT count(*) AS n FROM conversations")
        .await
        .unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        100
    );

    let mut forged = server.client().await;
    forged.set_token("0123456789abcdef".into());
    assert_eq!(
        run(&mut forged, "SELECT 1").await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let mut with_static = server.client().await;
    with_static.set_token("static-token-123".into());
    run(&mut with_static, "SELECT 1").await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_errors_timeouts_and_writes_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 100).await;
    let config = ServerConfig {
        query_timeout: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let server = Running::start(engine.clone(), config).await;
    let mut client = server.client().await;

    let err = run(&mut client, "CREATE VIEW v AS SELECT 1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err}");
    assert!(err.message().contains("read-only"), "{err}");
    let err = client
        .execute_update("DROP TABLE conversations".into(), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(engine.table_names().contains(&"conversations".to_string()));

    let err = run(&mut client, "SELEC 1").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    let err = run(&mut client, "SELECT * FROM no_such_table")
        .await
        .unwrap_err();
    assert!(err.message().contains("no_such_table"), "{err}");

    // A query beyond the timeout is stopped with DEADLINE_EXCEEDED; the server goes on.
    let started = std::time::Instant::now();
    let err = run(
        &mut client,
        "SELECT count(*) FROM generate_series(1, 100000000000)",
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
    run(&mut client, "SELECT 1").await.unwrap();
    server.stop().await;

    let writable = Running::start(
        engine.clone(),
        ServerConfig {
            allow_writes: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let mut client = writable.client().await;
    run(
        &mut client,
        "CREATE VIEW brands AS SELECT DISTINCT brand FROM conversations",
    )
    .await
    .unwrap();
    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: None,
            table_name_filter_pattern: Some("brands".into()),
            table_types: vec!["VIEW".into()],
            include_schema: false,
        })
        .await
        .unwrap();
    let (_, batches) = fetch(&mut client, info).await.unwrap();
    assert_eq!(rows(&batches), 1, "the new view is listed as a VIEW");
    writable.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_share_a_limited_number_of_slots() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 50).await;
    // Each query waits inside `gate` until the test lets it go: the gate sees how many
    // queries run at once.
    let gate = Gate::default();
    engine.context().register_udf(gate.udf());
    let config = ServerConfig {
        max_concurrent_queries: 2,
        query_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let server = Running::start(engine, config).await;
    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let mut client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let (_, batches) = run(&mut client, &format!("SELECT gate({i}) AS n"))
                .await
                .unwrap();
            assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), i);
        }));
    }
    // Two queries run, six wait for a slot; each one let go makes room for exactly one.
    let watcher = gate.clone();
    tokio::task::spawn_blocking(move || {
        for done in 0..8 {
            let running = (8 - done).min(2);
            let counts = watcher.wait_until(Duration::from_secs(60), |c| {
                c.finished == done && c.inside == running
            });
            assert!(
                counts.most_inside <= 2,
                "more than 2 queries ran at once: {counts:?}"
            );
            watcher.release();
        }
    })
    .await
    .unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let counts = gate.wait_until(Duration::from_secs(10), |c| c.finished == 8);
    assert_eq!(counts.most_inside, 2, "both slots were used");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_when_a_certificate_is_given() {
    // A certificate for localhost signed by a test CA (tests/fixtures/tls/README.md).
    let fixtures = common::repo().join("tests/fixtures/tls");
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 50).await;
    let config = ServerConfig {
        tls: Some((fixtures.join("cert.pem"), fixtures.join("key.pem"))),
        credentials: Credentials {
            token: Some("tls-token".into()),
            ..Default::default()
        },
        ..ServerConfig::default()
    };
    let server = Running::start(engine, config).await;
    let ca = std::fs::read(fixtures.join("ca.pem")).unwrap();
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{}", server.addr.port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS handshake");
    let mut client = FlightSqlServiceClient::new(channel);
    client.set_token("tls-token".into());
    let (_, batches) = run(&mut client, "SELECT count(*) AS n FROM conversations")
        .await
        .unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        50
    );

    // A plain-text client gets nowhere.
    let plain = Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let mut plain = FlightSqlServiceClient::new(channel);
        plain.set_token("tls-token".into());
        assert!(run(&mut plain, "SELECT 1").await.is_err());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_its_query_and_frees_its_slot() {
    let dir = tempfile::tempdir().unwrap();
    let engine = lake(dir.path(), 50).await;
    // `tick` counts the batches the abandoned query evaluates.
    let ticker = Ticker::default();
    engine.context().register_udf(ticker.udf());
    let config = ServerConfig {
        max_concurrent_queries: 1,
        query_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let server = Running::start(engine, config).await;
    {
        let mut client = server.client().await;
        let info = client
            .execute(
                "SELECT sum(tick(value)) FROM generate_series(1, 100000000000)".into(),
                None,
            )
            .await
            .unwrap();
        let stream = client
            .do_get(info.endpoint[0].ticket.clone().unwrap())
            .await
            .unwrap();
        // The query is under way, then the client goes away mid-query.
        let started = std::time::Instant::now();
        while ticker.batches() < 10 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the query never ran"
            );
            tokio::task::yield_now().await;
        }
        drop(stream);
    }
    // The only slot is free again long before the abandoned query could have finished
    // (12 million batches).
    let mut other = server.client().await;
    let (_, batches) =
        tokio::time::timeout(Duration::from_secs(10), run(&mut other, "SELECT 7 AS n"))
            .await
            .expect("the abandoned query released its slot")
            .unwrap();
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(0), 7);
    // And its work stopped. A batch some thread was already evaluating when the abort
    // landed may still finish (at most one per core), but nothing after it: while another
    // query scans 100 million rows through the same slot (twice), the abandoned one
    // evaluates no further batch.
    let released_at = ticker.batches();
    let scan = "SELECT count(*) AS n FROM generate_series(1, 100000000) WHERE value % 7 = 0";
    let (_, batches) = run(&mut other, scan).await.unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        100_000_000 / 7
    );
    let stopped_at = ticker.batches();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().max(2)) as u64;
    assert!(
        stopped_at <= released_at + cores,
        "the abandoned query kept running: {released_at} -> {stopped_at} batches"
    );
    run(&mut other, scan).await.unwrap();
    assert_eq!(
        ticker.batches(),
        stopped_at,
        "the abandoned query kept running"
    );
    server.stop().await;
}

/// Prepared statements as flightsql-dbapi (the DB-API driver behind Superset) and older
/// Flight SQL JDBC drivers use them: bind with `DoPut`, ignore the handle the answer carries
/// and execute the one they prepared. The values stay with that handle on the server until
/// it is closed; the handle the answer carries (what ADBC and arrow-flight's own client go
/// on with) works too.
mod original_handles {
    use super::*;

    use arrow_flight::encode::FlightDataEncoderBuilder;
    use arrow_flight::sql::{
        ActionClosePreparedStatementRequest, CommandPreparedStatementQuery,
        DoPutPreparedStatementResult, ProstMessageExt,
    };
    use arrow_flight::{Action, FlightDescriptor};
    use bytes::Bytes;
    use datafusion::arrow::array::{ArrayRef, BinaryArray, BooleanArray, Float64Array, UnionArray};
    use datafusion::arrow::datatypes::{Field, UnionFields};
    use prost::Message;
    use socialcx::server::handle::StatementLimits;

    type Client = FlightSqlServiceClient<Channel>;

    use crate::hardening::{execute_prepared as execute, prepare};

    const BY_BRAND: &str = "SELECT count(*) AS n FROM conversations WHERE brand = $1";

    /// A Python value, as flightsql-dbapi's `ParameterRecordBuilder` sees it.
    #[derive(Clone, Copy)]
    enum PyValue<'a> {
        Int(i64),
        Str(&'a str),
    }

    /// Parameters as flightsql-dbapi binds them: each value a one-row dense union of int64,
    /// float64, utf8, binary and bool (type ids 0 to 4) whose member is the value's type,
    /// in columns `param_0`, `param_1`, ...
    fn dbapi_parameters(values: &[PyValue]) -> RecordBatch {
        let fields = UnionFields::try_new(
            0..5i8,
            [
                Field::new("0", DataType::Int64, true),
                Field::new("1", DataType::Float64, true),
                Field::new("2", DataType::Utf8, true),
                Field::new("3", DataType::Binary, true),
                Field::new("4", DataType::Boolean, true),
            ],
        )
        .unwrap();
        let columns = values.iter().enumerate().map(|(i, value)| {
            let (type_id, ints, strings): (i8, Vec<i64>, Vec<&str>) = match *value {
                PyValue::Int(n) => (0, vec![n], vec![]),
                PyValue::Str(s) => (2, vec![], vec![s]),
            };
            let children: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from(ints)),
                Arc::new(Float64Array::from(Vec::<f64>::new())),
                Arc::new(StringArray::from(strings)),
                Arc::new(BinaryArray::from(Vec::<&[u8]>::new())),
                Arc::new(BooleanArray::from(Vec::<bool>::new())),
            ];
            let union = UnionArray::try_new(
                fields.clone(),
                vec![type_id].into(),
                Some(vec![0i32].into()),
                children,
            )
            .unwrap();
            (format!("param_{i}"), Arc::new(union) as ArrayRef)
        });
        RecordBatch::try_from_iter(columns).unwrap()
    }

    /// One plain column of parameters, `$1`.
    fn plain_parameter(value: &str) -> RecordBatch {
        RecordBatch::try_from_iter([("$1", Arc::new(StringArray::from(vec![value])) as ArrayRef)])
            .unwrap()
    }

    /// Bind `values` to `handle` with `DoPut`, as flightsql-dbapi does; the handle the
    /// answer carries.
    async fn bind(
        client: &mut Client,
        handle: &Bytes,
        values: RecordBatch,
    ) -> Result<Bytes, tonic::Status> {
        let command = CommandPreparedStatementQuery {
            prepared_statement_handle: handle.clone(),
        };
        let descriptor = FlightDescriptor::new_cmd(command.as_any().encode_to_vec());
        let messages = FlightDataEncoderBuilder::new()
            .with_flight_descriptor(Some(descriptor))
            .with_schema(values.schema())
            .build(futures::stream::iter([Ok(values)]))
            .try_collect::<Vec<_>>()
            .await
            .expect("parameters encode");
        let mut results = client
            .do_put(futures::stream::iter(messages))
            .await
            .map_err(status)?;
        let answer = results.message().await?.expect("DoPut answers");
        let result = DoPutPreparedStatementResult::decode(answer.app_metadata)
            .expect("a DoPutPreparedStatementResult");
        Ok(result
            .prepared_statement_handle
            .expect("the answer names a handle"))
    }

    async fn close(client: &mut Client, handle: &Bytes) {
        let request = ActionClosePreparedStatementRequest {
            prepared_statement_handle: handle.clone(),
        };
        let action = Action {
            r#type: "ClosePreparedStatement".into(),
            body: request.as_any().encode_to_vec().into(),
        };
        client
            .do_action(action)
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
    }

    /// The one integer of a `count(*)` result.
    fn count(batches: &[RecordBatch]) -> i64 {
        assert_eq!(rows(batches), 1);
        batches[0].column(0).as_primitive::<Int64Type>().value(0)
    }

    fn assert_gone(result: Result<Vec<RecordBatch>, tonic::Status>, what: &str) {
        let err = result.expect_err(what);
        assert_eq!(err.code(), Code::InvalidArgument, "{what}: {err:?}");
        assert!(
            err.message().contains("unknown prepared statement handle")
                && err.message().contains("prepare the statement again"),
            "{what}: {err}"
        );
    }

    async fn brand_counts(engine: &Engine) -> Vec<(String, i64)> {
        let counts = common::pairs(
            engine,
            "SELECT brand, count(*) FROM conversations GROUP BY brand ORDER BY brand",
        )
        .await;
        assert!(counts.len() >= 2, "{counts:?}");
        counts
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_original_handle_runs_with_the_values_bound_to_it_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let engine = lake(dir.path(), 2_000).await;
        let counts = brand_counts(&engine).await;
        let server = Running::start(engine, ServerConfig::default()).await;
        let mut client = server.client().await;

        let original = prepare(&mut client, BY_BRAND).await;
        // Without values the statement is refused, never run with none.
        let err = execute(&mut client, &original).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(err.message().contains("bind their values"), "{err}");

        // Every brand in turn, each value a dense union as flightsql-dbapi sends it: the
        // original handle runs with the values bound last.
        for (brand, want) in &counts {
            bind(
                &mut client,
                &original,
                dbapi_parameters(&[PyValue::Str(brand)]),
            )
            .await
            .unwrap();
            let got = count(&execute(&mut client, &original).await.unwrap());
            assert_eq!(got, *want, "{brand}");
            // Executing again does not consume the values.
            let again = count(&execute(&mut client, &original).await.unwrap());
            assert_eq!(again, *want, "{brand}, second run");
        }
        // Plain typed values (what ADBC sends) bind to the original handle the same way.
        let (first, first_count) = &counts[0];
        bind(&mut client, &original, plain_parameter(first))
            .await
            .unwrap();
        assert_eq!(
            count(&execute(&mut client, &original).await.unwrap()),
            *first_count
        );

        // Values belong to their statement: another one of the same SQL has its own.
        let other = prepare(&mut client, BY_BRAND).await;
        let (second, second_count) = &counts[1];
        bind(
            &mut client,
            &other,
            dbapi_parameters(&[PyValue::Str(second)]),
        )
        .await
        .unwrap();
        assert_eq!(
            count(&execute(&mut client, &other).await.unwrap()),
            *second_count
        );
        assert_eq!(
            count(&execute(&mut client, &original).await.unwrap()),
            *first_count
        );

        // Closed: the handle and its values are gone, with an error that says what to do;
        // binding to it again is refused the same way. The other statement is untouched.
        close(&mut client, &original).await;
        assert_gone(
            execute(&mut client, &original).await,
            "executing a closed handle",
        );
        let rebind = bind(&mut client, &original, plain_parameter(first)).await;
        assert_gone(rebind.map(|_| Vec::new()), "binding a closed handle");
        assert_eq!(
            count(&execute(&mut client, &other).await.unwrap()),
            *second_count
        );
        close(&mut client, &other).await;
        server.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_handle_the_bind_answers_with_runs_the_values_too() {
        let dir = tempfile::tempdir().unwrap();
        let engine = lake(dir.path(), 2_000).await;
        let counts = brand_counts(&engine).await;
        let server = Running::start(engine.clone(), ServerConfig::default()).await;
        let mut client = server.client().await;

        // By hand: execute the handle DoPut answered with.
        let original = prepare(&mut client, BY_BRAND).await;
        for (brand, want) in counts.iter().take(2) {
            let returned = bind(
                &mut client,
                &original,
                dbapi_parameters(&[PyValue::Str(brand)]),
            )
            .await
            .unwrap();
            assert!(!returned.is_empty());
            assert_eq!(
                count(&execute(&mut client, &returned).await.unwrap()),
                *want,
                "{brand}"
            );
        }
        close(&mut client, &original).await;

        // arrow-flight's client switches to the answered handle by itself; two parameters
        // of two types, run twice with different values.
        let mut prepared = client
            .prepare(
                "SELECT count(*) AS n FROM conversations WHERE brand = $1 AND likes >= $2".into(),
                None,
            )
            .await
            .unwrap();
        for ((brand, _), min_likes) in counts.iter().zip([0i64, 5]) {
            prepared
                .set_parameters(dbapi_parameters(&[
                    PyValue::Str(brand),
                    PyValue::Int(min_likes),
                ]))
                .unwrap();
            let info = prepared.execute().await.unwrap();
            let (_, batches) = fetch(&mut client, info).await.unwrap();
            let want = common::scalar(
                &engine,
                &format!(
                    "SELECT count(*) FROM conversations WHERE brand = '{brand}' AND likes >= {min_likes}"
                ),
            )
            .await;
            assert_eq!(count(&batches), want, "{brand} {min_likes}");
        }
        prepared.close().await.unwrap();
        server.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_with_values_are_bounded_in_number_lifetime_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let engine = lake(dir.path(), 500).await;
        let counts = brand_counts(&engine).await;
        let idle = Duration::from_secs(3);
        let config = ServerConfig {
            statements: StatementLimits {
                capacity: 2,
                idle,
                ..StatementLimits::default()
            },
            ..ServerConfig::default()
        };
        let server = Running::start(engine.clone(), config).await;
        let mut client = server.client().await;
        let (first, first_count) = &counts[0];
        let (second, _) = &counts[1];

        let a = prepare(&mut client, BY_BRAND).await;
        bind(&mut client, &a, dbapi_parameters(&[PyValue::Str(first)]))
            .await
            .unwrap();
        let b = prepare(&mut client, BY_BRAND).await;
        bind(&mut client, &b, dbapi_parameters(&[PyValue::Str(second)]))
            .await
            .unwrap();
        // `a` used last: a third statement drops `b`, the least recently used.
        assert_eq!(
            count(&execute(&mut client, &a).await.unwrap()),
            *first_count
        );
        let c = prepare(&mut client, BY_BRAND).await;
        assert_gone(
            execute(&mut client, &b).await,
            "the least recently used statement beyond the capacity",
        );
        assert_eq!(
            count(&execute(&mut client, &a).await.unwrap()),
            *first_count
        );
        // Unused for longer than the idle limit: gone, values and all.
        tokio::time::sleep(idle + Duration::from_millis(800)).await;
        assert_gone(execute(&mut client, &a).await, "an idle statement");
        assert_gone(execute(&mut client, &c).await, "an idle statement");
        server.stop().await;

        // Values larger than the server keeps are refused, clearly.
        let config = ServerConfig {
            statements: StatementLimits {
                param_bytes: 1,
                ..StatementLimits::default()
            },
            ..ServerConfig::default()
        };
        let server = Running::start(engine, config).await;
        let mut client = server.client().await;
        let handle = prepare(&mut client, BY_BRAND).await;
        let err = bind(
            &mut client,
            &handle,
            dbapi_parameters(&[PyValue::Str(first)]),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        assert!(err.message().contains("exceed the server's limit"), "{err}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_mistakes_are_explained_to_clients_in_plain_words() {
    let engine = socialcx::open("memory://").await.unwrap();
    let server = Running::start(engine, ServerConfig::default()).await;
    let mut client = server.client().await;
    let err = run(&mut client, "SELECT count(*) FROM conversation")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert_eq!(
        err.message(),
        "table 'conversation' not found; did you mean 'conversations'?"
    );
    let err = run(&mut client, "SELECT DATE '2026-02-30' AS d")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert_eq!(
        err.message(),
        "'2026-02-30' is not a valid date (expected YYYY-MM-DD, a day that exists)"
    );
    let err = run(&mut client, "SELECT *\nFRM conversations")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(
        err.message()
            .starts_with("syntax error at line 2, column 1: ")
            && err.message().ends_with("\n  FRM conversations\n  ^"),
        "{err}"
    );
    // The server goes on.
    let (_, batches) = run(&mut client, "SELECT 1 AS one").await.unwrap();
    assert_eq!(rows(&batches), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_asks_reads_one_endpoint_per_partition_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    // Four busy days: a file each, so the scan has a partition per core.
    let engine = common::engine_in(dir.path()).await;
    let file = common::generate_days(dir.path(), "g.ndjson", 120_000, 5, 4);
    common::ingest(&engine, &[file]).await;
    let sql = "SELECT conversation_id, text FROM conversations WHERE likes >= 0";
    let mut expected: Vec<String> =
        common::rows(&engine, "SELECT conversation_id FROM conversations")
            .await
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    expected.sort();
    let partitions = engine
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap()
        .properties()
        .partitioning
        .partition_count();
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        assert!(
            partitions > 1,
            "a scan of many files plans several partitions"
        );
    }
    // One slot: a split query must hold one, and give it back once read.
    let config = ServerConfig {
        max_concurrent_queries: 1,
        query_timeout: Duration::from_secs(20),
        ..ServerConfig::default()
    };
    let server = Running::start(engine.clone(), config).await;

    let mut plain = server.client().await;
    let info = plain.execute(sql.to_string(), None).await.unwrap();
    assert_eq!(info.endpoint.len(), 1, "one endpoint unless asked");
    assert!(info.ordered);
    let (_, batches) = fetch(&mut plain, info).await.unwrap();
    assert_eq!(rows(&batches), expected.len());

    let mut split = server.client().await;
    split.set_header("x-socialcx-endpoints", "partitions");
    let info = split.execute(sql.to_string(), None).await.unwrap();
    assert_eq!(info.endpoint.len(), partitions);
    assert!(
        partitions == 1 || !info.ordered,
        "a split answer is not ordered"
    );
    let tickets: Vec<_> = info
        .endpoint
        .iter()
        .map(|e| e.ticket.clone().unwrap())
        .collect();
    // Every endpoint read at once, each on its own connection.
    let reads = tickets.iter().cloned().map(|ticket| {
        let server = &server;
        async move {
            let mut client = server.client().await;
            let stream = client.do_get(ticket).await.map_err(status)?;
            stream
                .try_collect::<Vec<RecordBatch>>()
                .await
                .map_err(tonic::Status::from)
        }
    });
    let parts = futures::future::try_join_all(reads).await.unwrap();
    let mut got: Vec<String> = Vec::new();
    for batches in &parts {
        assert!(
            rows(batches) > 0 || partitions == 1,
            "each partition holds rows"
        );
        for batch in batches {
            let ids = batch.column(0).as_string::<i32>();
            got.extend(ids.iter().map(|v| v.unwrap().to_string()));
        }
    }
    got.sort();
    assert_eq!(got, expected, "the endpoints together hold every row once");

    // A ticket is read once.
    let again = split.do_get(tickets[0].clone()).await.map_err(status);
    let error = match again {
        Ok(stream) => stream
            .try_collect::<Vec<RecordBatch>>()
            .await
            .map_err(tonic::Status::from)
            .unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(error.code(), Code::NotFound, "{error}");
    assert!(error.message().contains("already read"), "{error}");

    // The slot came back: the next query runs. ORDER BY and aggregates keep one
    // ordered endpoint even when asked.
    let info = split
        .execute(
            "SELECT conversation_id FROM conversations ORDER BY conversation_id".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(info.endpoint.len(), 1);
    assert!(info.ordered);
    let (_, batches) = fetch(&mut split, info).await.unwrap();
    let ordered: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ordered, expected);
    let info = split
        .execute(
            "SELECT brand, count(*) FROM conversations GROUP BY brand".into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(info.endpoint.len(), 1);
    server.stop().await;
}
