//! Errors as gRPC statuses: the code says whose fault it is, the message says what to fix.

use datafusion::error::DataFusionError;
use tonic::{Code, Status};

use crate::Engine;
use crate::engine::explain::explain_error;

use crate::engine::files::LocalFilesRefused;

/// The status a client receives for a DataFusion error: bad SQL and plans are
/// INVALID_ARGUMENT, a local file a file function may not read here PERMISSION_DENIED,
/// unsupported features UNIMPLEMENTED, memory RESOURCE_EXHAUSTED, the rest INTERNAL. The
/// message is DataFusion's, without backtraces.
///
/// ```
/// use datafusion::error::DataFusionError;
/// use socialcx::server::status::from_datafusion;
/// let status = from_datafusion(DataFusionError::Plan("table 'nope' not found".into()));
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// assert!(status.message().contains("nope"));
/// let refused = socialcx::engine::files::LocalFilesRefused("read_csv: path: ...".into());
/// let status = from_datafusion(DataFusionError::External(Box::new(refused)));
/// assert_eq!(status.code(), tonic::Code::PermissionDenied);
/// ```
pub fn from_datafusion(error: DataFusionError) -> Status {
    Status::new(code(&error), error.to_string())
}

/// The status for a DataFusion error met planning the client's `sql`: the code of
/// [`from_datafusion`] (INVALID_ARGUMENT for a mistake it explains), the message in plain
/// words (an impossible date, an unknown table with the closest name, a syntax error with
/// a caret under its place; see [`crate::engine::explain`]).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) {
/// let sql = "SELECT * FROM conversation";
/// let Err(socialcx::Error::Query(e)) = engine.sql(sql).await else { unreachable!() };
/// let status = socialcx::server::status::explained(&engine, sql, *e);
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// assert!(status.message().contains("did you mean 'conversations'?"));
/// # }
/// ```
pub fn explained(engine: &Engine, sql: &str, error: DataFusionError) -> Status {
    let message = explain_error(engine, sql, &error);
    // A mistake explained is the client's (an impossible date literal fails as a cast).
    let code = if message != error.strip_backtrace() {
        Code::InvalidArgument
    } else {
        code(&error)
    };
    Status::new(code, message)
}

/// Whose fault `error` is, as a gRPC code.
fn code(error: &DataFusionError) -> Code {
    if let DataFusionError::External(inner) = error.find_root()
        && inner.is::<LocalFilesRefused>()
    {
        return Code::PermissionDenied;
    }
    match error.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(..)
        | DataFusionError::SchemaError(..)
        | DataFusionError::Configuration(..) => Code::InvalidArgument,
        DataFusionError::NotImplemented(..) => Code::Unimplemented,
        DataFusionError::ResourcesExhausted(..) => Code::ResourceExhausted,
        _ => Code::Internal,
    }
}

/// The status for a crate error (planning through the Engine).
pub fn from_error(error: crate::Error) -> Status {
    match error {
        crate::Error::Query(e) => from_datafusion(*e),
        crate::Error::Usage(m) => Status::invalid_argument(m),
        other => Status::internal(other.to_string()),
    }
}

/// [`from_error`] for an error met planning the client's `sql`, query errors in plain words
/// (see [`explained`]).
///
/// ```no_run
/// # fn f(engine: socialcx::Engine) {
/// let sql = "SELEC 1";
/// let status = socialcx::server::status::explained_error(&engine, sql, engine.parse(sql).unwrap_err());
/// assert!(status.message().starts_with("syntax error at line 1, column 1"));
/// # }
/// ```
pub fn explained_error(engine: &Engine, sql: &str, error: crate::Error) -> Status {
    match error {
        crate::Error::Query(e) => explained(engine, sql, *e),
        other => from_error(other),
    }
}
