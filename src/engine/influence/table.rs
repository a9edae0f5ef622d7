//! The graph table functions over `conversations`:
//!
//! - `author_influence([from, to [, brand]])`: one row per author of the interaction
//!   graph (reply, mention and share edges from the engaging author to the engaged
//!   one) with weighted PageRank, degrees, distinct engagers, reach, conversations and
//!   an influence percentile;
//! - `thread_centrality([from, to [, brand]])`: one row per participant of each
//!   thread with degree, closeness and betweenness centrality in the thread's reply
//!   graph, and the thread's centre.
//!
//! `from` (inclusive) and `to` (exclusive) bound `created_at` (timestamps, dates or
//! strings; NULL for no bound); `brand` keeps one brand's messages. Each call plans
//! the SQL that extracts its input (so the lake prunes files and `EXPLAIN` shows
//! it) under a [`GraphExec`] node that runs the graph algorithm once the input is in.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt32Array,
};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{Distribution, EquivalenceProperties};
use datafusion::physical_expr_common::binary_map::{ArrowBytesMap, OutputType};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream, collect, displayable,
};
use futures::StreamExt;

use super::graph::{DiGraph, centrality};
use crate::engine::sql_literal;
use crate::engine::table_function::{CallArgs, session_state};

/// An `RT @user` share: the shared author is the first capture group.
const RT_PATTERN: &str = "^RT @([A-Za-z0-9_.]+)";

/// PageRank's damping factor (the standard 0.85).
pub const DAMPING: f64 = 0.85;
/// PageRank stops when an iteration changes the ranks by less than this (L1).
pub const TOLERANCE: f64 = 1e-10;

/// Which table function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphKind {
    /// `author_influence`
    Authors,
    /// `thread_centrality`
    Threads,
}

impl GraphKind {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Authors => "author_influence",
            GraphKind::Threads => "thread_centrality",
        }
    }

    /// The function of SQL name `name`.
    ///
    /// ```
    /// use socialcx::engine::influence::table::GraphKind;
    /// assert_eq!(GraphKind::from_name("author_influence"), Some(GraphKind::Authors));
    /// assert_eq!(GraphKind::from_name("pagerank"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<GraphKind> {
        [GraphKind::Authors, GraphKind::Threads]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// The function's output schema.
    pub fn schema(self) -> SchemaRef {
        static AUTHORS: LazyLock<SchemaRef> = LazyLock::new(|| {
            Arc::new(Schema::new(vec![
                Field::new("author_id", DataType::Utf8, false),
                Field::new("is_brand", DataType::Boolean, true),
                Field::new("pagerank", DataType::Float64, false),
                Field::new("in_degree", DataType::Int64, false),
                Field::new("out_degree", DataType::Int64, false),
                Field::new("distinct_engagers", DataType::Int64, false),
                Field::new("followers", DataType::Int64, true),
                Field::new("total_reach", DataType::Int64, false),
                Field::new("conversations", DataType::Int64, false),
                Field::new("messages", DataType::Int64, false),
                Field::new("influence_percentile", DataType::Float64, false),
            ]))
        });
        static THREADS: LazyLock<SchemaRef> = LazyLock::new(|| {
            Arc::new(Schema::new(vec![
                Field::new("thread_id", DataType::Utf8, false),
                Field::new("author_id", DataType::Utf8, false),
                Field::new("messages", DataType::Int64, false),
                Field::new("participants", DataType::Int64, false),
                Field::new("degree", DataType::Float64, false),
                Field::new("closeness", DataType::Float64, false),
                Field::new("betweenness", DataType::Float64, false),
                Field::new("is_centre", DataType::Boolean, false),
                Field::new("centre", DataType::Utf8, false),
            ]))
        });
        match self {
            GraphKind::Authors => Arc::clone(&AUTHORS),
            GraphKind::Threads => Arc::clone(&THREADS),
        }
    }

    /// Whether a call's result is stored in the lake for the next query over the same files
    /// ([`crate::lake::results`]): `author_influence`'s (one row per author, the reports'
    /// costliest step); `thread_centrality`'s has a row per participant of every thread and
    /// is cheaper to compute than to store.
    fn stores_result(self) -> bool {
        self == GraphKind::Authors
    }

    /// How many input plans feed the algorithm.
    fn input_count(self) -> usize {
        match self {
            GraphKind::Authors => 2,
            GraphKind::Threads => 1,
        }
    }

    /// The SQL statements whose results feed the algorithm.
    fn input_sql(self, window: &Window) -> Vec<String> {
        let filter = window.where_clause();
        match self {
            GraphKind::Authors => vec![
                // The window's messages, each read once: its author, what it engages (the
                // author of the parent it replies to, stored at ingest; its mentions; the
                // author an `RT @` shares) and the per-author facts. The graph is built
                // from these in Rust (see `author_influence`): a self-join and a second
                // scan for the facts cost more than interning the ids once
                // (docs/functions.md).
                format!(
                    "SELECT parent_author_id, \
                            CASE WHEN parent_author_id IS NULL THEN parent_id END \
                              AS unresolved_parent, \
                            author_id, thread_id, is_brand, author_followers, mentions, \
                            CASE WHEN text LIKE 'RT @%' \
                                 THEN regexp_match(text, '{RT_PATTERN}')[1] END AS shared \
                     FROM conversations {filter}"
                ),
                // The parents of the replies whose parent's author is not stored (the parent
                // landed after the reply, or a file written before `parent_author_id`
                // existed), looked up by id anywhere in the lake: usually none, and then the
                // lake is not read again (an empty build side ends the join).
                format!(
                    "SELECT conversation_id, author_id FROM conversations \
                     WHERE conversation_id IN (SELECT parent_id FROM conversations {})",
                    window.where_and(&["parent_id IS NOT NULL", "parent_author_id IS NULL"])
                ),
            ],
            GraphKind::Threads => vec![format!(
                "WITH c AS (SELECT thread_id, parent_id, author_id FROM conversations {filter}) \
                 SELECT c.thread_id, c.author_id, p.author_id AS parent_author \
                 FROM c LEFT JOIN conversations p \
                   ON c.parent_id = p.conversation_id AND p.thread_id = c.thread_id"
            )],
        }
    }
}

/// The optional time window and brand of a call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    /// Inclusive lower bound of `created_at`, µs since the epoch (UTC).
    pub from: Option<i64>,
    /// Exclusive upper bound of `created_at`, µs since the epoch (UTC).
    pub to: Option<i64>,
    /// One brand.
    pub brand: Option<String>,
}

impl Window {
    /// Read `[from, to [, brand]]` from a call's arguments, each evaluated as a
    /// constant (`TIMESTAMP '2026-01-01'`, `'2026-01-01'`, `now() - INTERVAL '7 days'`).
    fn from_args(kind: GraphKind, args: &TableFunctionArgs) -> Result<Window> {
        if !matches!(args.exprs().len(), 0 | 2 | 3) {
            return plan_err!(
                "{}() takes no arguments, (from, to) or (from, to, brand); NULL leaves a bound open",
                kind.name()
            );
        }
        let args = CallArgs::evaluate(kind.name(), args)?;
        Ok(Window {
            from: args.timestamp(0, "from")?,
            to: args.timestamp(1, "to")?,
            brand: args.string(2, "brand")?,
        })
    }

    /// `WHERE ...` over `conversations` for this window ("" when unbounded).
    fn where_clause(&self) -> String {
        self.where_and(&[])
    }

    /// `WHERE ...` of this window's conditions and `more`, joined by AND ("" when there
    /// are none).
    fn where_and(&self, more: &[&str]) -> String {
        let ts = |us: i64| format!("arrow_cast({us}, 'Timestamp(µs, \"UTC\")')");
        let mut conditions = Vec::new();
        if let Some(from) = self.from {
            conditions.push(format!("created_at >= {}", ts(from)));
        }
        if let Some(to) = self.to {
            conditions.push(format!("created_at < {}", ts(to)));
        }
        if let Some(brand) = &self.brand {
            conditions.push(format!("brand = {}", sql_literal(brand)));
        }
        conditions.extend(more.iter().map(|c| c.to_string()));
        if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        }
    }
}

/// `author_influence` or `thread_centrality`, as registered.
#[derive(Debug, Clone, Copy)]
pub struct GraphFunction(pub GraphKind);

impl TableFunctionImpl for GraphFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let window = Window::from_args(self.0, &args)?;
        Ok(Arc::new(GraphTable {
            kind: self.0,
            window,
        }))
    }
}

/// One call's result, as a table.
#[derive(Debug, Clone)]
pub struct GraphTable {
    kind: GraphKind,
    window: Window,
}

#[async_trait]
impl TableProvider for GraphTable {
    fn schema(&self) -> SchemaRef {
        self.kind.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let state = session_state(state, self.kind.name())?;
        let mut inputs = Vec::new();
        let mut logical = String::new();
        for sql in self.kind.input_sql(&self.window) {
            let plan = state.create_logical_plan(&sql).await?;
            // What the inputs compute, as this session resolves `conversations` (a view of
            // that name reads the same files and computes something else): part of the key.
            logical.push_str(&plan.display_indent_schema().to_string());
            logical.push('\n');
            inputs.push(state.create_physical_plan(&plan).await?);
        }
        let stored = match self.kind.stores_result() {
            true => Stored::find(state, self.kind, &logical, &inputs).await,
            false => None,
        };
        Ok(Arc::new(GraphExec::new(
            self.kind,
            inputs,
            projection.cloned(),
            stored,
        )?))
    }
}

/// Bump when `author_influence`'s output for the same input changes (its columns, PageRank's
/// constants, a fix), so that results stored by an older build are not read.
const RESULT_VERSION: u32 = 1;

/// This executable's size and modification time: a rebuilt binary (a fix that forgot
/// [`RESULT_VERSION`], a development build) does not read what an older one stored.
fn build_id() -> &'static str {
    static ID: LazyLock<String> = LazyLock::new(|| {
        let meta = std::env::current_exe().and_then(std::fs::metadata);
        match meta {
            Ok(meta) => {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("exe {} {modified}", meta.len())
            }
            Err(_) => "exe unknown".to_string(),
        }
    });
    &ID
}

/// Where a call's result is kept between queries ([`crate::lake::results`]).
#[derive(Debug, Clone)]
struct Stored {
    store: Arc<dyn object_store::ObjectStore>,
    path: object_store::path::Path,
    /// Whether the result was there when the query was planned (what `EXPLAIN` shows).
    found: bool,
}

impl Stored {
    /// Where the result of `kind` computed by the input plans `logical` (their text: the
    /// window, the brand and what `conversations` is in this session) as `inputs` is stored:
    /// its key names the build, those plans and every lake file the inputs read (lake files
    /// are never rewritten in place, so the same names and sizes are the same rows). `None`
    /// when an input reads anything but lake files.
    async fn find(
        state: &datafusion::execution::SessionState,
        kind: GraphKind,
        logical: &str,
        inputs: &[Arc<dyn ExecutionPlan>],
    ) -> Option<Stored> {
        use std::fmt::Write;
        let url = datafusion::execution::object_store::ObjectStoreUrl::parse(
            crate::lake::OBJECT_STORE_URL,
        )
        .ok()?;
        let store = state.runtime_env().object_store(&url).ok()?;
        let mut key = format!(
            "{} {} v{RESULT_VERSION} {}\n{logical}",
            kind.name(),
            env!("CARGO_PKG_VERSION"),
            build_id()
        );
        for input in inputs {
            key.push_str("input\n");
            for (path, size) in crate::engine::lake_files_read(input, &url)? {
                writeln!(key, "{path} {size}").ok()?;
            }
        }
        let path = crate::lake::results::path(kind.name(), &key);
        let found = crate::lake::results::exists(&store, &path).await;
        Some(Stored { store, path, found })
    }

    /// The stored result's columns `projection` (all when `None`), if it is there and
    /// readable.
    async fn read(
        &self,
        kind: GraphKind,
        projection: Option<&[usize]>,
    ) -> Option<Vec<RecordBatch>> {
        let schema = kind.schema();
        match crate::lake::results::read(&self.store, &self.path, &schema, projection).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(path = %self.path, "unreadable stored result, computing it: {e}");
                None
            }
        }
    }

    /// Store `batch` for the next query; a lake that cannot be written (read-only
    /// credentials) only loses the saving.
    async fn write(&self, batch: &RecordBatch) {
        let batches = [batch.clone()];
        let written =
            crate::lake::results::write(&self.store, &self.path, batch.schema(), &batches);
        if let Err(e) = written.await {
            tracing::warn!(path = %self.path, "could not store the result for the next query: {e}");
        }
    }
}

/// A graph call's whole result, shared by the plan nodes that read the same input.
type SharedResult = Arc<tokio::sync::OnceCell<RecordBatch>>;

/// The results of graph calls still held by a plan, by what their inputs read (the
/// verbose plan of each input: its files, columns and filters). A query that names one
/// call twice (a CTE used twice plans it twice) runs the graph once; the result is freed
/// with the last plan that holds it.
static RESULTS: LazyLock<
    std::sync::Mutex<HashMap<String, std::sync::Weak<tokio::sync::OnceCell<RecordBatch>>>>,
> = LazyLock::new(Default::default);

fn shared_result(key: String) -> SharedResult {
    let mut results = RESULTS.lock().expect("graph results");
    results.retain(|_, held| held.strong_count() > 0);
    if let Some(result) = results.get(&key).and_then(std::sync::Weak::upgrade) {
        return result;
    }
    let result = SharedResult::default();
    results.insert(key, Arc::downgrade(&result));
    result
}

/// Runs its inputs to completion, then the graph algorithm; one output partition. Nodes
/// of one query that read the same input share one run.
#[derive(Debug)]
pub struct GraphExec {
    kind: GraphKind,
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
    result: std::sync::OnceLock<SharedResult>,
    /// Where the result is kept between queries (none for `thread_centrality`, or a plan
    /// rebuilt on a cluster's executor).
    stored: Option<Stored>,
}

impl GraphExec {
    fn new(
        kind: GraphKind,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        projection: Option<Vec<usize>>,
        stored: Option<Stored>,
    ) -> Result<GraphExec> {
        let schema = match &projection {
            Some(p) => Arc::new(kind.schema().project(p)?),
            None => kind.schema(),
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(GraphExec {
            kind,
            inputs,
            projection,
            properties: Arc::new(properties),
            result: std::sync::OnceLock::new(),
            stored,
        })
    }
}

impl GraphExec {
    /// The node of function `kind` over `inputs` (the plans of its input SQL, in order),
    /// with the output columns `projection`: how a plan sent elsewhere (to a cluster's
    /// executors) is rebuilt there from [`GraphExec::kind`] and [`GraphExec::projection`].
    pub fn from_parts(
        kind: GraphKind,
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        projection: Option<Vec<usize>>,
    ) -> Result<GraphExec> {
        if inputs.len() != kind.input_count() {
            return exec_err!(
                "{} takes {} inputs, given {}",
                kind.name(),
                kind.input_count(),
                inputs.len()
            );
        }
        GraphExec::new(kind, inputs, projection, None)
    }

    /// Which function this node computes.
    pub fn kind(&self) -> GraphKind {
        self.kind
    }

    /// The output columns (of [`GraphKind::schema`]) it yields, `None` for all.
    pub fn projection(&self) -> Option<&[usize]> {
        self.projection.as_deref()
    }

    /// Where its result is kept between queries, and whether it was there when the query
    /// was planned; `None` when it is not kept (`thread_centrality`, an input that reads
    /// more than lake files, a plan rebuilt on a cluster's executor).
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> datafusion::error::Result<()> {
    /// use socialcx::engine::influence::table::GraphExec;
    /// let df = engine.sql("SELECT * FROM author_influence()").await.unwrap();
    /// let plan = df.create_physical_plan().await?;
    /// if let Some(graph) = plan.downcast_ref::<GraphExec>() {
    ///     println!("{:?}", graph.stored());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stored(&self) -> Option<(String, bool)> {
        self.stored.as_ref().map(|s| (s.path.to_string(), s.found))
    }

    /// Whether its result is in the lake now (one HEAD request); `false` when it is not
    /// kept, or when the HEAD fails. After the node ran, `false` means the store failed (a
    /// warning says why) or the lake could not be asked.
    ///
    /// ```no_run
    /// # async fn f(graph: &socialcx::engine::influence::table::GraphExec) {
    /// if !graph.is_stored().await { println!("computed, not stored"); }
    /// # }
    /// ```
    pub async fn is_stored(&self) -> bool {
        match &self.stored {
            Some(s) => crate::lake::results::exists(&s.store, &s.path).await,
            None => false,
        }
    }

    /// This node over other inputs (the same files: its stored result still applies).
    fn with_inputs(&self, inputs: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(GraphExec::new(
            self.kind,
            inputs,
            self.projection.clone(),
            self.stored.clone(),
        )?))
    }
}

impl DisplayAs for GraphExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "GraphExec: {}", self.kind.name())?;
        match &self.stored {
            Some(stored) if stored.found => write!(f, ", stored result {}", stored.path),
            Some(stored) => write!(f, ", computed and stored as {}", stored.path),
            None => Ok(()),
        }
    }
}

impl ExecutionPlan for GraphExec {
    fn name(&self) -> &str {
        "GraphExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    /// Each input is read whole by the one partition: a plan that spreads its inputs over
    /// partitions must gather them first (a Ballista task otherwise reads only its own
    /// partitions of an input, and the graph would miss edges).
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::SinglePartition; self.inputs.len()]
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.with_inputs(children)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.with_inputs(children)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return exec_err!("GraphExec has one partition, asked for {partition}");
        }
        let (kind, inputs, projection) = (self.kind, self.inputs.clone(), self.projection.clone());
        let schema = self.schema();
        let stored = self.stored.clone();
        let shared = Arc::clone(self.result.get_or_init(|| match &stored {
            Some(stored) => shared_result(stored.path.to_string()),
            None => {
                let mut key = kind.name().to_string();
                for input in &self.inputs {
                    key.push('\n');
                    key.push_str(&displayable(input.as_ref()).indent(true).to_string());
                }
                shared_result(key)
            }
        }));
        let result = async move {
            // A result stored when the query was planned is read, only the columns needed, by
            // each node that reads it (reading it twice costs less than holding it whole).
            if let Some(stored) = stored.as_ref().filter(|s| s.found)
                && let Some(batches) = stored.read(kind, projection.as_deref()).await
            {
                tracing::debug!(function = kind.name(), path = %stored.path, "stored result read");
                return Ok(batches);
            }
            let batch = shared
                .get_or_try_init(|| async {
                    let Some(stored) = stored else {
                        return run_graph(kind, inputs, context).await;
                    };
                    // One stored since the query was planned (one found then was read above,
                    // and is computed again only when it could not be).
                    if !stored.found
                        && let Some(batches) = stored.read(kind, None).await
                    {
                        tracing::debug!(function = kind.name(), path = %stored.path, "stored result read");
                        return Ok(concat_batches(&kind.schema(), &batches)?);
                    }
                    let batch = run_graph(kind, inputs, context).await?;
                    stored.write(&batch).await;
                    Ok(batch)
                })
                .await?;
            Ok(vec![match projection {
                Some(p) => batch.project(&p)?,
                None => batch.clone(),
            }])
        };
        let batches =
            futures::stream::once(result).flat_map(
                |result: Result<Vec<RecordBatch>>| match result {
                    Ok(batches) => futures::stream::iter(batches.into_iter().map(Ok)).left_stream(),
                    Err(e) => futures::stream::once(async { Err(e) }).right_stream(),
                },
            );
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

/// Read a graph call's inputs and run its algorithm: the call's whole result.
async fn run_graph(
    kind: GraphKind,
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    context: Arc<TaskContext>,
) -> Result<RecordBatch> {
    let started = std::time::Instant::now();
    // One input after the other: each already keeps every core busy, and
    // side by side their hash tables would be in memory together.
    let mut collected: Vec<Vec<RecordBatch>> = Vec::new();
    for input in inputs {
        let needed = match (kind, collected.first()) {
            // The parents lookup has nothing to find when every reply's parent author is
            // stored (a lake ingested with `parent_author_id`): it is not run.
            (GraphKind::Authors, Some(messages)) => messages.iter().any(|b| {
                b.column_by_name("unresolved_parent")
                    .is_some_and(|c| c.null_count() < c.len())
            }),
            _ => true,
        };
        collected.push(if needed {
            collect(input, Arc::clone(&context)).await?
        } else {
            Vec::new()
        });
    }
    tracing::debug!(
        function = kind.name(),
        seconds = started.elapsed().as_secs_f64(),
        "graph input read"
    );
    tokio::task::spawn_blocking(move || match kind {
        GraphKind::Authors => author_influence(&collected[0], &collected[1]),
        GraphKind::Threads => thread_centrality(&collected[0]),
    })
    .await
    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?
}

/// Interns author ids as dense node numbers.
#[derive(Default)]
struct Interner {
    ids: datafusion::common::HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }
}

/// Interns whole string columns as dense node numbers, in order of first sight, with
/// DataFusion's own string map (the one `GROUP BY` and `COUNT(DISTINCT)` use: hashes
/// computed a batch at a time, short strings compared inline).
struct ColumnInterner {
    map: ArrowBytesMap<i32, u32>,
    next: u32,
}

impl Default for ColumnInterner {
    fn default() -> Self {
        ColumnInterner {
            map: ArrowBytesMap::new(OutputType::Utf8),
            next: 0,
        }
    }
}

impl ColumnInterner {
    /// The node number of each value of `values` (a `Utf8` array without nulls).
    fn ids(&mut self, values: &ArrayRef) -> Vec<u32> {
        let mut ids = Vec::with_capacity(values.len());
        let next = &mut self.next;
        self.map.insert_if_new(
            values,
            |_| {
                *next += 1;
                *next - 1
            },
            |id| ids.push(id),
        );
        ids
    }

    fn len(&self) -> usize {
        self.next as usize
    }

    /// The interned strings, by node number.
    fn into_names(self) -> StringArray {
        self.map.into_state().as_string::<i32>().clone()
    }
}

/// A column of a collected batch, by name.
fn field<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| datafusion::error::DataFusionError::Internal(format!("no column {name}")))
}

/// A column of a collected batch, by name, cast to `to`.
fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(field(batch, name)?, to)?)
}

fn strings(batch: &RecordBatch, name: &str) -> Result<StringArray> {
    Ok(column(batch, name, &DataType::Utf8)?
        .as_string::<i32>()
        .clone())
}

fn int64s(batch: &RecordBatch, name: &str) -> Result<Int64Array> {
    Ok(column(batch, name, &DataType::Int64)?
        .as_primitive()
        .clone())
}

/// What `author_influence` reports of each author besides the graph measures.
#[derive(Default, Clone)]
struct Facts {
    is_brand: Option<bool>,
    followers: Option<i64>,
    total_reach: i64,
    conversations: i64,
    messages: i64,
}

/// No node: a reply whose parent the lake does not hold.
const NO_NODE: u32 = u32::MAX;

/// The values of a string column that are neither null nor empty, with the row each
/// came from (`rows[i]` for a plain column; a list column's values carry their row).
fn nonempty_values(values: &ArrayRef, rows: &[u32]) -> Result<(ArrayRef, Vec<u32>)> {
    use datafusion::arrow::compute::{cast, filter, kernels::cmp::gt, kernels::length::length};
    let values = cast(values, &DataType::Utf8)?;
    // A null length compares to null, which `filter` drops with the empty strings.
    let keep = gt(&length(&values)?, &Int32Array::new_scalar(0))?;
    let rows = filter(&UInt32Array::from(rows.to_vec()), &keep)?;
    Ok((
        filter(&values, &keep)?,
        rows.as_primitive::<UInt32Type>().values().to_vec(),
    ))
}

/// The interaction edges (engaging author, engaged author) of the window's messages and
/// each author's facts, from the window's messages (`messages`: one row each, see
/// [`GraphKind::input_sql`]) and the parents, found by id, of those replies whose parent's
/// author is not stored (`parents`). Author ids are interned into `authors` (node numbers).
fn author_graph(
    messages: &[RecordBatch],
    parents: &[RecordBatch],
    authors: &mut ColumnInterner,
) -> Result<(Vec<u64>, Vec<Facts>)> {
    let started = std::time::Instant::now();
    // The author of every message, as a node number.
    let author_of =
        |authors: &mut ColumnInterner, batches: &[RecordBatch]| -> Result<Vec<Vec<u32>>> {
            batches
                .iter()
                .map(|b| Ok(authors.ids(&column(b, "author_id", &DataType::Utf8)?)))
                .collect()
        };
    let message_authors = author_of(authors, messages)?;
    let parent_authors = author_of(authors, parents)?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "authors interned"
    );
    let step = std::time::Instant::now();
    // Per-author facts; the conversations (distinct threads) are counted on another core
    // while the edges are found.
    let mut facts: Vec<Facts> = vec![Facts::default(); authors.len()];
    for (batch, ids) in messages.iter().zip(&message_authors) {
        let is_brand = field(batch, "is_brand")?.as_boolean();
        let followers = int64s(batch, "author_followers")?;
        for (i, &id) in ids.iter().enumerate() {
            let f = &mut facts[id as usize];
            if is_brand.is_valid(i) {
                f.is_brand = Some(f.is_brand.unwrap_or(false) | is_brand.value(i));
            }
            if followers.is_valid(i) {
                let v = followers.value(i);
                f.followers = Some(f.followers.map_or(v, |m| m.max(v)));
                f.total_reach += v;
            }
            f.messages += 1;
        }
    }
    tracing::debug!(seconds = step.elapsed().as_secs_f64(), "facts summed");
    let (threads_of, pairs) = std::thread::scope(|scope| -> Result<_> {
        let threads = scope.spawn(|| -> Result<Vec<(u32, i64)>> {
            let started = std::time::Instant::now();
            // (author, thread) pairs, sorted: each author's distinct threads.
            let mut threads = ColumnInterner::default();
            let mut pairs = Vec::new();
            for (batch, ids) in messages.iter().zip(&message_authors) {
                let thread = threads.ids(&column(batch, "thread_id", &DataType::Utf8)?);
                pairs.extend(
                    ids.iter()
                        .zip(&thread)
                        .map(|(&a, &t)| (u64::from(a) << 32) | u64::from(t)),
                );
            }
            pairs.sort_unstable();
            pairs.dedup();
            tracing::debug!(seconds = started.elapsed().as_secs_f64(), "threads counted");
            let mut counts = Vec::new();
            for group in pairs.chunk_by(|a, b| a >> 32 == b >> 32) {
                counts.push(((group[0] >> 32) as u32, group.len() as i64));
            }
            Ok(counts)
        });
        let pairs = interaction_pairs(
            messages,
            parents,
            &message_authors,
            &parent_authors,
            authors,
        );
        let threads = threads.join().map_err(|_| {
            datafusion::error::DataFusionError::Internal("counting threads panicked".into())
        })?;
        Ok((threads?, pairs?))
    })?;
    facts.resize(authors.len(), Facts::default());
    for (author, count) in threads_of {
        facts[author as usize].conversations = count;
    }
    tracing::debug!(
        authors = authors.len(),
        interactions = pairs.len(),
        seconds = started.elapsed().as_secs_f64(),
        "author graph read"
    );
    Ok((pairs, facts))
}

/// Every interaction of the window's messages as `(engaged << 32) | engaging` node pairs
/// (the engaged author first, so the sorted list is grouped as the graph stores it): a
/// reply engages its parent's author, a mention the mentioned author, an `RT @user`
/// share that user.
fn interaction_pairs(
    messages: &[RecordBatch],
    parents: &[RecordBatch],
    message_authors: &[Vec<u32>],
    parent_authors: &[Vec<u32>],
    authors: &mut ColumnInterner,
) -> Result<Vec<u64>> {
    let pair = |src: u32, dst: u32| (u64::from(dst) << 32) | u64::from(src);
    let started = std::time::Instant::now();
    let mut pairs = Vec::new();
    // Replies: the parent's author stored at ingest; for the replies without it, the
    // parent found by id (`parents`: each one's id mapped to its author's node).
    let mut author_by_id = ArrowBytesMap::<i32, u32>::new(OutputType::Utf8);
    for (batch, ids) in parents.iter().zip(parent_authors) {
        let row = std::cell::Cell::new(0usize);
        author_by_id.insert_if_new(
            &column(batch, "conversation_id", &DataType::Utf8)?,
            |_| ids[row.get()],
            |_| row.set(row.get() + 1),
        );
    }
    for (batch, ids) in messages.iter().zip(message_authors) {
        let (stored, srcs) = nonempty_values(field(batch, "parent_author_id")?, ids)?;
        let dsts = authors.ids(&stored);
        pairs.extend(srcs.iter().zip(&dsts).map(|(&s, &d)| pair(s, d)));
        if author_by_id.is_empty() {
            continue;
        }
        let (unresolved, srcs) = nonempty_values(field(batch, "unresolved_parent")?, ids)?;
        let mut row = 0;
        author_by_id.insert_if_new(
            &unresolved,
            |_| NO_NODE,
            |parent_author| {
                if parent_author != NO_NODE {
                    pairs.push(pair(srcs[row], parent_author));
                }
                row += 1;
            },
        );
    }
    drop(author_by_id);
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "replies found");
    let started = std::time::Instant::now();
    // Mentions and shares: the engaged author's id is in the message.
    for (batch, ids) in messages.iter().zip(message_authors) {
        let mentions = field(batch, "mentions")?.as_list::<i32>();
        let offsets = mentions.value_offsets();
        let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
        let mut rows = Vec::with_capacity(last - first);
        for (i, w) in offsets.windows(2).enumerate() {
            rows.extend(std::iter::repeat_n(ids[i], (w[1] - w[0]) as usize));
        }
        let (mentioned, srcs) =
            nonempty_values(&mentions.values().slice(first, last - first), &rows)?;
        let dsts = authors.ids(&mentioned);
        pairs.extend(srcs.iter().zip(&dsts).map(|(&s, &d)| pair(s, d)));
        let (shared, srcs) = nonempty_values(field(batch, "shared")?, ids)?;
        let dsts = authors.ids(&shared);
        pairs.extend(srcs.iter().zip(&dsts).map(|(&s, &d)| pair(s, d)));
    }
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "mentions and shares found"
    );
    Ok(pairs)
}

/// The `author_influence` rows from the window's messages and the parents looked up by id
/// (see [`author_graph`]).
fn author_influence(messages: &[RecordBatch], parents: &[RecordBatch]) -> Result<RecordBatch> {
    let mut interner = ColumnInterner::default();
    let (mut pairs, facts_of) = author_graph(messages, parents, &mut interner)?;
    let started = std::time::Instant::now();
    // Edge weights: how many interactions from src to dst (pairs as u64, sorted and
    // counted: cheaper than grouping the string pairs, in SQL or in a hash map).
    pairs.sort_unstable();
    let edge_list: Vec<(u32, u32, f64)> = pairs
        .chunk_by(|a, b| a == b)
        .map(|group| {
            (
                (group[0] as u32),
                (group[0] >> 32) as u32,
                group.len() as f64,
            )
        })
        .collect();
    drop(pairs);
    let n = interner.len();
    let names = interner.into_names();
    tracing::debug!(
        authors = n,
        pairs = edge_list.len(),
        seconds = started.elapsed().as_secs_f64(),
        "interactions counted"
    );
    let started = std::time::Instant::now();
    let graph = DiGraph::from_edges(n, &edge_list);
    // Stop when the ranks move less than 1e-10 in total (L1): then no rank is more
    // than about 1e-9 from the fixed point (the error shrinks by `DAMPING` a round).
    let rank = graph.pagerank(DAMPING, TOLERANCE, 1000);
    tracing::debug!(
        authors = n,
        edges = edge_list.len(),
        seconds = started.elapsed().as_secs_f64(),
        "pagerank"
    );
    // Degrees and engagers count other authors only (a self-reply engages no one).
    let (mut in_degree, mut out_degree, mut engagers) =
        (vec![0i64; n], vec![0i64; n], vec![0i64; n]);
    for &(s, d, w) in &edge_list {
        if s != d {
            in_degree[d as usize] += w as i64;
            out_degree[s as usize] += w as i64;
            engagers[d as usize] += 1;
        }
    }
    // Ranks are compared at 1e-12 (far below PageRank's own accuracy, far above the
    // rounding noise of the summation order), so structurally tied authors stay tied
    // whatever order the graph was built in: the percentile is the same from run to run.
    let level = |r: f64| (r * 1e12).round();
    let mut sorted: Vec<f64> = rank.iter().map(|&r| level(r)).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let percentile: Vec<f64> = rank
        .iter()
        .map(|&r| {
            if n <= 1 {
                100.0
            } else {
                let r = level(r);
                let below = sorted.partition_point(|&x| x < r);
                100.0 * below as f64 / (n - 1) as f64
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        rank[b]
            .total_cmp(&rank[a])
            .then_with(|| names.value(a).cmp(names.value(b)))
    });
    let pick_i64 = |v: &[i64]| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(order.iter().map(|&i| v[i])))
    };
    let columns: Vec<ArrayRef> = vec![
        datafusion::arrow::compute::take(
            &names,
            &UInt32Array::from_iter_values(order.iter().map(|&i| i as u32)),
            None,
        )?,
        Arc::new(
            order
                .iter()
                .map(|&i| facts_of[i].is_brand)
                .collect::<BooleanArray>(),
        ),
        Arc::new(Float64Array::from_iter_values(
            order.iter().map(|&i| rank[i]),
        )),
        pick_i64(&in_degree),
        pick_i64(&out_degree),
        pick_i64(&engagers),
        Arc::new(
            order
                .iter()
                .map(|&i| facts_of[i].followers)
                .collect::<Int64Array>(),
        ),
        Arc::new(Int64Array::from_iter_values(
            order.iter().map(|&i| facts_of[i].total_reach),
        )),
        Arc::new(Int64Array::from_iter_values(
            order.iter().map(|&i| facts_of[i].conversations),
        )),
        Arc::new(Int64Array::from_iter_values(
            order.iter().map(|&i| facts_of[i].messages),
        )),
        Arc::new(Float64Array::from_iter_values(
            order.iter().map(|&i| percentile[i]),
        )),
    ];
    Ok(RecordBatch::try_new(GraphKind::Authors.schema(), columns)?)
}

/// The `thread_centrality` rows from (thread_id, author_id, parent_author) messages.
fn thread_centrality(messages: &[RecordBatch]) -> Result<RecordBatch> {
    // thread -> (participants interned locally, message counts, reply edges)
    struct Thread {
        authors: Interner,
        messages: Vec<i64>,
        edges: Vec<(u32, u32)>,
    }
    let mut threads: HashMap<String, Thread> = HashMap::new();
    for batch in messages {
        let thread = strings(batch, "thread_id")?;
        let author = strings(batch, "author_id")?;
        let parent = strings(batch, "parent_author")?;
        for i in 0..batch.num_rows() {
            let t = threads
                .entry(thread.value(i).to_string())
                .or_insert_with(|| Thread {
                    authors: Interner::default(),
                    messages: Vec::new(),
                    edges: Vec::new(),
                });
            let a = t.authors.id(author.value(i));
            t.messages.resize(t.authors.names.len(), 0);
            t.messages[a as usize] += 1;
            if parent.is_valid(i) {
                let p = t.authors.id(parent.value(i));
                t.messages.resize(t.authors.names.len(), 0);
                t.edges.push((a, p));
            }
        }
    }
    let mut names: Vec<&String> = threads.keys().collect();
    names.sort_unstable();
    let (mut thread_col, mut author_col, mut centre_col) = (Vec::new(), Vec::new(), Vec::new());
    let (mut msg_col, mut size_col) = (Vec::new(), Vec::new());
    let (mut deg_col, mut clo_col, mut bet_col, mut is_centre_col) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for name in names {
        let t = &threads[name];
        let n = t.authors.names.len();
        let c = centrality(n, &t.edges);
        // The centre: most betweenness, then closeness, degree, messages, then name.
        let centre = (0..n)
            .max_by(|&a, &b| {
                c.betweenness[a]
                    .total_cmp(&c.betweenness[b])
                    .then(c.closeness[a].total_cmp(&c.closeness[b]))
                    .then(c.degree[a].total_cmp(&c.degree[b]))
                    .then(t.messages[a].cmp(&t.messages[b]))
                    .then(t.authors.names[b].cmp(&t.authors.names[a]))
            })
            .unwrap_or(0);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| t.authors.names[a].cmp(&t.authors.names[b]));
        for i in order {
            thread_col.push(name.as_str());
            author_col.push(t.authors.names[i].as_str());
            centre_col.push(t.authors.names[centre].as_str());
            msg_col.push(t.messages[i]);
            size_col.push(n as i64);
            deg_col.push(c.degree[i]);
            clo_col.push(c.closeness[i]);
            bet_col.push(c.betweenness[i]);
            is_centre_col.push(i == centre);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(thread_col)),
        Arc::new(StringArray::from(author_col)),
        Arc::new(Int64Array::from(msg_col)),
        Arc::new(Int64Array::from(size_col)),
        Arc::new(Float64Array::from(deg_col)),
        Arc::new(Float64Array::from(clo_col)),
        Arc::new(Float64Array::from(bet_col)),
        Arc::new(BooleanArray::from(is_centre_col)),
        Arc::new(StringArray::from(centre_col)),
    ];
    Ok(RecordBatch::try_new(GraphKind::Threads.schema(), columns)?)
}
