//! The lake: Parquet files on an object store, made visible by a commit log.
//!
//! Layout under the lake root:
//!
//! ```text
//! conversations/date=2026-01-15/part-<commit id>-0000.parquet
//! quarantine/date=2026-01-20/part-<commit id>-0000.parquet
//! job_runs/part-<run id>-1.parquet       (what jobs write; see crate::jobs::history)
//! alerts/part-<run id>-1.parquet
//! metrics/<table>/as_of=2026-01-15/part-<run id>-1.parquet   (the `metrics` schema; see [`metrics`])
//! _log/00000000000000000001.json        (one commit per ingest or job run; see [`log`])
//! ```

pub mod cloud;
pub mod location;
pub mod log;
pub mod metrics;
pub mod table;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::jobs::history::{ALERTS, JOB_RUNS, alerts_schema, job_runs_schema};
use crate::model::{CONVERSATIONS, QUARANTINE, conversation_schema, quarantine_schema};
use crate::{Error, Result};
use log::{Commit, CommitLog, DataFile, Snapshot};
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
        let loc = location::resolve_with(url, options)?;
        Ok(Self::with_store(&loc.display, loc.store))
    }

    /// A lake over an existing store rooted at the lake (`url` is for messages only).
    /// Tests use this to put a failing store under the lake.
    pub fn with_store(url: &str, store: Arc<dyn ObjectStore>) -> Arc<Lake> {
        Arc::new(Lake {
            url: url.to_string(),
            log: CommitLog::new(url, Arc::clone(&store)),
            store,
        })
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

    /// Atomically make the files of `commit` visible; returns the new version.
    pub async fn commit(&self, commit: Commit) -> Result<u64> {
        self.log.commit(commit).await
    }

    /// Make `commit` visible as exactly `version`, or `Ok(false)` when another writer
    /// committed that version first (see [`CommitLog::try_commit_at`]).
    pub async fn try_commit_at(&self, commit: &mut Commit, version: u64) -> Result<bool> {
        self.log.try_commit_at(commit, version).await
    }

    /// The commits made after version `after`, oldest first.
    pub async fn commits_after(&self, after: u64) -> Result<Vec<Commit>> {
        self.log.commits_after(after).await
    }

    /// Delete files written for a commit that will not be made (best effort: files no
    /// commit names are invisible anyway).
    pub async fn discard(&self, files: &[DataFile]) {
        for file in files {
            if let Err(e) = self.store.delete(&Path::from(file.path.as_str())).await {
                tracing::debug!(path = %file.path, error = %e, "could not delete an unused file");
            }
        }
    }

    /// Write `batches` as one new, not yet visible, file of `table` in `partition`
    /// (`date=2026-01-15`), named after the writing operation `op_id` and `seq`.
    pub async fn write_file(
        &self,
        def: &TableDef,
        partition: Option<(&str, String)>,
        op_id: &str,
        seq: usize,
        batches: &[RecordBatch],
    ) -> Result<DataFile> {
        let dir = match &partition {
            Some((col, value)) => format!("{}/{col}={value}", def.name),
            None => def.name.to_string(),
        };
        let path = Path::from(format!("{dir}/part-{op_id}-{seq:04}.parquet"));
        let bytes = writer::write_parquet(&self.store, &path, Arc::clone(&def.schema), batches)
            .await
            .map_err(|e| match e {
                Error::Parquet(p) => Error::Lake {
                    url: self.url.clone(),
                    message: format!("writing {path}: {}", describe_parquet(&p)),
                },
                other => other,
            })?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let time_range = def.time_column.and_then(|c| time_range(batches, c));
        Ok(DataFile {
            table: def.name.to_string(),
            path: path.to_string(),
            rows,
            bytes,
            partition: partition
                .map(|(c, v)| BTreeMap::from([(c.to_string(), v)]))
                .unwrap_or_default(),
            time_range,
        })
    }
}

/// A Parquet write error, with the object store's failure (the usual cause on a remote lake)
/// described briefly.
fn describe_parquet(error: &parquet::errors::ParquetError) -> String {
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
fn time_range(batches: &[RecordBatch], column: &str) -> Option<[i64; 2]> {
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
