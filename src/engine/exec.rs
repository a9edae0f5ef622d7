//! Running queries: on a pool of their own, with a deadline, and stoppable.
//!
//! A query's CPU work never runs on the caller's runtime: the Flight SQL server's network
//! tasks (accepting connections, reading requests, sending batches) stay responsive however
//! heavy the queries are. [`ExecPool`] is a dedicated Tokio runtime whose workers outnumber
//! the cores, so one query stuck in a long non-yielding loop does not hold up the next.
//!
//! Stopping a query takes two things, both done by [`RunningQuery`] when it is dropped, when
//! it is cancelled or when its deadline passes:
//!
//! * the task that drives the plan is aborted, which drops DataFusion's stream and with it
//!   every task the plan spawned (each stops at its next yield point);
//! * a [`CancelToken`] is set. [`interruptible`] wires it into the plan before it runs: above
//!   every join an [`InterruptExec`] fails the stream and yields to the scheduler regularly,
//!   and inside a nested-loop join's filter an [`InterruptExpr`] fails the evaluation. These
//!   are the loops that do not yield by themselves (a nested-loop join probes one batch
//!   against the whole build side in one poll), so without them the work of a cancelled
//!   cross join could go on for many seconds.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::coop::make_cooperative;
use datafusion::physical_plan::joins::utils::JoinFilter;
use datafusion::physical_plan::joins::{
    CrossJoinExec, HashJoinExec, NestedLoopJoinExec, NestedLoopJoinExecBuilder, SortMergeJoinExec,
    SymmetricHashJoinExec,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, ReplaceChildrenOptions,
    execute_stream,
};
use futures::{FutureExt, Stream, StreamExt};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

/// Batches buffered between the pool and the consumer of a query.
const CHANNEL_BATCHES: usize = 2;

/// The message of a query stopped by its [`CancelToken`].
pub const CANCELLED: &str = "the query was cancelled";

/// A flag that stops a running query's CPU work (see the module docs). Cheap to clone.
///
/// ```
/// let token = socialcx::engine::exec::CancelToken::default();
/// assert!(!token.is_cancelled());
/// token.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// Stop the query: interruptible operators fail at their next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn check(&self) -> DfResult<()> {
        if self.is_cancelled() {
            Err(DataFusionError::Execution(CANCELLED.into()))
        } else {
            Ok(())
        }
    }
}

/// The runtime queries execute on, started on first use and stopped when dropped.
///
/// ```
/// let pool = socialcx::engine::exec::ExecPool::new();
/// let answer = pool.runtime().block_on(async { 6 * 7 });
/// assert_eq!(answer, 42);
/// ```
#[derive(Default)]
pub struct ExecPool {
    runtime: OnceLock<Runtime>,
}

impl fmt::Debug for ExecPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecPool")
            .field("started", &self.runtime.get().is_some())
            .finish()
    }
}

impl ExecPool {
    /// A pool that starts its threads when the first query runs.
    pub fn new() -> ExecPool {
        ExecPool::default()
    }

    /// The pool's runtime: four workers per core (at least 8), named `socialcx-exec`.
    pub fn runtime(&self) -> &Runtime {
        self.runtime.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads((cores * 4).max(8))
                .thread_name("socialcx-exec")
                .enable_all()
                .build()
                .expect("the query runtime starts")
        })
    }
}

impl Drop for ExecPool {
    fn drop(&mut self) {
        // Dropping a runtime blocks; an engine may be dropped inside async code.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Why a query stopped without finishing.
#[derive(Debug)]
pub enum QueryError {
    /// DataFusion (or a function) failed.
    Failed(DataFusionError),
    /// The deadline passed; the query was stopped.
    TimedOut(Duration),
    /// The query's code panicked; the process goes on.
    Crashed(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Failed(e) => write!(f, "{}", e.strip_backtrace()),
            QueryError::TimedOut(limit) => {
                write!(f, "query timed out after {}s", limit.as_secs_f64())
            }
            QueryError::Crashed(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for DataFusionError {
    fn from(error: QueryError) -> DataFusionError {
        match error {
            QueryError::Failed(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

impl From<QueryError> for crate::Error {
    fn from(error: QueryError) -> crate::Error {
        crate::Error::Query(Box::new(error.into()))
    }
}

/// A query executing on an [`ExecPool`]: a stream of its batches. Dropping it stops the
/// query; so does [`RunningQuery::cancel`] and the deadline given to [`run`], whether or
/// not anyone is reading.
pub struct RunningQuery {
    schema: SchemaRef,
    batches: mpsc::Receiver<DfResult<RecordBatch>>,
    token: CancelToken,
    task: AbortHandle,
    watchdog: Option<tokio::task::JoinHandle<()>>,
    timed_out: Arc<AtomicBool>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    limit: Duration,
    done: bool,
}

impl fmt::Debug for RunningQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningQuery")
            .field("schema", &self.schema)
            .field("done", &self.done)
            .finish()
    }
}

/// Execute `plan` on `pool`: the returned stream yields its batches. `guard` (a concurrency
/// permit, say) is held until the query's work has ended, not until the stream is dropped,
/// so a slow reader past the deadline does not keep it. With `deadline` (the instant and
/// the limit it stands for, for the message), the query is stopped when it passes.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// use futures::StreamExt;
/// use socialcx::engine::exec::run;
/// let plan = engine.sql("SELECT 1 AS n").await?.create_physical_plan().await?;
/// let mut query = run(engine.pool(), plan, engine.context().task_ctx(), None, ());
/// while let Some(batch) = query.next().await {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok(()) }
/// ```
pub fn run<G: Send + 'static>(
    pool: &ExecPool,
    plan: Arc<dyn ExecutionPlan>,
    task_ctx: Arc<TaskContext>,
    deadline: Option<(Instant, Duration)>,
    guard: G,
) -> RunningQuery {
    start(pool, plan, None, task_ctx, deadline, guard)
}

/// Like [`run`], for one output partition of `plan` (the others are left to other
/// callers; see `server::partitions`).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// use socialcx::engine::exec::run_partition;
/// let plan = engine.sql("SELECT * FROM conversations").await?.create_physical_plan().await?;
/// let first = run_partition(engine.pool(), plan, 0, engine.context().task_ctx(), None, ());
/// # Ok(()) }
/// ```
pub fn run_partition<G: Send + 'static>(
    pool: &ExecPool,
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    task_ctx: Arc<TaskContext>,
    deadline: Option<(Instant, Duration)>,
    guard: G,
) -> RunningQuery {
    start(pool, plan, Some(partition), task_ctx, deadline, guard)
}

fn start<G: Send + 'static>(
    pool: &ExecPool,
    plan: Arc<dyn ExecutionPlan>,
    partition: Option<usize>,
    task_ctx: Arc<TaskContext>,
    deadline: Option<(Instant, Duration)>,
    guard: G,
) -> RunningQuery {
    let schema = plan.schema();
    let token = CancelToken::default();
    let (sender, batches) = mpsc::channel(CHANNEL_BATCHES);
    let (finished, finished_rx) = oneshot::channel::<()>();
    let work_token = token.clone();
    let work = async move {
        let _guard = guard;
        let _finished = finished;
        let outcome = AssertUnwindSafe(drive(plan, partition, task_ctx, &work_token, &sender))
            .catch_unwind()
            .await;
        if let Err(panic) = outcome {
            let message = panic_message(panic.as_ref());
            tracing::error!(target: "socialcx::engine", error = %message, "query panicked");
            let _ = sender.send(Err(QueryError::Crashed(message).into())).await;
        }
    };
    let task = pool.runtime().spawn(work).abort_handle();
    let timed_out = Arc::new(AtomicBool::new(false));
    let (watchdog, sleep, limit) = match deadline {
        Some((at, limit)) => {
            let at = tokio::time::Instant::from_std(at);
            let (abort, token, flag) = (task.clone(), token.clone(), Arc::clone(&timed_out));
            // The watchdog runs on the caller's runtime: it fires even when nobody reads
            // and even when every pool worker is busy.
            let watchdog = tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {
                        flag.store(true, Ordering::Release);
                        token.cancel();
                        abort.abort();
                    }
                    _ = finished_rx => {}
                }
            });
            (
                Some(watchdog),
                Some(Box::pin(tokio::time::sleep_until(at))),
                limit,
            )
        }
        None => (None, None, Duration::MAX),
    };
    RunningQuery {
        schema,
        batches,
        token,
        task,
        watchdog,
        timed_out,
        deadline: sleep,
        limit,
        done: false,
    }
}

/// Execute the interruptible plan and send its batches until it ends or nobody listens.
async fn drive(
    plan: Arc<dyn ExecutionPlan>,
    partition: Option<usize>,
    task_ctx: Arc<TaskContext>,
    token: &CancelToken,
    sender: &mpsc::Sender<DfResult<RecordBatch>>,
) {
    let started = interruptible(plan, token).and_then(|p| match partition {
        None => execute_stream(p, task_ctx),
        Some(k) => p.execute(k, task_ctx),
    });
    let mut stream = match started {
        Ok(stream) => stream,
        Err(e) => {
            let _ = sender.send(Err(e)).await;
            return;
        }
    };
    while let Some(item) = stream.next().await {
        let failed = item.is_err();
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a query task panicked".into())
}

impl RunningQuery {
    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Stop the query now (its stream then ends with an error).
    pub fn cancel(&self) {
        self.token.cancel();
        self.task.abort();
    }

    /// A token that stops this query when cancelled (for a Ctrl-C handler, say).
    pub fn token(&self) -> CancelToken {
        self.token.clone()
    }

    fn timed_out(&mut self) -> Poll<Option<Result<RecordBatch, QueryError>>> {
        self.done = true;
        self.cancel();
        Poll::Ready(Some(Err(QueryError::TimedOut(self.limit))))
    }

    /// The batches as a DataFusion stream (errors become `DataFusionError`s).
    pub fn into_stream(self) -> SendableRecordBatchStream {
        let schema = self.schema();
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            self.map(|item| item.map_err(DataFusionError::from)),
        ))
    }
}

impl Stream for RunningQuery {
    type Item = Result<RecordBatch, QueryError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.timed_out.load(Ordering::Acquire) {
            return self.timed_out();
        }
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return self.timed_out();
        }
        match self.batches.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(batch))) => Poll::Ready(Some(Ok(batch))),
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                let error = match e {
                    DataFusionError::External(inner) => match inner.downcast::<QueryError>() {
                        Ok(query) => *query,
                        Err(other) => QueryError::Failed(DataFusionError::External(other)),
                    },
                    other => QueryError::Failed(other),
                };
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) if self.timed_out.load(Ordering::Acquire) => self.timed_out(),
            Poll::Ready(None) if self.token.is_cancelled() => {
                self.done = true;
                Poll::Ready(Some(Err(QueryError::Failed(DataFusionError::Execution(
                    CANCELLED.into(),
                )))))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for RunningQuery {
    fn drop(&mut self) {
        self.cancel();
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.abort();
        }
    }
}

/// `plan` with `token` wired in: an [`InterruptExec`] above every join, and nested-loop
/// join filters wrapped in an [`InterruptExpr`]. Answers are unchanged.
///
/// ```
/// # fn f(plan: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>) -> datafusion::error::Result<()> {
/// use socialcx::engine::exec::{CancelToken, interruptible};
/// let token = CancelToken::default();
/// let plan = interruptible(plan, &token)?; // token.cancel() now stops it
/// # Ok(()) }
/// ```
pub fn interruptible(
    plan: Arc<dyn ExecutionPlan>,
    token: &CancelToken,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let node = match node.downcast_ref::<NestedLoopJoinExec>() {
            Some(join) => match join.filter() {
                Some(filter) => {
                    let expression = Arc::new(InterruptExpr {
                        inner: Arc::clone(filter.expression()),
                        token: token.clone(),
                    });
                    let filter = JoinFilter::new(
                        expression,
                        filter.column_indices().to_vec(),
                        Arc::clone(filter.schema()),
                    );
                    Arc::new(
                        NestedLoopJoinExecBuilder::from(join)
                            .with_filter(Some(filter))
                            .build()?,
                    ) as Arc<dyn ExecutionPlan>
                }
                None => node,
            },
            None => node,
        };
        let is_join = node.is::<NestedLoopJoinExec>()
            || node.is::<CrossJoinExec>()
            || node.is::<HashJoinExec>()
            || node.is::<SortMergeJoinExec>()
            || node.is::<SymmetricHashJoinExec>();
        if is_join {
            Ok(Transformed::yes(
                Arc::new(InterruptExec::new(node, token.clone())) as _,
            ))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .map(|t| t.data)
}

/// A pass-through node that fails its stream once its [`CancelToken`] is set, and consumes
/// Tokio's task budget for each batch so that loops above it yield regularly.
#[derive(Debug)]
pub struct InterruptExec {
    input: Arc<dyn ExecutionPlan>,
    token: CancelToken,
    properties: Arc<PlanProperties>,
}

impl InterruptExec {
    /// `input`, stopped by `token`.
    pub fn new(input: Arc<dyn ExecutionPlan>, token: CancelToken) -> InterruptExec {
        let properties = Arc::clone(input.properties());
        InterruptExec {
            input,
            token,
            properties,
        }
    }
}

impl DisplayAs for InterruptExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "InterruptExec")
    }
}

impl ExecutionPlan for InterruptExec {
    fn name(&self) -> &str {
        "InterruptExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "InterruptExec takes one child".into(),
            ));
        }
        Ok(Arc::new(InterruptExec::new(
            children.swap_remove(0),
            self.token.clone(),
        )))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(
                datafusion::physical_plan::execution_plan::ChildrenPropertiesMode::Recompute,
            ),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.token.check()?;
        let input = self.input.execute(partition, context)?;
        let token = self.token.clone();
        let schema = input.schema();
        let checked = input.map(move |item| {
            token.check()?;
            item
        });
        Ok(make_cooperative(Box::pin(RecordBatchStreamAdapter::new(
            schema, checked,
        ))))
    }
}

/// A filter expression that fails once its [`CancelToken`] is set; otherwise `inner`.
#[derive(Debug, Clone)]
pub struct InterruptExpr {
    inner: Arc<dyn PhysicalExpr>,
    token: CancelToken,
}

impl PartialEq for InterruptExpr {
    fn eq(&self, other: &Self) -> bool {
        self.inner.as_ref() == other.inner.as_ref()
    }
}

impl Eq for InterruptExpr {}

impl Hash for InterruptExpr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl fmt::Display for InterruptExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl PhysicalExpr for InterruptExpr {
    fn return_field(&self, input_schema: &Schema) -> DfResult<FieldRef> {
        self.inner.return_field(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> DfResult<ColumnarValue> {
        self.token.check()?;
        self.inner.evaluate(batch)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DfResult<Arc<dyn PhysicalExpr>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(
                "InterruptExpr takes one child".into(),
            ));
        }
        Ok(Arc::new(InterruptExpr {
            inner: children.swap_remove(0),
            token: self.token.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_sql(f)
    }
}
