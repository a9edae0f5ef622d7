//! The client side: an engine's planned queries sent to a cluster's scheduler.

use std::fmt;
use std::sync::Arc;

use ballista_core::execution_plans::execute_physical_plan;
use ballista_core::extension::SessionConfigExt;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, exec_err};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::StreamingTableExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions, collect, displayable,
};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::TryStreamExt;

use super::codec::ClusterCodec;
use crate::Result as CxResult;
use crate::engine::Dispatch;
use crate::engine::scoring::Scoring;

/// Sends an engine's plans to the cluster at one scheduler (see [`crate::engine::Dispatch`]).
///
/// ```
/// let cluster = socialcx::cluster::ClusterDispatch::new("df://127.0.0.1:50050").unwrap();
/// assert_eq!(cluster.url(), "df://127.0.0.1:50050");
/// ```
#[derive(Debug)]
pub struct ClusterDispatch {
    url: String,
    scheduler: String,
    session_id: String,
}

impl ClusterDispatch {
    /// A client of the scheduler at `url` (`df://HOST:PORT`).
    pub fn new(url: &str) -> CxResult<ClusterDispatch> {
        let (host, port) = super::parse_url(url)?;
        Ok(ClusterDispatch {
            url: url.to_string(),
            scheduler: format!("http://{host}:{port}"),
            session_id: format!("socialcx-{:016x}", rand::random::<u64>()),
        })
    }

    /// The scheduler's URL, as given.
    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait::async_trait]
impl Dispatch for ClusterDispatch {
    /// Checks that the cluster runs this build's Ballista and DataFusion, and plans for its
    /// slots: as many partitions as its executors run tasks at once (this process's cores
    /// would leave most of a larger cluster idle, or crowd a smaller one).
    async fn configure(&self, config: SessionConfig) -> CxResult<SessionConfig> {
        same_versions(&self.url).await?;
        let slots: usize = super::status::executors(&self.url)
            .await?
            .iter()
            .map(|executor| executor.specification.vcores as usize)
            .sum();
        // Ballista's planning settings: no round-robin repartition, sort-merge joins (they
        // spill), no dynamic filters or physical scalar subqueries (they cannot cross stages).
        let config = config.upgrade_for_ballista();
        Ok(match slots {
            0 => config,
            slots => config.with_target_partitions(slots),
        })
    }

    fn dispatch(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        scoring: &Arc<Scoring>,
    ) -> Arc<dyn ExecutionPlan> {
        Arc::new(ClusterExec::new(
            plan,
            self.url.clone(),
            self.scheduler.clone(),
            Arc::new(ClusterCodec::new(Arc::clone(scoring))),
            self.session_id.clone(),
        ))
    }
}

/// Runs its plan on a cluster and streams the result back: one output partition. It is a
/// leaf to this process (the plan inside runs elsewhere), so nothing local wraps or
/// rewrites the plan it carries.
#[derive(Debug)]
pub struct ClusterExec {
    plan: Arc<dyn ExecutionPlan>,
    url: String,
    scheduler: String,
    codec: Arc<ClusterCodec>,
    session_id: String,
    properties: Arc<PlanProperties>,
}

impl ClusterExec {
    fn new(
        plan: Arc<dyn ExecutionPlan>,
        url: String,
        scheduler: String,
        codec: Arc<ClusterCodec>,
        session_id: String,
    ) -> ClusterExec {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(plan.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        ClusterExec {
            plan,
            url,
            scheduler,
            codec,
            session_id,
            properties: Arc::new(properties),
        }
    }

    /// The plan the cluster runs.
    pub fn plan(&self) -> &Arc<dyn ExecutionPlan> {
        &self.plan
    }

    fn without_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !children.is_empty() {
            return exec_err!("ClusterExec has no children");
        }
        Ok(self)
    }
}

impl DisplayAs for ClusterExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ClusterExec: {}", self.url)?;
        if matches!(t, DisplayFormatType::Verbose) {
            write!(f, "\n{}", displayable(self.plan.as_ref()).indent(true))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ClusterExec {
    fn name(&self) -> &str {
        "ClusterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.without_children(children)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.without_children(children)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return exec_err!("ClusterExec has one partition, asked for {partition}");
        }
        let session_config = context.session_config().clone();
        let (plan, codec) = (Arc::clone(&self.plan), Arc::clone(&self.codec));
        let (scheduler, url, session_id) = (
            self.scheduler.clone(),
            self.url.clone(),
            self.session_id.clone(),
        );
        let submitted = async move {
            let plan = with_local_leaves_read(plan, &context).await?;
            let config = session_config.ballista_config();
            execute_physical_plan::<PhysicalPlanNode>(
                scheduler,
                &config,
                plan,
                codec.as_ref(),
                session_id,
                session_config,
            )
            .await
            .map_err(|e| on_cluster(&url, e))
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            futures::stream::once(submitted).try_flatten(),
        )))
    }
}

/// `plan` with each leaf only this process can read (`information_schema`, `SHOW`: streams
/// over this process's catalog, which Ballista cannot ship) read here, and carried in the
/// plan as its rows.
async fn with_local_leaves_read(
    plan: Arc<dyn ExecutionPlan>,
    context: &Arc<TaskContext>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let mut local = Vec::new();
    plan.apply(|node| {
        if node.is::<StreamingTableExec>() {
            local.push(Arc::clone(node));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if local.is_empty() {
        return Ok(plan);
    }
    let mut read: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
    for leaf in &local {
        let batches = collect(Arc::clone(leaf), Arc::clone(context)).await?;
        read.push(MemorySourceConfig::try_new_exec(
            &[batches],
            leaf.schema(),
            None,
        )?);
    }
    plan.transform_up(|node| {
        Ok(
            match local.iter().position(|leaf| Arc::ptr_eq(leaf, &node)) {
                Some(i) => Transformed::yes(Arc::clone(&read[i])),
                None => Transformed::no(node),
            },
        )
    })
    .data()
}

/// Whether the scheduler at `url` runs the Ballista and DataFusion this process was built
/// with: plans of another version would not decode, or decode differently.
async fn same_versions(url: &str) -> CxResult<()> {
    let theirs = super::status::versions(url).await?;
    let ours = super::status::Versions::ours();
    if theirs != ours {
        return Err(crate::Error::Usage(format!(
            "the cluster at {url} runs Ballista {} with DataFusion {}, but this socialcx was built \
             with Ballista {} and DataFusion {}: run every role and client from the same socialcx build",
            theirs.version, theirs.datafusion_version, ours.version, ours.datafusion_version
        )));
    }
    Ok(())
}

/// An error of the cluster at `url`, saying where it came from.
fn on_cluster(url: &str, error: DataFusionError) -> DataFusionError {
    let message = error.to_string();
    if message.contains("transport error") || message.contains("Connection refused") {
        // Mid-query: the scheduler, or an executor the result is fetched from, went away.
        DataFusionError::Execution(format!(
            "on the cluster at {url}: a role cannot be reached ({message}): is its scheduler \
             running, and did an executor stop?"
        ))
    } else {
        DataFusionError::Execution(format!("on the cluster at {url}: {message}"))
    }
}
