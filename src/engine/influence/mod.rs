//! Influence: who among the customers is influential, and who is at the centre of
//! a conversation.
//!
//! - [`score`]: `influence(author_followers, likes, shares, replies)`, a per-message
//!   reach and engagement score on 0..100;
//! - [`table`]: the table functions `author_influence(...)` (weighted PageRank over
//!   the author interaction graph, with degrees, reach and a percentile) and
//!   `thread_centrality(...)` (degree, closeness and betweenness in each thread's
//!   reply graph, and its centre);
//! - [`graph`]: the algorithms, checked against networkx.

pub mod graph;
pub mod score;
pub mod table;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

use table::{GraphFunction, GraphKind};

/// Register `influence`, `author_influence` and `thread_centrality` on `ctx`.
///
/// ```
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::influence::register(&ctx);
/// assert!(ctx.table_function("author_influence").is_ok());
/// ```
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(score::InfluenceUdf::default()));
    for kind in [GraphKind::Authors, GraphKind::Threads] {
        ctx.register_udtf(kind.name(), Arc::new(GraphFunction(kind)));
    }
}
