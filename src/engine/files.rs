//! Files outside the lake's tables, read in place, as DuckDB reads them:
//!
//! - `read_parquet(path)`;
//! - `read_csv(path [, header [, delimiter]])`: a header line by default, `,` between values;
//! - `read_json(path)`: newline-delimited JSON (one object per line).
//!
//! `path` is one of:
//!
//! - a local path, relative to the current directory of the process running the engine (the
//!   server's, for the Flight SQL server) or absolute, or a `file://` URL;
//! - `lake://path/in/the/lake`: a file or directory under the lake's root, read through the
//!   lake's own object store (so it works the same on a local, `memory://` or cloud lake);
//! - on a cloud lake, the lake's own URL and a path under it (`s3://bucket/lake/exports/x.parquet`
//!   is `lake://exports/x.parquet` when the lake is `s3://bucket/lake`).
//!
//! A path names one file (any name), a directory (its `*.parquet`, `*.csv` or `*.json` files,
//! and those in `key=value` subdirectories, as Hive partitions are laid out), or a glob over
//! the file names of one directory (`data/*.parquet`, `lake://exports/2026-*.csv`). Each call
//! lists the files and infers their schema when the statement is planned, so files added since
//! the last call are read.
//!
//! A session may be limited to the lake's files ([`lake_files_only`]: the Flight SQL server
//! without `--allow-file-access`), and an engine opened with
//! [`super::EngineConfig::with_local_files`]`(false)` reads no local file at all: a local path
//! is then refused with [`LocalFilesRefused`], before anything is read.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::cache::TableScopedPath;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use url::Url;

use super::EngineConfig;
use super::table_function::CallArgs;
use crate::lake;

/// How a path inside the lake is written.
pub const LAKE_PREFIX: &str = "lake://";

/// Which reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `read_parquet`
    Parquet,
    /// `read_csv`
    Csv,
    /// `read_json`
    Json,
}

impl FileKind {
    /// Every reader.
    pub const ALL: [FileKind; 3] = [FileKind::Parquet, FileKind::Csv, FileKind::Json];

    /// The SQL name.
    ///
    /// ```
    /// assert_eq!(socialcx::engine::files::FileKind::Csv.name(), "read_csv");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Parquet => "read_parquet",
            FileKind::Csv => "read_csv",
            FileKind::Json => "read_json",
        }
    }

    /// How it is called.
    ///
    /// ```
    /// use socialcx::engine::files::FileKind;
    /// assert_eq!(FileKind::Csv.signature(), "read_csv(path [, header [, delimiter]])");
    /// ```
    pub fn signature(self) -> &'static str {
        match self {
            FileKind::Parquet => "read_parquet(path)",
            FileKind::Csv => "read_csv(path [, header [, delimiter]])",
            FileKind::Json => "read_json(path)",
        }
    }

    /// What it does, in a sentence.
    ///
    /// ```
    /// assert!(socialcx::engine::files::FileKind::Json.description().contains("one JSON object per line"));
    /// ```
    pub fn description(self) -> &'static str {
        match self {
            FileKind::Parquet => {
                "Parquet files read in place: a local path or glob, a file:// URL, or lake://path in the lake."
            }
            FileKind::Csv => {
                "CSV files read in place (path as for read_parquet); header (default true) says whether the first line names the columns, delimiter (default ',') is one character."
            }
            FileKind::Json => {
                "Newline-delimited JSON files (one JSON object per line) read in place (path as for read_parquet)."
            }
        }
    }

    /// An example call.
    ///
    /// ```
    /// assert!(socialcx::engine::files::FileKind::Parquet.example().contains("read_parquet('exports/*.parquet')"));
    /// ```
    pub fn example(self) -> &'static str {
        match self {
            FileKind::Parquet => "SELECT count(*) FROM read_parquet('exports/*.parquet')",
            FileKind::Csv => "SELECT * FROM read_csv('labels.csv', true, ';') LIMIT 10",
            FileKind::Json => "SELECT * FROM read_json('lake://exports/posts.ndjson') LIMIT 10",
        }
    }

    /// The most arguments a call takes.
    fn max_args(self) -> usize {
        match self {
            FileKind::Csv => 3,
            FileKind::Parquet | FileKind::Json => 1,
        }
    }

    /// The extension a directory's files must have (DataFusion's, without the dot; `json`
    /// also matches `.ndjson`).
    fn extension(self) -> &'static str {
        match self {
            FileKind::Parquet => "parquet",
            FileKind::Csv => "csv",
            FileKind::Json => "json",
        }
    }

    /// The file format of a call (`read_csv`'s options read from `args`), with the session's
    /// Parquet options (plain `Utf8` strings, as the engine sets them).
    fn format(self, args: &CallArgs, session: &dyn Session) -> Result<Arc<dyn FileFormat>> {
        Ok(match self {
            FileKind::Parquet => Arc::new(
                ParquetFormat::default().with_options(session.default_table_options().parquet),
            ),
            FileKind::Csv => {
                let header = match args.cast(1, "header", &DataType::Boolean, "true or false")? {
                    None => true,
                    Some(ScalarValue::Boolean(Some(header))) => header,
                    Some(other) => {
                        return Err(args.error("header", format!("{other} is not true or false")));
                    }
                };
                let delimiter = match args.string(2, "delimiter")? {
                    None => b',',
                    Some(d) if d.len() == 1 => d.as_bytes()[0],
                    Some(d) => {
                        return Err(args.error(
                            "delimiter",
                            format!("'{d}' is not one character (',', ';', '|' or E'\\t')"),
                        ));
                    }
                };
                Arc::new(
                    CsvFormat::default()
                        .with_has_header(header)
                        .with_delimiter(delimiter),
                )
            }
            FileKind::Json => Arc::new(JsonFormat::default().with_newline_delimited(true)),
        })
    }
}

/// The marker of a session whose file functions read the lake's files only: see
/// [`lake_files_only`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LakeFilesOnly;

/// A copy of `ctx` (the same tables, functions and settings) whose file functions read the
/// lake's files only: a local path is refused with [`LocalFilesRefused`] before anything is
/// read. The Flight SQL server plans in such a session unless `--allow-file-access` is given.
/// No SQL statement (`SET` included) lifts the limit.
///
/// ```
/// use datafusion::prelude::SessionContext;
/// use socialcx::engine::files::{LakeFilesOnly, lake_files_only};
/// let limited = lake_files_only(&SessionContext::new());
/// assert!(limited.state().config().get_extension::<LakeFilesOnly>().is_some());
/// ```
pub fn lake_files_only(ctx: &SessionContext) -> SessionContext {
    let mut state = ctx.state();
    state.config_mut().set_extension(Arc::new(LakeFilesOnly));
    SessionContext::new_with_state(SessionStateBuilder::new_from_existing(state).build())
}

/// A file function was asked for a local file in a session that reads the lake's files only.
/// The Flight SQL server answers it with `PERMISSION_DENIED`.
///
/// ```
/// let refused = socialcx::engine::files::LocalFilesRefused("read_csv: path: no".into());
/// assert_eq!(refused.to_string(), "read_csv: path: no");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFilesRefused(pub String);

impl fmt::Display for LocalFilesRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LocalFilesRefused {}

/// Register `read_parquet`, `read_csv` and `read_json` on `ctx`; `config.lake` tells which
/// cloud URLs are the lake's, `config.local_files` whether local files may be read.
///
/// ```
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::files::register(&ctx, &socialcx::EngineConfig::new("memory://"));
/// assert!(ctx.table_function("read_parquet").is_ok());
/// ```
pub fn register(ctx: &SessionContext, config: &EngineConfig) {
    let lake = LakePaths::of(&config.lake);
    for kind in FileKind::ALL {
        ctx.register_udtf(
            kind.name(),
            Arc::new(ReadFiles {
                kind,
                lake: lake.clone(),
                local_files: config.local_files,
            }),
        );
    }
}

/// `read_parquet`, `read_csv` or `read_json`, as registered.
#[derive(Debug, Clone)]
pub struct ReadFiles {
    kind: FileKind,
    lake: LakePaths,
    local_files: bool,
}

impl ReadFiles {
    /// Whether `session` may read local files through this function.
    fn local_files_allowed(&self, session: &dyn Session) -> bool {
        self.local_files && session.config().get_extension::<LakeFilesOnly>().is_none()
    }
}

impl TableFunctionImpl for ReadFiles {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let given = args.exprs().len();
        if given == 0 {
            return plan_err!("{}: no path given", self.kind.signature());
        }
        if given > self.kind.max_args() {
            return plan_err!("{}: {given} arguments given", self.kind.signature());
        }
        let session = args.session();
        let call = CallArgs::evaluate(self.kind.name(), &args)?;
        let path = call
            .string(0, "path")?
            .ok_or_else(|| call.error("path", "NULL is not a path"))?;
        let format = self.kind.format(&call, session)?;
        let target = self
            .lake
            .locate(&path)
            .map_err(|problem| call.error("path", problem))?;
        if matches!(target, Target::Local(_)) && !self.local_files_allowed(session) {
            let message = format!(
                "{}: path: '{path}' is a file of the host running the engine, which this \
                 session may not read; only files in the lake ({LAKE_PREFIX}...) can be read \
                 here (a Flight SQL server reads local files with --allow-file-access)",
                self.kind.name()
            );
            return Err(DataFusionError::External(Box::new(LocalFilesRefused(
                message,
            ))));
        }
        let url = target
            .url()
            .map_err(|e| call.error("path", format!("'{path}': {}", e.strip_backtrace())))?;
        // A directory means its files of the format's extension; one file or a glob, any name.
        let extension = if url.is_collection() && url.get_glob().is_none() {
            self.kind.extension()
        } else {
            ""
        };
        let table = wait(read(session, url, format, extension, &path))
            .map_err(|e| call.error("path", format!("'{path}': {e}")))?
            .map_err(|problem| call.error("path", problem))?;
        Ok(Arc::new(table))
    }
}

/// List the files of `url` (a fresh listing: each call sees the files there now) and infer
/// their schema; `shown` is the path as the call wrote it, for messages.
async fn read(
    session: &dyn Session,
    url: ListingTableUrl,
    format: Arc<dyn FileFormat>,
    extension: &str,
    shown: &str,
) -> std::result::Result<ListingTable, String> {
    let failed = |e: DataFusionError| format!("'{shown}': {}", e.strip_backtrace());
    let runtime = session.runtime_env();
    let store = runtime.object_store(&url).map_err(failed)?;
    if let Some(cache) = runtime.cache_manager.get_list_files_cache() {
        // The listing DataFusion cached for this path at an earlier call is stale by now.
        let key = TableScopedPath {
            table: None,
            path: url.prefix().clone(),
        };
        let _ = cache.remove(&key);
    }
    let first = {
        let mut files = url
            .list_all_files(session, store.as_ref(), extension)
            .await
            .map_err(failed)?;
        files.try_next().await.map_err(failed)?
    };
    if first.is_none() {
        return Err(if url.get_glob().is_some() {
            format!("no file matches '{shown}'")
        } else if url.is_collection() {
            format!("no .{extension} file in '{shown}'")
        } else {
            format!("no file '{shown}'")
        });
    }
    let options = ListingOptions::new(format).with_file_extension(extension);
    let schema = options
        .infer_schema(session, &url)
        .await
        .map_err(|e| format!("cannot read '{shown}': {}", e.strip_backtrace()))?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema);
    ListingTable::try_new(config).map_err(failed)
}

/// Wait for `future` from the synchronous planner, which calls table functions.
///
/// On a multi-threaded Tokio runtime (the CLI's, the server's, the engine's pool) the worker
/// thread steps out of the runtime while it waits, so the runtime's other tasks go on and the
/// future's I/O runs on the same runtime. Elsewhere (a single-threaded runtime, which must not
/// block, or no runtime at all) the future runs on a thread and a runtime of its own.
fn wait<F>(future: F) -> std::io::Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    if let Ok(handle) = Handle::try_current()
        && handle.runtime_flavor() == RuntimeFlavor::MultiThread
    {
        return Ok(tokio::task::block_in_place(move || handle.block_on(future)));
    }
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || -> std::io::Result<F::Output> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Ok(runtime.block_on(future))
        });
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Which paths are the lake's.
#[derive(Debug, Clone, Default)]
struct LakePaths {
    /// The lake's URL when it is on object storage (`s3://bucket/lake`, no trailing `/`).
    cloud: Option<String>,
}

impl LakePaths {
    /// The lake paths of the lake at `lake` (an engine's `config.lake`).
    fn of(lake: &str) -> LakePaths {
        let cloud = Url::parse(lake)
            .ok()
            .filter(lake::cloud::is_cloud)
            .map(|_| {
                lake::location::redact(lake)
                    .trim_end_matches('/')
                    .to_string()
            });
        LakePaths { cloud }
    }

    /// Where `path` points, or why it cannot be read.
    fn locate(&self, path: &str) -> std::result::Result<Target, String> {
        if let Some(rest) = path.strip_prefix(LAKE_PREFIX) {
            return Ok(Target::Lake(rest.trim_start_matches('/').to_string()));
        }
        if let Some(root) = &self.cloud
            && let Some(rest) = path.strip_prefix(root.as_str())
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return Ok(Target::Lake(rest.trim_start_matches('/').to_string()));
        }
        if path.starts_with("file:") {
            let url = Url::parse(path).map_err(|e| format!("'{path}' is not a file URL: {e}"))?;
            let local = url
                .to_file_path()
                .map_err(|()| format!("'{path}' names no local file"))?;
            return match local.to_str() {
                Some(local) => Ok(Target::Local(local.to_string())),
                None => Err(format!("'{path}' is not a UTF-8 path")),
            };
        }
        if std::path::Path::new(path).is_absolute() {
            return Ok(Target::Local(path.to_string()));
        }
        match Url::parse(path) {
            // A Windows drive letter parses as a one-letter scheme: a path.
            Ok(url) if url.scheme().len() > 1 => {
                let lake = match &self.cloud {
                    Some(root) => format!(", or the lake's own {root}/..."),
                    None => String::new(),
                };
                Err(format!(
                    "'{path}': only local paths, file:// URLs and paths in the lake \
                     ({LAKE_PREFIX}path{lake}) can be read"
                ))
            }
            _ => Ok(Target::Local(path.to_string())),
        }
    }
}

/// A path, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A path of the local filesystem (relative to the current directory, or absolute).
    Local(String),
    /// A path relative to the lake's root (`""`: the root).
    Lake(String),
}

impl Target {
    /// The listing URL: local paths as DataFusion reads them (globs included), lake paths on
    /// the lake's store, with a glob over the last part split off.
    fn url(&self) -> Result<ListingTableUrl> {
        match self {
            Target::Local(path) => ListingTableUrl::parse(path),
            Target::Lake(path) => {
                let store = lake::OBJECT_STORE_URL;
                match path.find(['*', '?', '[']) {
                    None => ListingTableUrl::parse(format!("{store}{path}")),
                    Some(at) => {
                        let cut = path[..at].rfind('/').map_or(0, |i| i + 1);
                        let (dir, glob) = path.split_at(cut);
                        ListingTableUrl::parse(format!("{store}{dir}"))?.with_glob(glob)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LakePaths, Target};

    #[test]
    fn paths_are_local_or_in_the_lake() {
        let local = LakePaths::of("./lake");
        assert_eq!(
            local.locate("data/*.parquet"),
            Ok(Target::Local("data/*.parquet".into()))
        );
        assert_eq!(
            local.locate("/tmp/x.csv"),
            Ok(Target::Local("/tmp/x.csv".into()))
        );
        assert_eq!(
            local.locate("file:///tmp/a%20b.csv"),
            Ok(Target::Local("/tmp/a b.csv".into()))
        );
        assert_eq!(
            local.locate("lake://exports/x.parquet"),
            Ok(Target::Lake("exports/x.parquet".into()))
        );
        assert_eq!(local.locate("lake://"), Ok(Target::Lake(String::new())));
        let err = local.locate("s3://bucket/x.parquet").unwrap_err();
        assert!(err.contains("only local paths"), "{err}");
        assert!(local.locate("https://example.com/x.csv").is_err());

        let cloud = LakePaths::of("s3://cx/lake");
        assert_eq!(
            cloud.locate("s3://cx/lake/exports/x.parquet"),
            Ok(Target::Lake("exports/x.parquet".into()))
        );
        // Another prefix of the bucket is not the lake.
        let err = cloud.locate("s3://cx/lakeside/x.parquet").unwrap_err();
        assert!(err.contains("s3://cx/lake/..."), "{err}");
    }

    #[test]
    fn lake_paths_become_urls_on_the_lake_store_with_their_glob() {
        let url = Target::Lake("exports/2026-*.csv".into()).url().unwrap();
        assert_eq!(url.as_str(), "socialcx://lake/exports/");
        assert!(url.get_glob().is_some());
        let url = Target::Lake("*.parquet".into()).url().unwrap();
        assert_eq!(url.as_str(), "socialcx://lake/");
        assert_eq!(url.prefix().to_string(), "");
        let url = Target::Lake("exports/x.parquet".into()).url().unwrap();
        assert_eq!(url.prefix().to_string(), "exports/x.parquet");
        assert!(!url.is_collection() && url.get_glob().is_none());
        // `..` cannot leave the lake's root: dropped by the URL, or refused.
        if let Ok(url) = Target::Lake("../../etc/passwd".into()).url() {
            assert_eq!(url.prefix().to_string(), "etc/passwd");
        }
    }
}
