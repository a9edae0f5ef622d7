//! The one place where socialcx's SQL functions are registered.
//!
//! Every [`crate::Engine`] calls [`register_all`], so a function added here is
//! available from the CLI, the shell, the Flight SQL server and the jobs alike.
//! Each function lives in its own module (one concept per module) and implements
//! DataFusion's traits (`ScalarUDFImpl`, `TableFunctionImpl`, ...).

use datafusion::prelude::SessionContext;

/// Register every socialcx function on `ctx`.
///
/// The foundation ships DataFusion's own functions only; the sentiment,
/// moment-of-truth and influence functions register here as they land.
///
/// ```
/// let ctx = datafusion::prelude::SessionContext::new();
/// socialcx::engine::functions::register_all(&ctx);
/// ```
pub fn register_all(ctx: &SessionContext) {
    let _ = ctx;
}
