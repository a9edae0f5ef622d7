//! The one place where socialcx's SQL functions are registered.
//!
//! Every [`crate::Engine`] calls [`register_all`], so a function added here is
//! available from the CLI, the shell, the Flight SQL server and the jobs alike.
//! Each family lives in its own module (one concept per module) and implements
//! DataFusion's traits (`ScalarUDFImpl`, `TableFunctionImpl`, ...).

use datafusion::prelude::SessionContext;

use std::sync::Arc;

use super::EngineConfig;
use super::influence;
use super::scoring::Scoring;
use crate::Result;

/// Register every socialcx function on `ctx`, configured by `config` (for example
/// its domain lexicon); returns the scoring functions' configuration, which also
/// computes the `conversations` score columns.
///
/// ```
/// use datafusion::execution::FunctionRegistry;
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::functions::register_all(&ctx, &socialcx::EngineConfig::new("memory://")).unwrap();
/// assert!(ctx.udf("sentiment").is_ok());
/// assert!(ctx.udaf("arg_max").is_ok());
/// ```
pub fn register_all(ctx: &SessionContext, config: &EngineConfig) -> Result<Arc<Scoring>> {
    let scoring = Scoring::load(config.lexicon.as_deref(), config.taxonomy.as_deref())?;
    for udf in scoring.udfs() {
        ctx.register_udf(udf.clone());
    }
    influence::register(ctx);
    for udaf in super::max_by::udafs() {
        ctx.register_udaf(udaf);
    }
    super::files::register(ctx, config);
    Ok(Arc::new(scoring))
}
