//! The command line as a user runs it: ingest, sql in every format, the shell, the demo.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use socialcx::generator::OutputLayout;

use crate::common::*;

#[test]
fn sql_writes_every_format_with_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 3000, 9, OutputLayout::Ndjson);
    let out = ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    assert!(out.contains("3000 landed"), "{out}");

    // The reference: counts per brand read straight from the input file.
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for r in read_ndjson(&file) {
        *expected
            .entry(r["brand"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let sql = "SELECT brand, count(*) AS n FROM conversations GROUP BY brand ORDER BY brand";

    let csv_out = socialcx(&lake, &["sql", sql, "--format", "csv"]);
    let stderr = String::from_utf8_lossy(&csv_out.stderr).to_string();
    assert!(
        stderr.contains(&format!("{} rows in", expected.len())),
        "query time shown: {stderr}"
    );
    let csv_text = ok(&csv_out);
    let mut lines = csv_text.lines();
    assert_eq!(lines.next(), Some("brand,n"));
    let from_csv: BTreeMap<String, i64> = lines
        .map(|l| {
            let (b, n) = l.split_once(',').unwrap();
            (b.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(from_csv, expected);

    let json: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&socialcx(&lake, &["sql", sql, "--format", "json"]))).unwrap();
    let from_json: BTreeMap<String, i64> = json
        .iter()
        .map(|o| {
            (
                o["brand"].as_str().unwrap().to_string(),
                o["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(from_json, expected);

    let ndjson = ok(&socialcx(&lake, &["sql", sql, "--format", "ndjson"]));
    let from_ndjson: BTreeMap<String, i64> = ndjson
        .lines()
        .map(|l| {
            let o: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                o["brand"].as_str().unwrap().to_string(),
                o["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(from_ndjson, expected);

    let parquet = dir.path().join("out.parquet");
    ok(&socialcx(
        &lake,
        &[
            "sql",
            sql,
            "--format",
            "parquet",
            "-o",
            parquet.to_str().unwrap(),
        ],
    ));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&parquet).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, expected.len());

    let table = ok(&socialcx(&lake, &["sql", sql]));
    for (brand, n) in &expected {
        let line = table.lines().find(|l| l.contains(brand.as_str())).unwrap();
        assert!(line.contains(&n.to_string()), "{line}");
    }

    // -f FILE with two statements runs both, in order.
    let script = dir.path().join("q.sql");
    std::fs::write(
        &script,
        "CREATE VIEW b AS SELECT brand FROM conversations;\nSELECT count(*) AS n FROM b;",
    )
    .unwrap();
    let out = ok(&socialcx(
        &lake,
        &["sql", "-f", script.to_str().unwrap(), "--format", "csv"],
    ));
    assert!(out.ends_with("n\n3000\n"), "{out}");
}

#[test]
fn bad_sql_is_an_error_message_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for sql in [
        "SELEC 1",
        "SELECT nope FROM conversations",
        "SELECT * FROM missing_table",
    ] {
        let out = socialcx(&lake, &["sql", sql]);
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{sql}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = socialcx(&lake, &["sql", "SELECT 1", "--format", "parquet"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o FILE"));
}

#[test]
fn the_shell_runs_statements_and_commands_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 500, 2, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(&lake)
        .args(["shell", "--history"])
        .arg(dir.path().join("history"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b".tables\n.describe conversations\nSELECT count(*)\n  AS total_rows\n  FROM conversations;\n\
              SELEC oops;\n.format csv\nSELECT 40 + 2 AS answer;\nEXPLAIN SELECT count(*) FROM conversations WHERE date = DATE '2026-01-05';\n.quit\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("quarantine") && stdout.contains("conversations"),
        "{stdout}"
    );
    assert!(
        stdout.contains("thread_id") && stdout.contains("created_at"),
        "{stdout}"
    );
    assert!(
        stdout.contains("total_rows") && stdout.contains("500"),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: "),
        "a bad statement reports and the shell goes on: {stderr}"
    );
    assert!(stdout.contains("answer\n42\n"), "{stdout}");
    assert!(
        stdout.contains("conversations/year=2026/"),
        "EXPLAIN shows the pruned file list (500 rows: a year's small days share a file): {stdout}"
    );
}

#[test]
fn the_demo_lands_the_sample_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = ok(&socialcx(&lake, &["demo"]));
    for needle in [
        "datasets/sample/twcs_sample.csv",
        "datasets/sample/broken_lines.ndjson",
        "quarantined",
        "Volume by channel",
        "AppleSupport",
        "invalid JSON",
        "last tuesday",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle}:\n{out}");
    }
    // Twice: nothing lands twice.
    let again = ok(&socialcx(&lake, &["demo"]));
    assert!(again.contains("already ingested"), "{again}");
    let count = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n FROM conversations",
            "--format",
            "csv",
            "-q",
        ],
    ));
    let sample_rows = std::fs::read_to_string(sample("conversations.ndjson"))
        .unwrap()
        .lines()
        .count();
    // 13 TWCS rows and 2 good broken-file rows land beside the sample.
    assert_eq!(count, format!("n\n{}\n", sample_rows + 13 + 2));
}

#[test]
fn reports_are_listed_and_run_by_name_with_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 3000, 10, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));

    let list = ok(&socialcx(&lake, &["report", "--list"]));
    for report in crate::common::report_files() {
        assert!(
            list.contains(&format!("{}: {}", report.name, report.title)),
            "{list}"
        );
        for (name, kind) in &report.params {
            assert!(list.contains(&format!("--param {name}=<{kind}>")), "{list}");
        }
    }

    let csv = ok(&socialcx(
        &lake,
        &[
            "report",
            "influencers",
            "-p",
            "limit=3",
            "--param",
            "from=2026-01-01",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(csv.lines().count(), 4, "header and 3 authors: {csv}");
    assert!(
        csv.starts_with("author_id,influence_percentile,pagerank"),
        "{csv}"
    );

    let out = socialcx(&lake, &["report", "baseline", "-p", "from=yesterday"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("from") && stderr.contains("not a timestamp"),
        "{stderr}"
    );
    let out = socialcx(&lake, &["report", "no_such_report"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline"));
}

#[test]
fn a_failed_query_leaves_no_half_written_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 2000, 3, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let out_file = dir.path().join("out.csv");
    std::fs::write(&out_file, "the previous result\n").unwrap();
    // Fails while streaming, after the first batches may have been written.
    let out = socialcx(
        &lake,
        &[
            "sql",
            "SELECT conversation_id, CAST(text AS BIGINT) FROM conversations",
            "--format",
            "csv",
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "the previous result\n"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A good query replaces it whole.
    ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT count(*) AS n FROM conversations",
            "--format",
            "csv",
            "-o",
            out_file.to_str().unwrap(),
        ],
    ));
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "n\n2000\n");
}

#[test]
fn output_onto_a_symlink_or_a_fifo_writes_through_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 100, 3, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let sql = "SELECT count(*) AS n FROM conversations";

    // A symlink stays a symlink; the file it points to gets the result.
    let target = dir.path().join("target.csv");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(&socialcx(
        &lake,
        &["sql", sql, "--format", "csv", "-o", link.to_str().unwrap()],
    ));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "n\n100\n");

    // A named pipe (like /dev/null or /dev/stdout) is written to, not replaced.
    let fifo = dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(&socialcx(
        &lake,
        &["sql", sql, "--format", "csv", "-o", fifo.to_str().unwrap()],
    ));
    assert_eq!(reader.join().unwrap(), "n\n100\n");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // A directory is refused with a message.
    let out = socialcx(&lake, &["sql", sql, "-o", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
}

#[test]
fn several_reports_go_on_one_html_page_only() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 3000, 4, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let page = dir.path().join("cx.html");
    ok(&socialcx(
        &lake,
        &[
            "report",
            "channel_audit",
            "triage",
            "-p",
            "min_posts=5",
            "-p",
            "half_life_hours=12",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
        ],
    ));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"channel_audit\"") && html.contains("id=\"triage\""));
    assert!(html.contains("<b>min_posts</b> = 5") && html.contains("<b>half_life_hours</b> = 12"));
    // Self-contained: nothing to fetch.
    assert!(
        !html.contains("src=") && !html.contains("href=\"http") && !html.contains("@import"),
        "the page fetches something"
    );
    let out = socialcx(&lake, &["report", "channel_audit", "triage"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format html"));
    let out = socialcx(&lake, &["report", "triage", "-p", "min_post=3"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_post"));
}
