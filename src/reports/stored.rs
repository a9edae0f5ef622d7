//! The shipped reports' influence graphs, computed ahead of time.
//!
//! `author_influence` keeps its result in the lake for the next query over the same files
//! ([`crate::lake::results`]): the first report after a commit computes it, the next ones
//! read it. [`store_graphs`] does that first run for every shipped report's default window
//! (`socialcx enrich` calls it), so that a dashboard's first refresh after an ingest reads
//! the graph too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::physical_plan::{ExecutionPlan, collect};

use super::shipped;
use crate::Result;
use crate::engine::Engine;
use crate::engine::influence::table::GraphExec;
use crate::progress::{Progress, Unit};

/// One graph a shipped report reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGraph {
    /// The first report (by name) whose default window reads it.
    pub report: String,
    /// Where it is stored in the lake.
    pub path: String,
    /// Whether it was computed now (`false`: it was already stored).
    pub computed: bool,
    pub elapsed: Duration,
    /// Why the report's graphs could not be computed (then `path` is empty) or stored.
    pub error: Option<String>,
}

/// Compute and store, for every shipped report with its default parameters, the graph
/// results it reads that are not stored yet; what each one was (a report whose graph failed
/// is listed with its error, and the others still run).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// let quiet = socialcx::progress::Silent;
/// for graph in socialcx::reports::stored::store_graphs(&engine, &quiet).await? {
///     println!("{}: {} ({:?})", graph.report, graph.path, graph.elapsed);
/// }
/// # Ok(()) }
/// ```
pub async fn store_graphs(engine: &Engine, progress: &dyn Progress) -> Result<Vec<StoredGraph>> {
    let mut graphs: Vec<StoredGraph> = Vec::new();
    let reports = shipped();
    progress.start("influence graphs", reports.len() as u64, Unit::Steps);
    for (done, report) in reports.into_iter().enumerate() {
        progress.set(done as u64);
        progress.message(&format!("influence graph of {}", report.name));
        // A report whose graph cannot be computed (a memory limit, say) does not stop the
        // others: it is listed with its error, and its reports compute the graph when run.
        if let Err(e) = store_report_graphs(engine, &report, &mut graphs).await {
            tracing::warn!(report = %report.name, "influence graph not stored: {e}");
            graphs.push(StoredGraph {
                report: report.name.clone(),
                path: String::new(),
                computed: false,
                elapsed: Duration::ZERO,
                error: Some(e.to_string()),
            });
        }
    }
    progress.finish();
    Ok(graphs)
}

/// Store the graphs `report` reads with its defaults that are not in `graphs` yet.
async fn store_report_graphs(
    engine: &Engine,
    report: &super::Report,
    graphs: &mut Vec<StoredGraph>,
) -> Result<()> {
    let (values, _) = report.resolve(engine, &[]).await?;
    let plan = report
        .plan_bound(engine, &values)
        .await?
        .create_physical_plan()
        .await?;
    for node in graph_nodes(&plan) {
        let graph = node.downcast_ref::<GraphExec>().expect("a graph node");
        let Some((path, found)) = graph.stored() else {
            continue;
        };
        if graphs.iter().any(|g| g.path == path) {
            continue;
        }
        let started = Instant::now();
        if !found {
            collect(Arc::clone(&node), engine.context().task_ctx()).await?;
        }
        // A store that failed is only a warning to the query that ran it (its answer is
        // right): here it is what was asked for, so it is said.
        let error = (!found && !graph.is_stored().await).then(|| {
            format!(
                "author_influence was computed but could not be stored at {path} \
                 (the warning above says why); the reports compute it when they run"
            )
        });
        tracing::info!(report = %report.name, %path, computed = !found, stored = error.is_none(), "graph");
        graphs.push(StoredGraph {
            report: report.name.clone(),
            path,
            computed: !found,
            elapsed: started.elapsed(),
            error,
        });
    }
    Ok(())
}

/// The [`GraphExec`] nodes of `plan`.
fn graph_nodes(plan: &Arc<dyn ExecutionPlan>) -> Vec<Arc<dyn ExecutionPlan>> {
    let mut found = Vec::new();
    plan.apply(|node| {
        if node.is::<GraphExec>() {
            found.push(Arc::clone(node));
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .expect("the visit itself never fails");
    found
}
