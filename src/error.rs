//! The crate's error type: one enum, with messages written for the person at the terminal.

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use parquet::errors::ParquetError;

/// Everything that can go wrong in socialcx.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lake URL cannot be used (bad syntax, unsupported scheme, unreachable store).
    #[error("lake {url}: {message}")]
    Lake { url: String, message: String },
    /// Reading or writing an object in the lake failed (`reason` says it in plain words).
    #[error("lake {url}: {op} {path}: {reason}")]
    Store {
        url: String,
        op: &'static str,
        path: String,
        reason: String,
        #[source]
        source: Box<object_store::Error>,
    },
    /// The lake's commit log holds something we cannot read.
    #[error("lake {url}: commit log entry {path} is unreadable: {message}")]
    CorruptLog {
        url: String,
        path: String,
        message: String,
    },
    /// An input file cannot be read at all (not a row-level problem: those are quarantined).
    #[error("cannot ingest {path}: {message}")]
    Input { path: String, message: String },
    /// A query failed to plan or run.
    #[error("{0}")]
    Query(Box<DataFusionError>),
    /// Arrow encoding failed.
    #[error("{0}")]
    Arrow(Box<ArrowError>),
    /// Parquet encoding failed.
    #[error("{0}")]
    Parquet(Box<ParquetError>),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A configuration file (server, jobs, lexicon, taxonomy, routing, a report's header)
    /// cannot be used: it is unreadable, not TOML, or says something that makes no sense.
    /// `path` names it (or where its text came from); `line` and `column` (from 1) point
    /// at the mistake when known. [`crate::config`] makes these for TOML files.
    #[error("{path}{}: {message}", position(.line, .column))]
    Config {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// The user asked for something that does not make sense.
    #[error("{0}")]
    Usage(String),

    #[error("job {job} is already running (its lock is held by {owner} until {until})")]
    Busy {
        job: String,
        owner: String,
        until: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

// The large library errors are boxed, so that `Result<T>` stays small.
impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        Error::Query(Box::new(e))
    }
}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        Error::Arrow(Box::new(e))
    }
}

impl From<ParquetError> for Error {
    fn from(e: ParquetError) -> Self {
        Error::Parquet(Box::new(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io("output", e)
    }
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    ///
    /// ```
    /// let e = socialcx::Error::io("in.ndjson", std::io::Error::other("boom"));
    /// assert!(e.to_string().starts_with("in.ndjson"));
    /// ```
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A configuration error at no particular place in the file at `path` (what it says is
    /// wrong, rather than how it is written).
    ///
    /// ```
    /// let e = socialcx::Error::config("jobs.toml", "two jobs are called \"d\"");
    /// assert_eq!(e.to_string(), "jobs.toml: two jobs are called \"d\"");
    /// ```
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// Where in a configuration file: `, line 3, column 7`, `, line 3`, or nothing.
fn position(line: &Option<usize>, column: &Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(", line {line}, column {column}"),
        (Some(line), None) => format!(", line {line}"),
        _ => String::new(),
    }
}
