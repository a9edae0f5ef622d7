//! The command line as a user runs it: ingest, sql in every format, the shell, the demo.

use std::collections::BTreeMap;
use std::process::Command;

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
    assert_eq!(out, "n\n3000\n", "the view's statement writes nothing");
}

#[test]
fn bad_sql_is_an_error_message_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
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
    let history = dir.path().join("history");
    let out = socialcx_stdin(
        &lake,
        &["shell", "--history", history.to_str().unwrap()],
        ".tables\n.describe conversations\nSELECT count(*)\n  AS total_rows\n  FROM conversations;\n\
         -- from here on, CSV\n.format csv\nSELECT 40 + 2 AS answer;\nEXPLAIN SELECT count(*) FROM conversations WHERE date = DATE '2026-01-05';\n\
         SELECT 'no semicolon' AS tail\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stdout.contains("Type .help"),
        "a script gets no banner: {stdout}"
    );
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
    assert!(stdout.contains("answer\n42\n"), "{stdout}");
    assert!(
        stdout.contains("conversations/year=2026/"),
        "EXPLAIN shows the pruned file list (500 rows: a year's small days share a file): {stdout}"
    );
    assert!(
        stdout.ends_with("tail\nno semicolon\n"),
        "the last statement runs without its ';': {stdout}"
    );
}

#[test]
fn a_script_stops_at_its_first_error_with_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    let script = ".format csv\nSELECT 1 AS good;\nSELEC oops;\nSELECT 2 AS unreached;\n";

    // Piped into the shell, and given to -c: the statements after the error do not run.
    for (out, source) in [
        (socialcx_stdin(&lake, &["shell"], script), "standard input"),
        (socialcx(&lake, &["shell", "-c", script]), "-c #1"),
    ] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source}: {stderr}");
        assert_eq!(stdout, "good\n1\n", "{source}");
        assert!(stderr.starts_with("error: "), "{source}: {stderr}");
        assert!(
            stderr.contains(&format!("stopped at line 3 of {source}")),
            "{source}: {stderr}"
        );
    }

    // `sql -f -`: a statement that fails to plan stops the script after the first ran.
    let out = socialcx_stdin(
        &lake,
        &["sql", "-f", "-", "-q"],
        "SELECT 'ran' AS good;\nSELECT * FROM missing_table;\nSELECT 'not run' AS unreached;\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("missing_table"), "{stderr}");
    assert!(stdout.contains("| ran "), "{stdout}");
    assert!(
        !stdout.contains("unreached") && !stdout.contains("not run"),
        "{stdout}"
    );
}

#[test]
fn sql_comes_from_an_argument_a_file_standard_input_or_dash_c() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());

    // Piped into `sql`, or `sql -f -`.
    let out = socialcx_stdin(
        &lake,
        &["sql", "--format", "csv", "-q"],
        "SELECT 41 + 1 AS answer;\n",
    );
    assert_eq!(ok(&out), "answer\n42\n");
    let out = socialcx_stdin(
        &lake,
        &["sql", "-f", "-", "--format", "csv", "-q"],
        "CREATE VIEW v AS SELECT 7 AS n;\nSELECT n * 6 AS m FROM v;\n",
    );
    assert_eq!(ok(&out), "m\n42\n");
    // The argument wins over standard input.
    let out = socialcx_stdin(
        &lake,
        &["sql", "SELECT 1 AS one", "--format", "csv", "-q"],
        "SELECT 2 AS two;",
    );
    assert_eq!(ok(&out), "one\n1\n");
    // Nothing on standard input: nothing to run.
    let out = socialcx(&lake, &["sql"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no SQL statement given"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // -c, alone or after shell, takes SQL and shell commands; each -c runs in turn.
    let table = ok(&socialcx(&lake, &["-c", "SELECT 6 * 7 AS answer"]));
    assert!(
        table.contains("answer") && table.contains("| 42 "),
        "{table}"
    );
    assert_eq!(
        ok(&socialcx(
            &lake,
            &["shell", "-c", ".format csv", "-c", "SELECT 6 * 7 AS answer"]
        )),
        "answer\n42\n"
    );
    assert_eq!(
        ok(&socialcx(
            &lake,
            &["-c", ".format ndjson", "-c", "SELECT 1 AS a; SELECT 2 AS b"]
        )),
        "{\"a\":1}\n{\"b\":2}\n",
        "the shell writes each result"
    );
    let out = socialcx(&lake, &["-c", "SELECT 1", "sql", "SELECT 2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("socialcx shell -c SQL"));
    // No command and no -c: the help, and status 2 as for any usage error clap finds.
    let out = socialcx(&lake, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: socialcx"));
}

/// Each column of a Parquet file: its name and its values as integers.
fn parquet_columns(path: &std::path::Path) -> Vec<(String, Vec<i64>)> {
    use datafusion::arrow::array::{AsArray, RecordBatch};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, Int64Type};
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap(),
    )
    .unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let values = batches
                .iter()
                .flat_map(|b| {
                    let column = cast(b.column(i), &DataType::Int64).unwrap();
                    column.as_primitive::<Int64Type>().values().to_vec()
                })
                .collect();
            (field.name().clone(), values)
        })
        .collect()
}

#[test]
fn several_statements_write_the_last_result_in_every_machine_format() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).to_string();

    // The issue's two Parquet files: both readable, each holding the last result.
    let view = dir.path().join("v.parquet");
    let out = socialcx(
        &lake,
        &[
            "sql",
            "CREATE VIEW v AS SELECT 1 AS a; SELECT * FROM v",
            "--format",
            "parquet",
            "-o",
            view.to_str().unwrap(),
        ],
    );
    ok(&out);
    assert!(!stderr(&out).contains("not written"), "{}", stderr(&out));
    assert_eq!(parquet_columns(&view), vec![("a".to_string(), vec![1])]);
    let two = dir.path().join("t.parquet");
    let out = socialcx(
        &lake,
        &[
            "sql",
            "SELECT 10 AS a; SELECT 20 AS b",
            "--format",
            "parquet",
            "-o",
            two.to_str().unwrap(),
        ],
    );
    ok(&out);
    assert_eq!(parquet_columns(&two), vec![("b".to_string(), vec![20])]);
    assert!(
        stderr(&out).contains("statement 1 of 2 (SELECT 10 AS a) returned 1 row, not written"),
        "a note says what was left out: {}",
        stderr(&out)
    );

    // Every other format holds the same one result, and is valid on its own.
    let script = "CREATE VIEW v AS SELECT 10 AS a; SELECT a FROM v; SELECT a * 2 AS b FROM v";
    let run = |format: &str| ok(&socialcx(&lake, &["sql", script, "--format", format, "-q"]));
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json, serde_json::json!([{"b": 20}]));
    assert_eq!(run("ndjson"), "{\"b\":20}\n");
    assert_eq!(run("csv"), "b\n20\n", "no blank line for the view");
    let html = run("html");
    assert_eq!(html.matches("<!DOCTYPE html>").count(), 1, "{html}");
    assert!(
        html.contains("<th>b</th>") && !html.contains("<th>a</th>"),
        "{html}"
    );
    assert!(html.contains(">20</td>"), "{html}");
    // The table, for people, shows every result in turn.
    let table = run("table");
    let (ten, twenty) = (table.find("| 10 |"), table.find("| 20 |"));
    assert!(ten.is_some() && twenty.is_some() && ten < twenty, "{table}");

    // A last statement without rows leaves nothing to write: -o keeps the file it had.
    let kept = dir.path().join("kept.json");
    std::fs::write(&kept, "[]\n").unwrap();
    let out = socialcx(
        &lake,
        &[
            "sql",
            "SELECT 1 AS a; CREATE VIEW w AS SELECT 2 AS b",
            "--format",
            "json",
            "-o",
            kept.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("returns no rows"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "[]\n");
}

#[test]
fn csv_writes_list_and_struct_cells_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = generate(dir.path(), "in.ndjson", 300, 5, OutputLayout::Ndjson);
    ok(&socialcx(
        &lake,
        &["ingest", "--no-progress", file.to_str().unwrap()],
    ));
    let input: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = read_ndjson(&file)
        .into_iter()
        .map(|r| (r["conversation_id"].as_str().unwrap().to_string(), r))
        .collect();

    let text = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT conversation_id, mentions, hashtags, \
             named_struct('brand', brand, 'likes', likes) AS info FROM conversations",
            "--format",
            "csv",
            "-q",
        ],
    ));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["conversation_id", "mentions", "hashtags", "info"]
    );
    let (mut rows, mut with_mentions) = (0, 0);
    for record in reader.records() {
        let record = record.unwrap();
        let expected = &input[&record[0]];
        let mentions: serde_json::Value = serde_json::from_str(&record[1]).unwrap();
        assert_eq!(mentions, expected["mentions"], "{record:?}");
        let hashtags: Vec<String> = serde_json::from_str(&record[2]).unwrap();
        let expected_tags: Vec<String> = expected["hashtags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap().to_lowercase())
            .collect();
        assert_eq!(hashtags, expected_tags, "{record:?}");
        let info: serde_json::Value = serde_json::from_str(&record[3]).unwrap();
        assert_eq!(
            info,
            serde_json::json!({"brand": expected["brand"], "likes": expected["likes"]}),
            "{record:?}"
        );
        rows += 1;
        with_mentions += usize::from(!mentions.as_array().unwrap().is_empty());
    }
    assert_eq!(rows, 300);
    assert!(with_mentions > 0);

    // Quotes, nulls inside a list and a null struct field, exactly.
    let text = ok(&socialcx(
        &lake,
        &[
            "sql",
            "SELECT make_array('a', 'say \"hi\"', NULL) AS l, \
             named_struct('k', 1, 'v', CAST(NULL AS INT)) AS s",
            "--format",
            "csv",
            "-q",
        ],
    ));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(&record[0], r#"["a","say \"hi\"",null]"#);
    assert_eq!(&record[1], r#"{"k":1,"v":null}"#);
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

#[test]
fn the_table_rounds_floats_and_csv_keeps_every_digit() {
    let lake = std::path::Path::new("memory://");
    let sql = "SELECT 1.0 / 3 AS third, 0.45879999999 AS s, CAST(2.5e-7 AS DOUBLE) AS tiny";
    let table = ok(&socialcx(lake, &["sql", sql]));
    for shown in ["| 0.333333 ", "| 0.4588 ", "| 2.5e-7 "] {
        assert!(table.contains(shown), "{shown} in {table}");
    }
    assert!(
        !table.contains("0.3333333") && !table.contains("0.4587"),
        "{table}"
    );
    // CSV keeps every digit: the values read back are the very numbers.
    let csv = ok(&socialcx(lake, &["sql", sql, "--format", "csv"]));
    let values: Vec<f64> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values, [1.0 / 3.0, 0.45879999999, 2.5e-7], "{csv}");
}

/// The standard error of a run, as text.
fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_lake_that_is_not_there_is_refused_by_reads_and_made_by_writes() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lakee");
    let reads: [&[&str]; 5] = [
        &["sql", "SELECT count(*) FROM conversations"],
        &["shell", "-c", "SELECT 1"],
        &["-c", "SELECT 1"],
        &["report", "channel_audit"],
        &["jobs", "list"],
    ];
    for args in reads {
        let out = socialcx(&lake, args);
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} answered: {:?}", out.stdout);
        assert!(stderr.contains("no lake here"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("socialcx ingest FILE --lake {}", lake.display()))
                && stderr.contains("socialcx demo"),
            "{args:?} does not say how to make one: {stderr}"
        );
        assert!(!lake.exists(), "{args:?} created the lake");
    }
    // The server refuses it too, and exits instead of serving an empty lake.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(&lake)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("SOCIALCX_LAKE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("serve started on a lake that is not there");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    serve
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no lake here"), "{stderr}");
    assert!(!lake.exists(), "serve created the lake");

    // A command that writes makes the lake, and says so once.
    let file = generate(dir.path(), "in.ndjson", 50, 1, OutputLayout::Ndjson);
    let out = socialcx(&lake, &["ingest", "--no-progress", file.to_str().unwrap()]);
    ok(&out);
    let url = format!("file://{}", lake.canonicalize().unwrap().display());
    let stderr = stderr_of(&out);
    assert_eq!(
        stderr.matches("created a new lake at").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("created a new lake at {url}")),
        "{stderr}"
    );
    // It is there now: not new again, and the reads see what landed.
    let other = generate(dir.path(), "more.ndjson", 10, 2, OutputLayout::Ndjson);
    let out = socialcx(&lake, &["ingest", "--no-progress", other.to_str().unwrap()]);
    ok(&out);
    assert!(
        !stderr_of(&out).contains("created a new lake"),
        "{}",
        stderr_of(&out)
    );
    let count = "SELECT count(*) AS n FROM conversations";
    assert_eq!(
        ok(&socialcx(&lake, &["sql", count, "--format", "csv", "-q"])),
        "n\n60\n"
    );
    // A job run writes too: it makes its lake.
    let jobs_lake = dir.path().join("jobs-lake");
    let out = socialcx(
        &jobs_lake,
        &["jobs", "run", "baseline_daily", "--as-of", "2026-01-15"],
    );
    assert!(
        stderr_of(&out).contains("created a new lake at") && jobs_lake.is_dir(),
        "{}",
        stderr_of(&out)
    );
    // A directory that is there but empty is an empty lake; memory:// is always there.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(
        ok(&socialcx(&empty, &["sql", count, "--format", "csv", "-q"])),
        "n\n0\n"
    );
    assert_eq!(
        ok(&socialcx(
            std::path::Path::new("memory://"),
            &["sql", count, "--format", "csv", "-q"]
        )),
        "n\n0\n"
    );
}

#[test]
fn help_sets_global_options_apart_and_names_every_variable() {
    use clap::CommandFactory;
    let lake = std::path::Path::new("memory://");
    let sql = ok(&socialcx(lake, &["sql", "--help"]));
    let (own, global) = sql
        .split_once("Global options:")
        .unwrap_or_else(|| panic!("no global options heading:\n{sql}"));
    for option in ["--format", "--max-rows", "--output", "--quiet"] {
        assert!(
            own.contains(option) && !global.contains(option),
            "{option}:\n{sql}"
        );
    }
    for option in [
        "--lake",
        "--memory-limit",
        "--spill-dir",
        "--lexicon",
        "--verbose",
    ] {
        assert!(
            global.contains(option) && !own.contains(option),
            "{option}:\n{sql}"
        );
    }
    // --lake names every kind of lake.
    for scheme in ["./lake", "file://", "memory://", "s3://", "gs://", "az://"] {
        assert!(
            global.contains(scheme),
            "--lake help lacks {scheme}:\n{sql}"
        );
    }

    // Every option of serve can come from a SOCIALCX_ variable, and its help says which;
    // the credentials, which have no option, are named too.
    let serve_help = ok(&socialcx(lake, &["serve", "--help"]));
    let mut command = socialcx::cli::Cli::command();
    command.build();
    let serve = command.find_subcommand("serve").unwrap();
    let mut own_options = 0;
    for arg in serve.get_arguments() {
        if arg.is_global_set() || arg.get_id() == "help" {
            continue;
        }
        own_options += 1;
        let env = arg
            .get_env()
            .unwrap_or_else(|| panic!("serve --{} has no variable", arg.get_id()))
            .to_string_lossy()
            .into_owned();
        assert!(env.starts_with("SOCIALCX_"), "{env}");
        assert!(
            serve_help.contains(&format!("[env: {env}=")),
            "{env}:\n{serve_help}"
        );
    }
    assert!(own_options >= 9, "{own_options}");
    for variable in [
        "SOCIALCX_USER",
        "SOCIALCX_PASSWORD",
        "SOCIALCX_TOKEN",
        "SOCIALCX_LAKE",
    ] {
        assert!(serve_help.contains(variable), "{variable}:\n{serve_help}");
    }

    // No help text shows rustdoc's link syntax: the doc comments are read as plain words.
    fn check(command: &mut clap::Command, path: &str) {
        let help = command.render_long_help().to_string();
        assert!(
            !help.contains("[`") && !help.contains("`]"),
            "{path} --help shows a rustdoc link:\n{help}"
        );
        for sub in command.get_subcommands_mut() {
            let path = format!("{path} {}", sub.get_name());
            check(sub, &path);
        }
    }
    check(&mut command, "socialcx");
}

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for (shell, marker) in [
        ("bash", "complete -F _socialcx"),
        ("zsh", "#compdef socialcx"),
        ("fish", "complete -c socialcx"),
    ] {
        let script = ok(&socialcx(&lake, &["completions", shell]));
        assert!(script.contains(marker), "{shell}:\n{script}");
        // Fish names options without their dashes (`-l lake`).
        for word in [
            "ingest",
            "shell",
            "serve",
            "report",
            "completions",
            "lake",
            "format",
        ] {
            assert!(script.contains(word), "{shell} does not complete {word}");
        }
    }
    assert!(!lake.exists(), "completions touched the lake");
    let out = socialcx(&lake, &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("bash"), "{}", stderr_of(&out));
}

#[test]
fn common_sql_mistakes_are_explained_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let lake = empty_lake(dir.path());
    let failed = |args: &[&str]| {
        let out = socialcx(&lake, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        stderr_of(&out)
    };
    // A day that does not exist, as a literal and as a cast.
    for (sql, day) in [
        ("SELECT DATE '2026-02-30' AS d", "2026-02-30"),
        ("SELECT '2026-13-01'::date AS d", "2026-13-01"),
    ] {
        let stderr = failed(&["sql", sql]);
        assert!(
            stderr.starts_with(&format!(
                "error: '{day}' is not a valid date (expected YYYY-MM-DD, a day that exists)"
            )),
            "{sql}: {stderr}"
        );
        assert!(!stderr.contains("Cast error"), "{stderr}");
    }
    // A table name one letter off: the closest table, in the shell too.
    let stderr = failed(&["sql", "SELECT count(*) FROM conversation"]);
    assert!(
        stderr.starts_with("error: table 'conversation' not found; did you mean 'conversations'?"),
        "{stderr}"
    );
    let stderr = failed(&["shell", "-c", "SELECT * FROM quarantined;"]);
    assert!(
        stderr.contains("table 'quarantined' not found; did you mean 'quarantine'?"),
        "{stderr}"
    );
    // A syntax error: where it is, and the line with a caret under the place.
    let stderr = failed(&["sql", "SELECT 1;\nSELECT * FRM conversations"]);
    assert!(
        stderr.starts_with("error: syntax error at line 2, column 10: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  SELECT * FRM conversations\n           ^\n"),
        "{stderr}"
    );
    // With -v, DataFusion's own words are there too.
    let out = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(&lake)
        .args(["-v", "sql", "SELECT count(*) FROM conversation"])
        .env_remove("SOCIALCX_LAKE")
        .env_remove("SOCIALCX_LOG")
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("table 'socialcx.public.conversation' not found")
            && stderr.contains("did you mean 'conversations'?"),
        "{stderr}"
    );
}
