//! Files outside the lake's tables: `read_parquet`, `read_csv` and `read_json` over files the
//! tests write themselves (with arrow's Parquet writer, or by hand), local and in the lake;
//! `CREATE EXTERNAL TABLE` through the binary; what a Flight SQL server lets clients read.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::Int64Type;
use parquet::arrow::ArrowWriter;
use socialcx::generator::OutputLayout;
use socialcx::server::ServerConfig;
use tonic::Code;

use crate::common::{self, ok};
use crate::server::{Running, run};

/// A Parquet file of `(id, name, score)` rows.
fn write_parquet(path: &Path, ids: &[i64], names: &[&str], scores: &[f64]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef),
        (
            "name",
            Arc::new(StringArray::from(names.to_vec())) as ArrayRef,
        ),
        (
            "score",
            Arc::new(Float64Array::from(scores.to_vec())) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The message of the error planning `sql` gives (it must fail).
async fn plan_error(engine: &socialcx::Engine, sql: &str) -> String {
    match engine.sql(sql).await {
        Ok(_) => panic!("{sql} planned"),
        Err(e) => e.to_string(),
    }
}

/// The binary, run in `dir` on a memory lake.
fn socialcx_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .current_dir(dir)
        .args(["--lake", "memory://"])
        .args(args)
        .env_remove("SOCIALCX_LAKE")
        .env_remove("SOCIALCX_JOBS")
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_csv_and_ndjson_files_are_read_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let data = dir.path().join("data");
    write_parquet(
        &data.join("a.parquet"),
        &[3, 1, 2],
        &["cy", "ann", "bob"],
        &[-2.0, 0.5, 1.25],
    );
    std::fs::write(
        data.join("people.csv"),
        "id,name,score\n1,ann,0.5\n2,\"bob, jr\",1.25\n3,cy,-2\n",
    )
    .unwrap();
    std::fs::write(data.join("export.txt"), "1;ann\n2;bob\n").unwrap();
    std::fs::write(
        data.join("posts.ndjson"),
        "{\"id\":2,\"name\":\"bob\",\"tags\":[]}\n{\"id\":1,\"name\":\"ann\",\"tags\":[\"a\",\"b\"]}\n",
    )
    .unwrap();
    let at = |name: &str| data.join(name).display().to_string();

    let sql = format!(
        "SELECT id, name, score FROM read_parquet('{}') ORDER BY id",
        at("a.parquet")
    );
    assert_eq!(
        common::rows(&engine, &sql).await,
        [
            ["1", "ann", "0.5"],
            ["2", "bob", "1.25"],
            ["3", "cy", "-2.0"]
        ]
    );
    // The same file by its file:// URL.
    let sql = format!(
        "SELECT sum(id) FROM read_parquet('file://{}')",
        at("a.parquet")
    );
    assert_eq!(common::scalar(&engine, &sql).await, 6);

    // CSV: a header by default, quoted values, types inferred.
    let sql = format!(
        "SELECT id, name, score, arrow_typeof(score) FROM read_csv('{}') ORDER BY id",
        at("people.csv")
    );
    assert_eq!(
        common::rows(&engine, &sql).await,
        [
            ["1", "ann", "0.5", "Float64"],
            ["2", "bob, jr", "1.25", "Float64"],
            ["3", "cy", "-2.0", "Float64"]
        ]
    );
    // No header, another delimiter, another extension.
    let sql = format!(
        "SELECT column_1, column_2 FROM read_csv('{}', false, ';') ORDER BY 1",
        at("export.txt")
    );
    assert_eq!(
        common::rows(&engine, &sql).await,
        [["1", "ann"], ["2", "bob"]]
    );

    // NDJSON, a list among the values.
    let sql = format!(
        "SELECT id, name, tags FROM read_json('{}') ORDER BY id",
        at("posts.ndjson")
    );
    assert_eq!(
        common::rows(&engine, &sql).await,
        [["1", "ann", "[a, b]"], ["2", "bob", "[]"]]
    );

    // A file read in place joins the lake's tables like any table.
    let sql = format!(
        "SELECT count(*) FROM read_parquet('{}') f LEFT JOIN conversations c \
         ON c.conversation_id = f.name",
        at("a.parquet")
    );
    assert_eq!(common::scalar(&engine, &sql).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glob_or_a_directory_reads_every_file_it_names_as_they_are_now() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let exports = dir.path().join("exports");
    write_parquet(
        &exports.join("a.parquet"),
        &[1, 2],
        &["a", "b"],
        &[1.0, 2.0],
    );
    write_parquet(&exports.join("b.parquet"), &[3], &["c"], &[3.0]);
    std::fs::write(exports.join("notes.txt"), "not parquet").unwrap();
    let count_sum =
        |path: &str| format!("SELECT count(*) AS n, sum(id) AS s FROM read_parquet('{path}')");
    let glob = format!("{}/*.parquet", exports.display());
    let directory = format!("{}/", exports.display());
    let one = format!("{}/a*.parquet", exports.display());

    for (path, expected) in [
        (&glob, ["3", "6"]),
        (&directory, ["3", "6"]),
        (&one, ["2", "3"]),
    ] {
        assert_eq!(
            common::rows(&engine, &count_sum(path.as_str())).await,
            [expected],
            "{path}"
        );
    }
    // A file written since the last call is read by the next one.
    write_parquet(&exports.join("c.parquet"), &[10], &["d"], &[4.0]);
    for path in [&glob, &directory] {
        assert_eq!(
            common::rows(&engine, &count_sum(path.as_str())).await,
            [["4", "16"]],
            "{path}"
        );
    }

    // A relative path is relative to the current directory of the process.
    let out = ok(&socialcx_in(
        dir.path(),
        &[
            "sql",
            "SELECT count(*) AS n, sum(id) AS s FROM read_parquet('exports/*.parquet')",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(out, "n,s\n4,16\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_cannot_be_read_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let missing = dir.path().join("nope.parquet").display().to_string();
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, "hello, not parquet").unwrap();
    let cases = [
        (
            format!("SELECT * FROM read_parquet('{missing}')"),
            vec!["read_parquet: path:", "no file", "nope.parquet"],
        ),
        (
            format!("SELECT * FROM read_csv('{}/*.csv')", dir.path().display()),
            vec!["read_csv: path:", "no file matches", "*.csv"],
        ),
        (
            format!("SELECT * FROM read_parquet('{}')", bad.display()),
            vec!["read_parquet: path:", "cannot read", "bad.parquet"],
        ),
        (
            "SELECT * FROM read_parquet()".to_string(),
            vec!["read_parquet(path): no path given"],
        ),
        (
            "SELECT * FROM read_json('a.ndjson', 'b')".to_string(),
            vec!["read_json(path): 2 arguments given"],
        ),
        (
            "SELECT * FROM read_csv('a.csv', true, ';;')".to_string(),
            vec!["read_csv: delimiter:", "not one character"],
        ),
        (
            "SELECT * FROM read_csv('a.csv', 'maybe')".to_string(),
            vec!["read_csv: header:", "not true or false"],
        ),
        (
            "SELECT * FROM read_parquet(NULL)".to_string(),
            vec!["read_parquet: path: NULL is not a path"],
        ),
        (
            "SELECT * FROM read_parquet('https://example.com/x.parquet')".to_string(),
            vec!["read_parquet: path:", "only local paths", "lake://"],
        ),
    ];
    for (sql, expected) in &cases {
        let message = plan_error(&engine, sql).await;
        for part in expected {
            assert!(message.contains(part), "{sql}: {message}");
        }
    }

    // Through the binary: an error on stderr and exit status 1, no panic.
    let out = socialcx_in(
        dir.path(),
        &["sql", "SELECT * FROM read_parquet('nope/*.parquet')"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("read_parquet: path:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_in_the_lake_are_read_through_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let input = common::generate(dir.path(), "g.ndjson", 400, 5, OutputLayout::Ndjson);
    let summary = common::ingest(&engine, std::slice::from_ref(&input)).await;
    let lines = common::read_ndjson(&input).len() as i64;
    assert_eq!(summary.landed() as i64, lines);

    // The lake's own data files, under their partition directories.
    for path in ["lake://conversations/", "lake://conversations/*.parquet"] {
        let sql = format!("SELECT count(*) FROM read_parquet('{path}')");
        assert_eq!(common::scalar(&engine, &sql).await, lines, "{path}");
    }
    // A file put in the lake by hand.
    let lake = dir.path().join("lake");
    write_parquet(
        &lake.join("exports/x.parquet"),
        &[8, 7],
        &["h", "g"],
        &[0.0, 0.0],
    );
    let in_lake = "SELECT id, name FROM read_parquet('lake://exports/x.parquet') ORDER BY id";
    assert_eq!(
        common::rows(&engine, in_lake).await,
        [["7", "g"], ["8", "h"]]
    );

    // An engine that reads no local file still reads the lake's, but not the same file by
    // its local path.
    let limited = socialcx::open_with(
        socialcx::EngineConfig::new(lake.display().to_string()).with_local_files(false),
    )
    .await
    .unwrap();
    assert_eq!(
        common::rows(&limited, in_lake).await,
        [["7", "g"], ["8", "h"]]
    );
    let sql = format!(
        "SELECT * FROM read_parquet('{}')",
        lake.join("exports/x.parquet").display()
    );
    let message = plan_error(&limited, &sql).await;
    assert!(
        message.contains("read_parquet: path:") && message.contains("only files in the lake"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_reads_local_files_only_with_file_access_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::engine_in(dir.path()).await;
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "k\nhost-only\n").unwrap();
    write_parquet(
        &dir.path().join("lake/exports/x.parquet"),
        &[7, 8],
        &["g", "h"],
        &[0.0, 0.0],
    );
    let local = format!("SELECT k FROM read_csv('{}')", secret.display());
    let in_lake = "SELECT sum(id) AS s FROM read_parquet('lake://exports/x.parquet')";

    let server = Running::start(engine.clone(), ServerConfig::default()).await;
    let mut client = server.client().await;
    let err = run(&mut client, &local).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("--allow-file-access"), "{err}");
    assert!(!err.message().contains("host-only"), "{err}");
    let (_, batches) = run(&mut client, in_lake).await.unwrap();
    assert_eq!(
        batches[0].column(0).as_primitive::<Int64Type>().value(0),
        15
    );
    server.stop().await;
    // The limit is the server's: the engine itself still reads the file.
    assert_eq!(common::rows(&engine, &local).await, [["host-only"]]);

    let trusted = Running::start(
        engine,
        ServerConfig {
            allow_file_access: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let mut client = trusted.client().await;
    let (_, batches) = run(&mut client, &local).await.unwrap();
    assert_eq!(
        batches[0].column(0).as_string::<i32>().value(0),
        "host-only"
    );
    trusted.stop().await;
}

#[test]
fn create_external_table_reads_a_file_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.parquet");
    write_parquet(&file, &[1, 2, 3], &["a", "b", "c"], &[0.5, 1.25, -2.0]);
    let sql = format!(
        "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{}'; \
         SELECT count(*) AS n, sum(score) AS s FROM t",
        file.display()
    );
    let out = ok(&socialcx_in(
        dir.path(),
        &["sql", sql.as_str(), "--format", "csv"],
    ));
    assert_eq!(out, "n,s\n3,-0.25\n");
    // And in the shell, a relative LOCATION from the current directory.
    let out = ok(&socialcx_in(
        dir.path(),
        &[
            "shell",
            "-c",
            "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 't.parquet';",
            "-c",
            ".format csv",
            "-c",
            "SELECT name FROM t WHERE id = 2;",
        ],
    ));
    assert_eq!(out, "name\nb\n");
}
