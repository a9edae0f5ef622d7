//! Stored results: what a costly computation over the lake's files returned, kept as one
//! Parquet file under `_results/<kind>/<key>.parquet` so the next query over the same files
//! reads it instead of computing it again.
//!
//! A result is not data: no commit names it and no table reads it. Its key is a hash of
//! everything the result depends on (the computation, its arguments and the names and sizes
//! of the lake files it read, which are never rewritten in place), so a new commit that
//! changes those files changes the key, and a stale result is never read. A result is
//! written whole (one atomic PUT or multipart upload, as every lake file); a result that
//! cannot be read (deleted meanwhile, damaged) is treated as absent. Each kind keeps its
//! [`KEEP`] most recent results; older ones are deleted when a new one is stored.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The prefix under which stored results live.
pub const RESULTS_DIR: &str = "_results";

/// How many results of one kind are kept (the most recently written).
pub const KEEP: usize = 8;

/// Where the result of `kind` for `key` (any text naming what it depends on) is stored.
///
/// ```
/// let path = socialcx::lake::results::path("author_influence", "files: a, b; window: all");
/// assert!(path.as_ref().starts_with("_results/author_influence/"));
/// assert!(path.as_ref().ends_with(".parquet"));
/// assert_ne!(path, socialcx::lake::results::path("author_influence", "files: a; window: all"));
/// ```
pub fn path(kind: &str, key: &str) -> Path {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    Path::from(format!("{RESULTS_DIR}/{kind}/{digest}.parquet"))
}

/// Whether a result is stored at `path` (a failed check counts as not stored).
///
/// ```no_run
/// # async fn f(store: std::sync::Arc<dyn object_store::ObjectStore>) {
/// let path = socialcx::lake::results::path("author_influence", "…");
/// if socialcx::lake::results::exists(&store, &path).await { println!("stored"); }
/// # }
/// ```
pub async fn exists(store: &Arc<dyn ObjectStore>, path: &Path) -> bool {
    store.head(path).await.is_ok()
}

/// The stored result at `path`, as batches of `schema`; `Ok(None)` when nothing is stored
/// there, an error when a file is there but is not such a result.
///
/// ```no_run
/// # async fn f(store: std::sync::Arc<dyn object_store::ObjectStore>,
/// #            schema: datafusion::arrow::datatypes::SchemaRef) -> socialcx::Result<()> {
/// let path = socialcx::lake::results::path("author_influence", "…");
/// if let Some(batches) = socialcx::lake::results::read(&store, &path, &schema).await? {
///     println!("{} batches", batches.len());
/// }
/// # Ok(()) }
/// ```
pub async fn read(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    schema: &SchemaRef,
) -> Result<Option<Vec<RecordBatch>>> {
    let bytes = match store.get(path).await {
        Ok(found) => found.bytes().await.map_err(|e| store_err("get", path, e))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_err("get", path, e)),
    };
    // A result is one file of a few MB, read whole and decoded off the async threads. Its
    // columns must be the expected ones by name and type; its batches then take the expected
    // schema, whose non-null columns they must honour.
    let expected = Arc::clone(schema);
    let path_text = path.to_string();
    let batches = tokio::task::spawn_blocking(move || -> Result<Vec<RecordBatch>> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
        let unexpected = || Error::Lake {
            url: super::OBJECT_STORE_URL.to_string(),
            message: format!("the stored result {path_text} does not have the expected columns"),
        };
        let found = reader.schema();
        let same = found.fields().len() == expected.fields().len()
            && (found.fields().iter().zip(expected.fields()))
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(unexpected());
        }
        reader
            .map(|batch| {
                RecordBatch::try_new(Arc::clone(&expected), batch?.columns().to_vec())
                    .map_err(|_| unexpected())
            })
            .collect()
    })
    .await
    .map_err(|e| Error::Lake {
        url: super::OBJECT_STORE_URL.to_string(),
        message: format!("reading the stored result {path}: {e}"),
    })??;
    Ok(Some(batches))
}

/// Store `batches` (of `schema`) as the result at `path`, then delete the results of the
/// same kind beyond the [`KEEP`] most recent.
///
/// ```no_run
/// # async fn f(store: std::sync::Arc<dyn object_store::ObjectStore>,
/// #            batch: datafusion::arrow::array::RecordBatch) -> socialcx::Result<()> {
/// let path = socialcx::lake::results::path("author_influence", "…");
/// socialcx::lake::results::write(&store, &path, batch.schema(), &[batch]).await?;
/// # Ok(()) }
/// ```
pub async fn write(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<()> {
    super::writer::write_parquet(store, path, schema, batches).await?;
    // Eviction is housekeeping: the result is stored whatever happens below.
    let parts: Vec<_> = path.parts().collect();
    let dir = Path::from_iter(parts[..parts.len().saturating_sub(1)].iter().cloned());
    let mut stored: Vec<_> = match store.list(Some(&dir)).try_collect().await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::debug!(%dir, error = %e, "could not list the stored results");
            return Ok(());
        }
    };
    // Newest first; the one just written is kept whatever the clocks say.
    stored.sort_by(|a, b| {
        (b.location == *path, b.last_modified).cmp(&(a.location == *path, a.last_modified))
    });
    for old in stored.iter().skip(KEEP) {
        if let Err(e) = store.delete(&old.location).await {
            tracing::debug!(path = %old.location, error = %e, "could not delete an old stored result");
        }
    }
    Ok(())
}

fn store_err(op: &'static str, path: &Path, source: object_store::Error) -> Error {
    Error::Store {
        url: super::OBJECT_STORE_URL.to_string(),
        op,
        path: path.to_string(),
        reason: super::cloud::describe(&source),
        source: Box::new(source),
    }
}
