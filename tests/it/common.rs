//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use socialcx::generator::{GeneratorConfig, OutputLayout, generate_file};
use socialcx::ingest::{IngestOptions, IngestSummary, ingest_files};
use socialcx::{Engine, EngineConfig};

/// The repository root (for shipped sample files).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shipped sample file.
pub fn sample(name: &str) -> PathBuf {
    repo().join("datasets/sample").join(name)
}

/// A new, empty lake directory `dir/lake` (commands that only read refuse a lake
/// directory that is not there).
pub fn empty_lake(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    lake
}

/// An engine over a new lake in `dir`.
pub async fn engine_in(dir: &Path) -> Engine {
    socialcx::open_with(
        EngineConfig::new(dir.join("lake").display().to_string()).with_target_partitions(2),
    )
    .await
    .expect("engine opens")
}

/// Land `files`, without progress bars.
pub async fn ingest(engine: &Engine, files: &[PathBuf]) -> IngestSummary {
    ingest_files(engine, files, &IngestOptions::default())
        .await
        .expect("ingest runs")
}

/// Generate `rows` messages with `seed` into `dir/name`.
pub fn generate(dir: &Path, name: &str, rows: u64, seed: u64, layout: OutputLayout) -> PathBuf {
    generate_with(
        dir,
        name,
        GeneratorConfig {
            rows,
            seed,
            layout,
            ..Default::default()
        },
    )
}

/// `rows` generated NDJSON messages over `days` days from 2026-01-01 into `dir/name`.
pub fn generate_days(dir: &Path, name: &str, rows: u64, seed: u64, days: u32) -> PathBuf {
    generate_with(
        dir,
        name,
        GeneratorConfig {
            rows,
            seed,
            days,
            ..Default::default()
        },
    )
}

pub fn generate_with(dir: &Path, name: &str, config: GeneratorConfig) -> PathBuf {
    let path = dir.join(name);
    assert_eq!(
        generate_file(&config, &path, &socialcx::progress::Silent).unwrap(),
        config.rows
    );
    path
}

/// Run the `socialcx` binary on `lake` (the environment's lake and jobs file ignored).
pub fn socialcx(lake: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(lake)
        .args(args)
        .env_remove("SOCIALCX_LAKE")
        .env_remove("SOCIALCX_JOBS")
        .output()
        .expect("the binary runs")
}

/// Run the `socialcx` binary on `lake` with `input` on its standard input (a pipe, closed
/// after it).
pub fn socialcx_stdin(lake: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(lake)
        .args(args)
        .env_remove("SOCIALCX_LAKE")
        .env_remove("SOCIALCX_JOBS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    // Written beside the wait: a child that stops reading early cannot block the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("the binary runs");
    writer.join().unwrap();
    out
}

/// The stdout of a run that must have succeeded (else its output, in the panic).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Run a query and collect its batches.
pub async fn query(engine: &Engine, sql: &str) -> Vec<RecordBatch> {
    engine
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of a query's result, each cell as displayed text (null as "").
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    cells(&query(engine, sql).await)
}

/// Every row of `batches`, each cell as displayed text (null as "").
pub fn cells(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| datafusion::arrow::util::display::array_value_to_string(c, i).unwrap())
                    .collect(),
            );
        }
    }
    out
}

/// `rows` with every decimal number rounded to 10 significant digits: floating-point sums
/// differ in the last bits with the order parallel aggregation adds them in.
pub fn rounded(rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| match c.parse::<f64>() {
                    Ok(f) if c.contains('.') || c.contains('e') => format!("{f:.9e}"),
                    _ => c,
                })
                .collect()
        })
        .collect()
}

/// A query returning one integer.
pub async fn scalar(engine: &Engine, sql: &str) -> i64 {
    let batches = query(engine, sql).await;
    let col = batches[0].column(0);
    let col = datafusion::arrow::compute::cast(col, &datafusion::arrow::datatypes::DataType::Int64)
        .unwrap();
    assert_eq!(col.len(), 1, "{sql} returned {} rows", col.len());
    col.as_primitive::<Int64Type>().value(0)
}

/// A query returning one integer, or the error's message.
pub async fn try_scalar(engine: &Engine, sql: &str) -> Result<i64, String> {
    let batches = engine
        .sql(sql)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let col = datafusion::arrow::compute::cast(
        batches[0].column(0),
        &datafusion::arrow::datatypes::DataType::Int64,
    )
    .map_err(|e| e.to_string())?;
    Ok(col.as_primitive::<Int64Type>().value(0))
}

/// Rows of a two-column (string, integer) result, as pairs.
pub async fn pairs(engine: &Engine, sql: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for b in query(engine, sql).await {
        let keys = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let vals = datafusion::arrow::compute::cast(
            b.column(1),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        for i in 0..b.num_rows() {
            out.push((
                keys.as_string::<i32>().value(i).to_string(),
                vals.as_primitive::<Int64Type>().value(i),
            ));
        }
    }
    out
}

/// Every line of an NDJSON file as a JSON object (the independent reading of inputs).
pub fn read_ndjson(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Run a labelled set's evaluation script `DIR/evaluate.sql` (DIR relative to the
/// repository; the script's files are named relative to the repository too) and
/// return the rows of its final query.
pub async fn evaluation(engine: &Engine, dir: &str) -> Vec<Vec<String>> {
    let script = std::fs::read_to_string(repo().join(dir).join("evaluate.sql"))
        .unwrap()
        .replace(
            "LOCATION 'datasets/",
            &format!("LOCATION '{}/datasets/", repo().display()),
        );
    let mut statements = engine.parse(&script).unwrap();
    let last = statements.pop().unwrap();
    for statement in statements {
        query(engine, &statement.to_string()).await;
    }
    rows(engine, &last.to_string()).await
}

/// A report as its file in `queries/` declares it, read here without socialcx's parser:
/// name, title and `(param, type)` pairs, from the `-- name:`, `-- title:` and `-- param:`
/// header lines.
pub struct ReportFile {
    pub name: String,
    pub title: String,
    pub params: Vec<(String, String)>,
}

/// Every `queries/*.sql`, sorted by name.
pub fn report_files() -> Vec<ReportFile> {
    let mut files: Vec<ReportFile> = std::fs::read_dir(repo().join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let header = |key: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(&format!("-- {key}: ")))
                    .unwrap_or_else(|| panic!("{} has no {key}", path.display()))
                    .trim()
                    .to_string()
            };
            let params = text
                .lines()
                .filter_map(|l| l.strip_prefix("-- param: "))
                .map(|p| {
                    let mut words = p.split_whitespace();
                    let name = words.next().unwrap().to_string();
                    (name, words.next().unwrap().to_string())
                })
                .collect();
            ReportFile {
                name: header("name"),
                title: header("title"),
                params,
            }
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

/// The distinct files (their object-store locations) a physical plan reads: a large file
/// split over several partitions counts once.
pub fn files_in_plan(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> std::collections::HashSet<String> {
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    let mut locations = std::collections::HashSet::new();
    let mut stack = vec![std::sync::Arc::clone(plan)];
    while let Some(node) = stack.pop() {
        if let Some(cfg) = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|ds| ds.data_source().downcast_ref::<FileScanConfig>())
        {
            for group in &cfg.file_groups {
                locations.extend(group.iter().map(|f| f.object_meta.location.to_string()));
            }
        }
        stack.extend(node.children().into_iter().cloned());
    }
    locations
}

/// Copy the directory `from` (a local lake, say) to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `socialcx` binary on `lake` with `args`, waiting before each commit at the test-hooks
/// barrier in `barrier` (`SOCIALCX_TEST_COMMIT_BARRIER`): the crash tests kill it there.
pub fn at_commit_barrier(lake: &Path, barrier: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_socialcx"))
        .arg("--lake")
        .arg(lake)
        .args(args)
        .env("SOCIALCX_TEST_COMMIT_BARRIER", barrier)
        .env_remove("SOCIALCX_LAKE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Wait until `child` says it is at a barrier by creating `path` (it must not exit first).
pub fn wait_at_barrier(path: &Path, child: &mut std::process::Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !path.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "exited before {path:?}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "never reached {path:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
