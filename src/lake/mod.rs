//! The lake: Parquet files on an object store, made visible by a commit log.
//!
//! Layout under the lake root:
//!
//! ```text
//! conversations/date=2026-01-15/part-<commit id>-0000.parquet   a day with many rows
//! conversations/month=2026-01/part-<commit id>-0001.parquet     a month's small days
//! conversations/year=2019/part-<commit id>-0002.parquet         a year's small months
//! quarantine/date=2026-01-20/part-<commit id>-0000.parquet      (the day it was quarantined)
//! job_runs/part-<commit id>-0002.parquet                        (what jobs record)
//! alerts/part-<commit id>-0001.parquet
//! metrics/<table>/as_of=2026-01-15/part-<commit id>-0000.parquet   (the `metrics` schema)
//! _log/00000000000000000001.json        (one commit per ingest or job attempt; see [`log`])
//! _results/author_influence/<key>.parquet   (a graph's result, kept for the next query; see [`results`])
//! ```
//!
//! Every data file is written through a [`transaction::Transaction`], which names it after its
//! commit; [`layout`] says when a day, a month or a year gets a file.

pub mod cloud;
pub mod layout;
pub mod location;
pub mod log;
pub mod metrics;
pub mod results;
pub mod table;
pub mod transaction;
pub mod writer;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::Result;
use crate::model::{
    ALERTS, CONVERSATIONS, JOB_RUNS, QUARANTINE, alerts_schema, conversation_schema,
    job_runs_schema, quarantine_schema,
};
use log::{CommitLog, DataFile, Snapshot};
use table::TableDef;

/// The URL under which a lake's store is registered in DataFusion's object store
/// registry: lake files are addressed relative to the lake root.
pub const OBJECT_STORE_URL: &str = "socialcx://lake/";

/// The tables every lake has.
///
/// ```
/// assert_eq!(socialcx::lake::tables()[0].name, "conversations");
/// ```
pub fn tables() -> Vec<TableDef> {
    vec![
        TableDef {
            name: CONVERSATIONS.into(),
            schema: conversation_schema(),
            partition_column: Some("date"),
            time_column: Some("created_at"),
        },
        TableDef {
            name: QUARANTINE.into(),
            schema: quarantine_schema(),
            partition_column: Some("date"),
            time_column: Some("quarantined_at"),
        },
        TableDef {
            name: JOB_RUNS.into(),
            schema: job_runs_schema(),
            partition_column: None,
            time_column: None,
        },
        TableDef {
            name: ALERTS.into(),
            schema: alerts_schema(),
            partition_column: None,
            time_column: None,
        },
    ]
}

/// The definition of the lake table `name`.
///
/// ```
/// assert_eq!(socialcx::lake::table("quarantine").unwrap().time_column, Some("quarantined_at"));
/// ```
pub fn table(name: &str) -> Option<TableDef> {
    tables().into_iter().find(|t| t.name == name)
}

/// One lake: its object store and its commit log.
#[derive(Debug)]
pub struct Lake {
    url: String,
    store: Arc<dyn ObjectStore>,
    log: CommitLog,
    created: bool,
}

impl Lake {
    /// Open (or create) the lake at `url`: a local path, `file://`, `memory://`, `s3://`,
    /// `gs://` or `az://`.
    ///
    /// ```no_run
    /// # async fn f() -> socialcx::Result<()> {
    /// let lake = socialcx::lake::Lake::open("./lake").await?;
    /// println!("{} files", lake.snapshot().await?.files("conversations").len());
    /// # Ok(()) }
    /// ```
    pub async fn open(url: &str) -> Result<Arc<Lake>> {
        Self::open_with(url, &[]).await
    }

    /// Open the lake at `url` with object-store `options` overriding the environment
    /// (e.g. `aws_endpoint`, `aws_allow_http` for an S3-compatible server).
    ///
    /// ```no_run
    /// # async fn f() -> socialcx::Result<()> {
    /// let options = [("aws_endpoint".to_string(), "http://localhost:9000".to_string()),
    ///                ("aws_allow_http".to_string(), "true".to_string())];
    /// let lake = socialcx::lake::Lake::open_with("s3://cx/lake", &options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_with(url: &str, options: &[(String, String)]) -> Result<Arc<Lake>> {
        Self::open_for(url, options, location::Access::Write).await
    }

    /// Open the lake at `url` for `access`: to only read, a local lake directory that does
    /// not exist is an error and is not created (see [`location::Access`]).
    ///
    /// ```no_run
    /// # async fn f() -> socialcx::Result<()> {
    /// use socialcx::lake::{Lake, location::Access};
    /// let lake = Lake::open_for("./lake", &[], Access::Read).await?; // fails if ./lake is not there
    /// assert!(!lake.created());
    /// # Ok(()) }
    /// ```
    pub async fn open_for(
        url: &str,
        options: &[(String, String)],
        access: location::Access,
    ) -> Result<Arc<Lake>> {
        let loc = location::resolve_for(url, options, access)?;
        Ok(Self::build(&loc.display, loc.store, loc.created))
    }

    /// A lake over an existing store rooted at the lake (`url` is for messages only).
    /// Tests use this to put a failing store under the lake.
    pub fn with_store(url: &str, store: Arc<dyn ObjectStore>) -> Arc<Lake> {
        Self::build(url, store, false)
    }

    fn build(url: &str, store: Arc<dyn ObjectStore>, created: bool) -> Arc<Lake> {
        Arc::new(Lake {
            url: url.to_string(),
            log: CommitLog::new(url, Arc::clone(&store)),
            store,
            created,
        })
    }

    /// Whether opening made a new local lake directory (a command that writes says so).
    ///
    /// ```no_run
    /// # async fn f() -> socialcx::Result<()> {
    /// let lake = socialcx::lake::Lake::open("./new-lake").await?;
    /// if lake.created() { eprintln!("created a new lake at {}", lake.url()); }
    /// # Ok(()) }
    /// ```
    pub fn created(&self) -> bool {
        self.created
    }

    /// The lake's URL, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object store, rooted at the lake.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The current snapshot (reads commits made since the last call).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        self.log.snapshot().await
    }

    /// Delete files written for a commit that will not be made (best effort: files no
    /// commit names are invisible anyway).
    pub(crate) async fn discard(&self, files: &[DataFile]) {
        for file in files {
            if let Err(e) = self.store.delete(&Path::from(file.path.as_str())).await {
                tracing::debug!(path = %file.path, error = %e, "could not delete an unused file");
            }
        }
    }
}

/// A Parquet write error, with the object store's failure (the usual cause on a remote lake)
/// described briefly.
pub(crate) fn describe_parquet(error: &parquet::errors::ParquetError) -> String {
    let mut current: Option<&(dyn std::error::Error + 'static)> = match error {
        parquet::errors::ParquetError::External(inner) => Some(inner.as_ref()),
        _ => None,
    };
    while let Some(e) = current {
        if let Some(store) = e.downcast_ref::<object_store::Error>() {
            return cloud::describe(store);
        }
        // An `io::Error` from the buffered writer carries the store's error inside.
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => e.source(),
        };
    }
    error.to_string()
}

/// Min and max of a timestamp column over `batches`.
pub(crate) fn time_range(batches: &[RecordBatch], column: &str) -> Option<[i64; 2]> {
    use datafusion::arrow::array::TimestampMicrosecondArray;
    let mut range: Option<[i64; 2]> = None;
    for b in batches {
        let col = b.column_by_name(column)?;
        let ts = col.as_any().downcast_ref::<TimestampMicrosecondArray>()?;
        let (lo, hi) = (
            datafusion::arrow::compute::min(ts)?,
            datafusion::arrow::compute::max(ts)?,
        );
        range = Some(match range {
            None => [lo, hi],
            Some([a, b]) => [a.min(lo), b.max(hi)],
        });
    }
    range
}
