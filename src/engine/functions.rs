//! The one place where socialcx's SQL functions are registered.
//!
//! Every [`crate::Engine`] calls [`register_all`], so a function added here is
//! available from the CLI, the shell, the Flight SQL server and the jobs alike.
//! Each family lives in its own module (one concept per module) and implements
//! DataFusion's traits (`ScalarUDFImpl`, `TableFunctionImpl`, ...).

use datafusion::prelude::SessionContext;

use super::EngineConfig;
use super::influence;
use super::moments::{self, Tagger};
use super::sentiment::Sentiment;
use crate::Result;

/// Register every socialcx function on `ctx`, configured by `config` (for example
/// its domain lexicon).
///
/// ```
/// use datafusion::execution::FunctionRegistry;
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::functions::register_all(&ctx, &socialcx::EngineConfig::new("memory://")).unwrap();
/// assert!(ctx.udf("sentiment").is_ok());
/// ```
pub fn register_all(ctx: &SessionContext, config: &EngineConfig) -> Result<()> {
    let sentiment = Sentiment::load(config.lexicon.as_deref())?;
    for udf in sentiment.udfs() {
        ctx.register_udf(udf);
    }
    let tagger = Tagger::load(config.taxonomy.as_deref())?;
    for udf in moments::udf::udfs(&tagger) {
        ctx.register_udf(udf);
    }
    influence::register(ctx);
    super::files::register(ctx, config);
    Ok(())
}
