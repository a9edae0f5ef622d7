//! The [`Engine`]: one DataFusion session over one lake, shared by every interface
//! (CLI, shell, Flight SQL server, jobs). No interface builds a `SessionContext` of
//! its own: what the engine registers, every interface sees.

pub mod catalog;
pub mod exec;
pub mod explain;
pub mod files;
pub mod functions;
pub mod influence;
pub mod max_by;
pub mod moments;
pub mod plain;
pub mod scoring;
pub mod sentiment;
pub mod table_function;
pub mod text_kernel;
pub mod text_model;

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use url::Url;

use crate::lake::metrics::{METRICS, MetricsSchema};
use crate::lake::table::LakeTable;
use crate::lake::{self, Lake};
use crate::model::CONVERSATIONS;
use crate::{Error, Result};

/// The catalog the lake's tables live in, as BI tools see it.
pub const CATALOG: &str = "socialcx";
/// The schema of the lake's tables.
pub const SCHEMA: &str = "public";

/// `text` as a SQL string literal: in single quotes, its own quotes doubled.
///
/// ```
/// assert_eq!(socialcx::engine::sql_literal("O'Hara"), "'O''Hara'");
/// assert_eq!(socialcx::engine::sql_literal(""), "''");
/// ```
pub fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The files a physical plan reads from the object store `url`, as (path, size), sorted,
/// each once (a large file split over partitions is one file); `None` when the plan reads
/// anything else (another store, memory, a stream). The files name what the plan reads, not
/// what it computes from it: a key for its result also needs the plan itself (and, for
/// scores computed on the fly, the scoring configuration).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> datafusion::error::Result<()> {
/// use datafusion::execution::object_store::ObjectStoreUrl;
/// let df = engine.sql("SELECT count(*) FROM conversations").await.unwrap();
/// let plan = df.create_physical_plan().await?;
/// let lake = ObjectStoreUrl::parse(socialcx::lake::OBJECT_STORE_URL)?;
/// for (path, size) in socialcx::engine::lake_files_read(&plan, &lake).unwrap_or_default() {
///     println!("{path}: {size} bytes");
/// }
/// # Ok(()) }
/// ```
pub fn lake_files_read(
    plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    url: &datafusion::execution::object_store::ObjectStoreUrl,
) -> Option<Vec<(String, u64)>> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::physical_plan::empty::EmptyExec;
    use datafusion::physical_plan::placeholder_row::PlaceholderRowExec;
    let mut files = std::collections::BTreeSet::new();
    let mut other_source = false;
    plan.apply(|node| {
        if !node.children().is_empty() {
            return Ok(TreeNodeRecursion::Continue);
        }
        let scan = node
            .downcast_ref::<DataSourceExec>()
            .and_then(|ds| ds.data_source().downcast_ref::<FileScanConfig>())
            .filter(|scan| scan.object_store_url == *url);
        match scan {
            Some(scan) => {
                let read = scan.file_groups.iter().flat_map(|group| group.iter());
                files
                    .extend(read.map(|f| (f.object_meta.location.to_string(), f.object_meta.size)));
            }
            None if node.is::<EmptyExec>() || node.is::<PlaceholderRowExec>() => {}
            None => {
                other_source = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("the visit itself never fails");
    if other_source {
        return None;
    }
    Some(files.into_iter().collect())
}

/// How to build an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The lake URL (a path, `file://`, `memory://`, `s3://`, `gs://` or `az://`).
    pub lake: String,
    /// Bytes the engine may hold in memory for sorts, joins and aggregates before it
    /// spills to disk or fails the query. `None`: 75% of physical memory.
    pub memory_limit: Option<usize>,
    /// Where spill files go. `None`: the system temporary directory.
    pub spill_dir: Option<PathBuf>,
    /// Parallelism of a query. `None`: the number of cores.
    pub target_partitions: Option<usize>,
    /// A domain lexicon (TOML) over the sentiment functions: words and phrases
    /// added or overridden for both modes (see [`sentiment`]).
    pub lexicon: Option<PathBuf>,
    /// A moments-of-truth taxonomy (TOML) extending or replacing the shipped one
    /// (see [`moments`]).
    pub taxonomy: Option<PathBuf>,
    /// The triage routing table (TOML, stage -> team) replacing the shipped one
    /// (see [`crate::reports::routing`]).
    pub routing: Option<PathBuf>,
    /// Object-store options for cloud lakes (`aws_endpoint`, ...), over the environment.
    pub storage_options: Vec<(String, String)>,
    /// Whether `read_parquet`, `read_csv` and `read_json` may read files of the local
    /// filesystem (`true` by default); the lake's files (`lake://...`) they always read.
    /// See [`files`].
    pub local_files: bool,
    /// Whether the lake is only read (a local lake directory that does not exist is then
    /// an error) or also written (it is then created). Default: written.
    pub access: lake::location::Access,
    /// What registers functions, tables and views beyond the engine's own, in order (the
    /// shipped reports, through [`crate::open_with`]).
    pub extensions: Vec<Arc<dyn EngineExtension>>,
    /// Where planned queries run when not in this process (a cluster); `None`: here.
    pub dispatch: Option<Arc<dyn Dispatch>>,
}

/// Where an engine's planned queries run when not in its own process: a cluster (the
/// `cluster` module implements it; the engine never imports it). The engine still plans
/// every query itself, with its tables, files and functions, and hands the physical plan
/// over at the one place plans are executed ([`Engine::execute`]).
///
/// ```
/// # use std::sync::Arc;
/// use datafusion::physical_plan::ExecutionPlan;
/// use datafusion::prelude::SessionConfig;
/// #[derive(Debug)]
/// struct Here;
/// #[async_trait::async_trait]
/// impl socialcx::engine::Dispatch for Here {
///     async fn configure(&self, config: SessionConfig) -> socialcx::Result<SessionConfig> { Ok(config) }
///     fn dispatch(&self, plan: Arc<dyn ExecutionPlan>, _: &Arc<socialcx::engine::scoring::Scoring>)
///         -> Arc<dyn ExecutionPlan> { plan }
/// }
/// let cfg = socialcx::EngineConfig::new("memory://").with_dispatch(Arc::new(Here));
/// assert!(cfg.dispatch.is_some());
/// ```
#[async_trait::async_trait]
pub trait Dispatch: Send + Sync + std::fmt::Debug {
    /// The planning settings the plans it runs need (a cluster's: its partitions, its
    /// restrictions), applied once as the engine opens; an error (a cluster nobody runs)
    /// stops the engine from opening. An explicit [`EngineConfig::target_partitions`]
    /// still wins.
    async fn configure(&self, config: SessionConfig) -> Result<SessionConfig>;
    /// A plan that runs `plan` elsewhere and streams its result back to this process;
    /// `scoring` is the configuration the engine planned it with.
    fn dispatch(
        &self,
        plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        scoring: &Arc<scoring::Scoring>,
    ) -> Arc<dyn datafusion::physical_plan::ExecutionPlan>;
}

/// Adds functions, tables or views to an engine as it opens. Higher layers (the shipped
/// reports) plug in through this, so the engine never imports them.
///
/// ```
/// # use std::sync::Arc;
/// #[derive(Debug)]
/// struct Nothing;
/// #[async_trait::async_trait]
/// impl socialcx::engine::EngineExtension for Nothing {
///     async fn register(&self, _: &socialcx::Engine, _: &socialcx::EngineConfig) -> socialcx::Result<()> {
///         Ok(())
///     }
/// }
/// let cfg = socialcx::EngineConfig::new("memory://").with_extension(Arc::new(Nothing));
/// assert_eq!(cfg.extensions.len(), 1);
/// ```
#[async_trait::async_trait]
pub trait EngineExtension: Send + Sync + std::fmt::Debug {
    /// Register into `engine` (opened with `config`).
    async fn register(&self, engine: &Engine, config: &EngineConfig) -> Result<()>;
}

impl EngineConfig {
    /// Defaults for the lake at `lake`.
    ///
    /// ```
    /// let cfg = socialcx::EngineConfig::new("./lake").with_memory_limit(1 << 30);
    /// assert_eq!(cfg.memory_limit, Some(1 << 30));
    /// ```
    pub fn new(lake: impl Into<String>) -> Self {
        Self {
            lake: lake.into(),
            memory_limit: None,
            spill_dir: None,
            target_partitions: None,
            lexicon: None,
            taxonomy: None,
            routing: None,
            storage_options: Vec::new(),
            local_files: true,
            access: lake::location::Access::Write,
            extensions: Vec::new(),
            dispatch: None,
        }
    }

    /// Run the engine's queries through `dispatch` (on a cluster) instead of in this process.
    pub fn with_dispatch(mut self, dispatch: Arc<dyn Dispatch>) -> Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// Let the file functions read local files (the default) or only the lake's (`false`:
    /// a local path is refused before anything is read).
    ///
    /// ```
    /// let cfg = socialcx::EngineConfig::new("./lake").with_local_files(false);
    /// assert!(!cfg.local_files);
    /// ```
    pub fn with_local_files(mut self, allowed: bool) -> Self {
        self.local_files = allowed;
        self
    }

    /// Open the lake to only read it, or also to write it (see [`lake::location::Access`]).
    ///
    /// ```
    /// use socialcx::lake::location::Access;
    /// let cfg = socialcx::EngineConfig::new("./lake").with_access(Access::Read);
    /// assert_eq!(cfg.access, Access::Read);
    /// ```
    pub fn with_access(mut self, access: lake::location::Access) -> Self {
        self.access = access;
        self
    }

    /// Register `extension` when the engine opens (after those added before).
    pub fn with_extension(mut self, extension: Arc<dyn EngineExtension>) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Set the memory limit in bytes.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Set the spill directory.
    pub fn with_spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// Use the domain lexicon at `path` for the sentiment functions.
    pub fn with_lexicon(mut self, path: impl Into<PathBuf>) -> Self {
        self.lexicon = Some(path.into());
        self
    }

    /// Use the moments-of-truth taxonomy at `path` (extending the shipped one, or
    /// replacing it when the file says `replace = true`).
    pub fn with_taxonomy(mut self, path: impl Into<PathBuf>) -> Self {
        self.taxonomy = Some(path.into());
        self
    }

    /// Route triaged conversations with the table at `path` (TOML `[teams] stage = "team"`)
    /// instead of the shipped one.
    ///
    /// ```
    /// let cfg = socialcx::EngineConfig::new("./lake").with_routing("routing.toml");
    /// assert!(cfg.routing.is_some());
    /// ```
    pub fn with_routing(mut self, path: impl Into<PathBuf>) -> Self {
        self.routing = Some(path.into());
        self
    }

    /// Add an object-store option for a cloud lake (it overrides the environment).
    ///
    /// ```
    /// let cfg = socialcx::EngineConfig::new("s3://cx/lake")
    ///     .with_storage_option("aws_endpoint", "http://localhost:9000")
    ///     .with_storage_option("aws_allow_http", "true");
    /// assert_eq!(cfg.storage_options.len(), 2);
    /// ```
    pub fn with_storage_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.storage_options.push((key.into(), value.into()));
        self
    }

    /// Set the number of partitions a query runs with.
    pub fn with_target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = Some(n);
        self
    }
}

/// An analytics engine over one lake.
#[derive(Clone)]
pub struct Engine {
    ctx: SessionContext,
    lake: Arc<Lake>,
    memory_limit: usize,
    pool: Arc<exec::ExecPool>,
    scoring: Arc<scoring::Scoring>,
    dispatch: Option<Arc<dyn Dispatch>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("lake", &self.lake.url())
            .field("memory_limit", &self.memory_limit)
            .finish()
    }
}

impl Engine {
    /// Open a lake with `config`: the engine's own tables and functions, then each of
    /// `config.extensions`. Applications open through [`crate::open_with`], which adds the
    /// shipped reports.
    ///
    /// ```no_run
    /// # async fn f() -> socialcx::Result<()> {
    /// let engine = socialcx::Engine::with_config(socialcx::EngineConfig::new("./lake")).await?;
    /// engine.sql("SELECT count(*) FROM conversations").await?.show().await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_config(config: EngineConfig) -> Result<Engine> {
        let lake = Lake::open_for(&config.lake, &config.storage_options, config.access).await?;
        Self::over_lake(lake, &config).await
    }

    /// An engine over an already opened lake (`config.lake` is not used), with
    /// `config.extensions` registered.
    pub async fn over_lake(lake: Arc<Lake>, config: &EngineConfig) -> Result<Engine> {
        let engine = Self::bare(lake, config).await?;
        engine.refresh().await?;
        for extension in &config.extensions {
            extension.register(&engine, config).await?;
        }
        Ok(engine)
    }

    /// The engine's own tables and functions over `lake`.
    async fn bare(lake: Arc<Lake>, config: &EngineConfig) -> Result<Engine> {
        let memory_limit = config.memory_limit.unwrap_or_else(default_memory_limit);
        let disk = match &config.spill_dir {
            Some(dir) => DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
            None => DiskManagerBuilder::default(),
        };
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_limit, 1.0)
            .with_disk_manager_builder(disk)
            .build_arc()?;

        let mut session = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG, SCHEMA)
            .with_information_schema(true);
        if let Some(dispatch) = &config.dispatch {
            session = dispatch.configure(session).await?;
        }
        if let Some(n) = config.target_partitions {
            session = session.with_target_partitions(n);
        }
        let options = session.options_mut();
        // Files read by path (`read_parquet`, external tables) give plain Utf8, as their
        // readers expect; the lake's tables are scanned as Utf8View and every statement's
        // results cast back to Utf8 (see `plain`).
        options.execution.parquet.schema_force_view_types = false;
        options.sql_parser.map_string_types_to_utf8view = false;
        // A sort sets this much aside for merging its spill files; DataFusion's 10 MiB
        // would fail every sort under a small limit instead of spilling.
        options.execution.sort_spill_reservation_bytes = options
            .execution
            .sort_spill_reservation_bytes
            .min(memory_limit / 16);

        let ctx = SessionContext::new_with_config_rt(session, runtime);
        ctx.add_analyzer_rule(Arc::new(plain::DistinctCountOfPlainStrings));
        let url = Url::parse(lake::OBJECT_STORE_URL).expect("static URL");
        ctx.register_object_store(&url, Arc::clone(lake.store()));
        let scoring = functions::register_all(&ctx, config)?;
        for def in lake::tables() {
            let name = def.name.clone();
            let mut table = LakeTable::new(Arc::clone(&lake), def);
            if name == CONVERSATIONS {
                table = table.with_derived(Arc::clone(&scoring) as _);
            }
            ctx.register_table(name, Arc::new(table))?;
        }
        let metrics = Arc::new(MetricsSchema::new(Arc::clone(&lake)));
        ctx.catalog(CATALOG)
            .expect("the default catalog")
            .register_schema(METRICS, Arc::clone(&metrics) as _)?;
        // Before the extensions, which describe their table functions to it.
        catalog::register(&ctx);
        Ok(Engine {
            ctx,
            lake,
            memory_limit,
            pool: Arc::new(exec::ExecPool::new()),
            scoring,
            dispatch: config.dispatch.clone(),
        })
    }

    /// What scores messages in this engine (its fingerprint names the configuration).
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) {
    /// use socialcx::lake::table::DerivedColumns;
    /// println!("scores by {}", engine.scoring().fingerprint());
    /// # }
    /// ```
    pub fn scoring(&self) -> &Arc<scoring::Scoring> {
        &self.scoring
    }

    /// This engine's score columns, planned once for `conversations` batches (what ingest
    /// and `enrich` store).
    ///
    /// ```no_run
    /// # fn f(engine: socialcx::Engine, batch: datafusion::arrow::array::RecordBatch) -> socialcx::Result<()> {
    /// let scored = engine.scorer()?.score(&batch)?;
    /// assert_eq!(scored.num_rows(), batch.num_rows());
    /// # Ok(()) }
    /// ```
    pub fn scorer(&self) -> Result<scoring::Scorer> {
        self.scoring.scorer(&self.ctx.state())
    }

    /// Plan a SQL statement. The result is lazy: execute it with `collect`,
    /// `execute_stream` or `show`.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let df = engine.sql("SELECT brand, count(*) AS n FROM conversations GROUP BY brand").await?;
    /// let batches = df.collect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn sql(&self, sql: &str) -> Result<DataFrame> {
        let plan = self.ctx.state().create_logical_plan(sql).await?;
        self.plan_to_frame(plan).await
    }

    /// Split `sql` into statements (DataFusion's dialect), without planning them.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// for statement in engine.parse("SELECT 1; SELECT 2")? {
    ///     engine.execute_statement(statement).await?.show().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        let state = self.ctx.state();
        let options = &state.config().options().sql_parser;
        let dialect = dialect_from_str(options.dialect)
            .ok_or_else(|| Error::Usage(format!("unsupported SQL dialect {}", options.dialect)))?;
        let statements = DFParserBuilder::new(sql)
            .with_dialect(dialect.as_ref())
            .with_recursion_limit(options.recursion_limit.get())
            .build()?
            .parse_statements()?;
        Ok(statements.into())
    }

    /// Plan one parsed statement (DDL such as `CREATE VIEW` takes effect here).
    pub async fn execute_statement(&self, statement: Statement) -> Result<DataFrame> {
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        self.plan_to_frame(plan).await
    }

    /// A planned statement as a DataFrame (DDL takes effect here), its results plain
    /// `Utf8` ([`plain::plain_plan`]).
    async fn plan_to_frame(
        &self,
        plan: datafusion::logical_expr::LogicalPlan,
    ) -> Result<DataFrame> {
        Ok(self
            .ctx
            .execute_logical_plan(plain::plain_plan(plan)?)
            .await?)
    }

    /// Read the lake's commit log again: tables written since (a job's new metrics table)
    /// appear in the catalog. Queries read the newest data by themselves; listings
    /// (`SHOW TABLES`, Flight SQL's GetTables) see new tables after a refresh.
    pub async fn refresh(&self) -> Result<()> {
        let schema = self
            .ctx
            .catalog(CATALOG)
            .and_then(|c| c.schema(METRICS))
            .ok_or_else(|| Error::Usage("the engine has no metrics schema".into()))?;
        match schema.downcast_ref::<MetricsSchema>() {
            Some(metrics) => metrics.refresh().await,
            None => Ok(()),
        }
    }

    /// The DataFusion session, for interfaces that plan or stream themselves.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The runtime queries execute on (see [`exec`]): apart from the caller's, so that a
    /// server's network tasks stay responsive under heavy queries.
    pub fn pool(&self) -> &exec::ExecPool {
        &self.pool
    }

    /// Execute a physical plan on the engine's pool; see [`exec::run`].
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// use std::time::{Duration, Instant};
    /// let plan = engine.sql("SELECT count(*) FROM conversations").await?.create_physical_plan().await?;
    /// let limit = Duration::from_secs(30);
    /// let query = engine.execute(plan, Some((Instant::now() + limit, limit)), ());
    /// # Ok(()) }
    /// ```
    pub fn execute<G: Send + 'static>(
        &self,
        plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        deadline: Option<(std::time::Instant, std::time::Duration)>,
        guard: G,
    ) -> exec::RunningQuery {
        exec::run(
            &self.pool,
            self.dispatched(plan),
            self.ctx.task_ctx(),
            deadline,
            guard,
        )
    }

    /// `plan` as this engine runs it: handed to its [`Dispatch`] when it has one.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let plan = engine.sql("SELECT 1").await?.create_physical_plan().await?;
    /// let runs = engine.dispatched(plan);
    /// # Ok(()) }
    /// ```
    pub fn dispatched(
        &self,
        plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    ) -> Arc<dyn datafusion::physical_plan::ExecutionPlan> {
        match &self.dispatch {
            Some(dispatch) => dispatch.dispatch(plan, &self.scoring),
            None => plan,
        }
    }

    /// Execute a planned DataFrame (on the engine's pool, or its cluster) and collect
    /// every batch.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let batches = engine.collect(engine.sql("SELECT 1 AS n").await?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect(
        &self,
        df: DataFrame,
    ) -> Result<Vec<datafusion::arrow::array::RecordBatch>> {
        use futures::TryStreamExt;
        let stream = self.stream(df).await?;
        Ok(stream.try_collect().await?)
    }

    /// Stream a planned DataFrame's batches, executing on the engine's pool: dropping the
    /// stream (Ctrl-C in the shell, say) stops the query's work promptly.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// use futures::StreamExt;
    /// let mut batches = engine.stream(engine.sql("SELECT 1 AS n").await?).await?;
    /// while let Some(batch) = batches.next().await { println!("{:?}", batch?); }
    /// # Ok(()) }
    /// ```
    pub async fn stream(
        &self,
        df: DataFrame,
    ) -> Result<datafusion::execution::SendableRecordBatchStream> {
        let plan = df.create_physical_plan().await?;
        Ok(self.execute(plan, None, ()).into_stream())
    }

    /// Run `work` (a DDL statement, say) on the engine's pool and wait for it; dropping
    /// the returned future aborts it.
    pub async fn run_in_pool<T, F>(&self, work: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        struct AbortOnDrop(tokio::task::AbortHandle);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let task = self.pool.runtime().spawn(work);
        let _abort = AbortOnDrop(task.abort_handle());
        match task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Usage(format!("the statement failed: {e}"))),
        }
    }

    /// The lake this engine reads and writes.
    pub fn lake(&self) -> &Arc<Lake> {
        &self.lake
    }

    /// The memory limit in force, in bytes.
    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    /// Names of the tables in the engine's default schema, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let mut names = self
            .ctx
            .catalog(CATALOG)
            .and_then(|c| c.schema(SCHEMA))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// 75% of physical memory (from `/proc/meminfo`), or 4 GiB where that is unknown.
fn default_memory_limit() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
    });
    match total_kib {
        Some(kib) => kib / 4 * 3 * 1024,
        None => 4 << 30,
    }
}

/// Parse a size such as `512MiB`, `4G`, `1.5GB` or `1000000` (bytes).
///
/// ```
/// assert_eq!(socialcx::engine::parse_size("2GiB").unwrap(), 2 << 30);
/// assert_eq!(socialcx::engine::parse_size("512m").unwrap(), 512 << 20);
/// assert!(socialcx::engine::parse_size("lots").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| Error::Usage(format!("not a size: '{text}' (try 4GiB or 512MiB)")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(Error::Usage(format!("unknown size unit in '{text}'"))),
    };
    Ok((num * mult) as usize)
}
