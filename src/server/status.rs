//! Errors as gRPC statuses: the code says whose fault it is, the message says what to fix.

use datafusion::error::DataFusionError;
use tonic::Status;

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
    let message = error.to_string();
    if let DataFusionError::External(inner) = error.find_root()
        && inner.is::<LocalFilesRefused>()
    {
        return Status::permission_denied(message);
    }
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
