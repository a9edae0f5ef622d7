//! Errors as gRPC statuses: the code says whose fault it is, the message says what to fix.

use datafusion::error::DataFusionError;
use tonic::Status;

/// The status a client receives for a DataFusion error: bad SQL and plans are
/// INVALID_ARGUMENT, unsupported features UNIMPLEMENTED, memory RESOURCE_EXHAUSTED, the rest
/// INTERNAL. The message is DataFusion's, without backtraces.
///
/// ```
/// use datafusion::error::DataFusionError;
/// use socialcx::server::status::from_datafusion;
/// let status = from_datafusion(DataFusionError::Plan("table 'nope' not found".into()));
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// assert!(status.message().contains("nope"));
/// ```
pub fn from_datafusion(error: DataFusionError) -> Status {
    let message = error.to_string();
    match error.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(..)
        | DataFusionError::SchemaError(..)
        | DataFusionError::Configuration(..) => Status::invalid_argument(message),
        DataFusionError::NotImplemented(..) => Status::unimplemented(message),
        DataFusionError::ResourcesExhausted(..) => Status::resource_exhausted(message),
        _ => Status::internal(message),
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
