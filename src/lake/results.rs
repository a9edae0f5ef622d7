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

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
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

/// The stored result at `path`, as batches of `schema` (only its columns `projection`, in
/// that order, when given); `Ok(None)` when nothing is stored there, an error when a file is
/// there but is not such a result. Its row groups are decoded on every core.
///
/// ```no_run
/// # async fn f(store: std::sync::Arc<dyn object_store::ObjectStore>,
/// #            schema: datafusion::arrow::datatypes::SchemaRef) -> socialcx::Result<()> {
/// let path = socialcx::lake::results::path("author_influence", "…");
/// if let Some(batches) = socialcx::lake::results::read(&store, &path, &schema, Some(&[0, 2])).await? {
///     println!("{} batches of two columns", batches.len());
/// }
/// # Ok(()) }
/// ```
pub async fn read(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    schema: &SchemaRef,
    projection: Option<&[usize]>,
) -> Result<Option<Vec<RecordBatch>>> {
    let bytes = match store.get(path).await {
        Ok(found) => found.bytes().await.map_err(|e| store_err("get", path, e))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_err("get", path, e)),
    };
    let unexpected = |message: String| Error::Lake {
        url: super::OBJECT_STORE_URL.to_string(),
        message: format!("the stored result {path} {message}"),
    };
    // A result is one file of a few MB, read whole. Its columns must be the expected ones
    // by name and type; its batches then take the expected schema, whose non-null columns
    // they must honour.
    let metadata = ArrowReaderMetadata::load(&bytes, ArrowReaderOptions::default())?;
    let found = metadata.schema();
    let same = found.fields().len() == schema.fields().len()
        && (found.fields().iter().zip(schema.fields()))
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if !same {
        return Err(unexpected("does not have the expected columns".into()));
    }
    let all: Vec<usize> = (0..schema.fields().len()).collect();
    let projection = projection.unwrap_or(&all);
    let expected = Arc::new(schema.project(projection)?);
    // The reader yields a projection's columns in file order: pick them in the order asked.
    let mut in_file_order = projection.to_vec();
    in_file_order.sort_unstable();
    let order: Vec<usize> = projection
        .iter()
        .map(|c| in_file_order.binary_search(c).unwrap_or(0))
        .collect();
    let mask = ProjectionMask::roots(metadata.parquet_schema(), projection.iter().copied());
    // Each row group decoded off the async threads, as many at once as there are cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let decoded = (0..metadata.metadata().num_row_groups()).map(|group| {
        let (bytes, metadata, mask) = (bytes.clone(), metadata.clone(), mask.clone());
        let (expected, order) = (Arc::clone(&expected), order.clone());
        async move {
            tokio::task::spawn_blocking(move || -> Result<Vec<RecordBatch>> {
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes, metadata)
                    .with_row_groups(vec![group])
                    .with_projection(mask)
                    .with_batch_size(BATCH_ROWS)
                    .build()?;
                reader
                    .map(|batch| {
                        let batch = batch?;
                        let columns = order.iter().map(|&i| Arc::clone(batch.column(i)));
                        RecordBatch::try_new(Arc::clone(&expected), columns.collect()).map_err(
                            |e| Error::Lake {
                                url: super::OBJECT_STORE_URL.to_string(),
                                message: format!("a stored result does not fit its schema: {e}"),
                            },
                        )
                    })
                    .collect()
            })
            .await
            .map_err(|e| unexpected(format!("could not be decoded: {e}")))?
        }
    });
    let groups: Vec<Vec<RecordBatch>> = futures::stream::iter(decoded)
        .buffered(cores)
        .try_collect()
        .await?;
    Ok(Some(groups.into_iter().flatten().collect()))
}

/// Rows per batch read from a stored result: DataFusion's default, the size the operators after
/// the read are tuned for (the reader's own default is 1,024, a row group holds 131,072).
const BATCH_ROWS: usize = 8192;

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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    /// A result of more rows than a row group holds, so that it is read in several.
    fn result(rows: usize) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
        ]);
        let ids = (0..rows).map(|i| format!("author {i}"));
        let xs = (0..rows).map(|i| (i % 7 != 0).then_some(i as f64 / 3.0));
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from_iter_values(ids)),
                Arc::new(Int64Array::from_iter_values((0..rows as i64).rev())),
                Arc::new(Float64Array::from_iter(xs)),
            ],
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_result_is_read_back_whole_or_by_columns_in_the_order_asked() {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let rows = 2 * super::super::writer::ROW_GROUP_ROWS + 1_000;
        let batch = result(rows);
        let schema = batch.schema();
        let at = path("test", "key");
        write(
            &store,
            &at,
            Arc::clone(&schema),
            std::slice::from_ref(&batch),
        )
        .await
        .unwrap();

        let whole = read(&store, &at, &schema, None).await.unwrap().unwrap();
        assert!(whole.len() > 3, "read in batches, not one: {}", whole.len());
        assert_eq!(concat_batches(&schema, &whole).unwrap(), batch);

        let picked = read(&store, &at, &schema, Some(&[2, 0]))
            .await
            .unwrap()
            .unwrap();
        let expected = batch.project(&[2, 0]).unwrap();
        assert_eq!(
            concat_batches(&expected.schema(), &picked).unwrap(),
            expected
        );

        let missing = path("test", "another key");
        assert!(
            read(&store, &missing, &schema, None)
                .await
                .unwrap()
                .is_none()
        );
        let other = Arc::new(schema.project(&[1, 0, 2]).unwrap());
        let error = read(&store, &at, &other, None).await.unwrap_err();
        assert!(error.to_string().contains("expected columns"), "{error}");
    }
}
