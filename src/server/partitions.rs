//! One endpoint per partition: a client that asks (the call header
//! `x-socialcx-endpoints: partitions` on `GetFlightInfo`) gets one ticket per output
//! partition of the query's plan and may read them in parallel, on one connection or several.
//!
//! Only plans whose partitions are independent are split: scans, filters, projections and
//! functions, nothing that exchanges rows between partitions (a repartition, a merge, a
//! coalesce). So reading one endpoint never buffers rows for another, and a client that
//! reads the tickets one after the other uses no more memory than one stream. Any other
//! plan, and every `ORDER BY` (one sorted partition), keeps a single endpoint with the
//! ordering contract (`ordered = true`); a split answer is announced as unordered.
//!
//! The plan is made once, at `GetFlightInfo`, and kept here until each partition's ticket
//! has been presented (or the query timeout passes): every endpoint reads the same snapshot
//! of the lake, and the query holds one concurrency slot however many endpoints it has.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use rand::RngCore;
use tokio::sync::OwnedSemaphorePermit;
use tonic::Status;

/// The call header with which a client asks for one endpoint per partition.
pub const ENDPOINTS_HEADER: &str = "x-socialcx-endpoints";

const PARTITION_MAGIC: &[u8; 4] = b"SCXR";

/// Whether a request's metadata asks for one endpoint per partition.
///
/// ```
/// use socialcx::server::partitions::{ENDPOINTS_HEADER, wants_partitions};
/// let mut metadata = tonic::metadata::MetadataMap::new();
/// assert!(!wants_partitions(&metadata));
/// metadata.insert(ENDPOINTS_HEADER, "partitions".parse().unwrap());
/// assert!(wants_partitions(&metadata));
/// ```
pub fn wants_partitions(metadata: &tonic::metadata::MetadataMap) -> bool {
    metadata
        .get(ENDPOINTS_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("partitions"))
}

/// How many independent partitions `plan` answers in: its output partition count when no
/// operator in it exchanges rows between partitions, else 1.
///
/// ```
/// # async fn f() -> datafusion::error::Result<()> {
/// use socialcx::server::partitions::independent_partitions;
/// let ctx = datafusion::prelude::SessionContext::new();
/// let plan = ctx.sql("SELECT 1 ORDER BY 1").await?.create_physical_plan().await?;
/// assert_eq!(independent_partitions(&plan), 1);
/// # Ok(()) }
/// ```
pub fn independent_partitions(plan: &Arc<dyn ExecutionPlan>) -> usize {
    fn exchanges(plan: &Arc<dyn ExecutionPlan>) -> bool {
        plan.downcast_ref::<RepartitionExec>().is_some()
            || plan.downcast_ref::<CoalescePartitionsExec>().is_some()
            || plan.downcast_ref::<SortPreservingMergeExec>().is_some()
            || plan.children().into_iter().any(exchanges)
    }
    let count = plan.output_partitioning().partition_count();
    if count <= 1 || exchanges(plan) {
        1
    } else {
        count
    }
}

/// A ticket for partition `partition` of the query `id`.
fn ticket(id: &str, partition: usize) -> Bytes {
    let mut out = PARTITION_MAGIC.to_vec();
    out.extend_from_slice(format!("{id}:{partition}").as_bytes());
    Bytes::from(out)
}

/// The query id and partition of a ticket made here; `None` for any other ticket.
///
/// ```
/// use socialcx::server::partitions::parse_ticket;
/// assert_eq!(parse_ticket(b"SCXQSELECT 1"), None);
/// assert_eq!(parse_ticket(b"SCXRab12:3"), Some(("ab12".to_string(), 3)));
/// ```
pub fn parse_ticket(bytes: &[u8]) -> Option<(String, usize)> {
    let rest = std::str::from_utf8(bytes.strip_prefix(PARTITION_MAGIC.as_slice())?).ok()?;
    let (id, partition) = rest.rsplit_once(':')?;
    Some((id.to_string(), partition.parse().ok()?))
}

/// A query planned once, whose partitions are streamed through separate tickets.
pub struct PlannedQuery {
    /// The SQL, for the log.
    pub sql: String,
    /// The plan, shared by every partition's stream.
    pub plan: Arc<dyn ExecutionPlan>,
    /// The context it runs in.
    pub task_ctx: Arc<TaskContext>,
    /// When `GetFlightInfo` arrived: the query's deadline counts from here.
    pub started: Instant,
    /// The query's concurrency slot, held until its last partition's work ends.
    pub permit: OwnedSemaphorePermit,
}

/// A planned query waiting for the tickets of some of its partitions.
struct Waiting {
    /// Who planned it: only they may read it.
    user: String,
    query: Arc<PlannedQuery>,
    /// Partitions whose ticket has not been presented yet.
    unclaimed: Vec<bool>,
}

/// The partitioned queries waiting for their tickets.
#[derive(Default)]
pub struct PartitionedQueries {
    queries: Mutex<HashMap<String, Waiting>>,
}

impl PartitionedQueries {
    /// Keep `query`, planned for `user` with `partitions` endpoints; returns its id and one
    /// ticket per partition.
    pub fn register(
        &self,
        user: String,
        query: PlannedQuery,
        partitions: usize,
    ) -> (String, Vec<Bytes>) {
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        self.queries.lock().expect("partitioned queries").insert(
            id.clone(),
            Waiting {
                user,
                query: Arc::new(query),
                unclaimed: vec![true; partitions],
            },
        );
        let tickets = (0..partitions).map(|p| ticket(&id, p)).collect();
        (id, tickets)
    }

    /// Forget query `id` and the tickets not presented yet (its deadline passed); streams
    /// already started go on to their own deadline.
    pub fn expire(&self, id: &str) {
        self.queries.lock().expect("partitioned queries").remove(id);
    }

    /// Hand out partition `partition` of query `id` to `user`, once; the query is forgotten
    /// when its last partition has been handed out.
    pub fn claim(
        &self,
        id: &str,
        partition: usize,
        user: &str,
    ) -> Result<Arc<PlannedQuery>, Status> {
        let gone = || {
            Status::not_found(
                "this ticket was already read, or its query expired (the server's \
                 --query-timeout): run the query again",
            )
        };
        let mut queries = self.queries.lock().expect("partitioned queries");
        let waiting = queries.get_mut(id).ok_or_else(gone)?;
        if waiting.user != user {
            return Err(Status::permission_denied(
                "this ticket belongs to another user's query",
            ));
        }
        match waiting.unclaimed.get_mut(partition) {
            Some(slot) if *slot => *slot = false,
            _ => return Err(gone()),
        }
        let query = Arc::clone(&waiting.query);
        if waiting.unclaimed.iter().all(|u| !u) {
            queries.remove(id);
        }
        Ok(query)
    }
}
