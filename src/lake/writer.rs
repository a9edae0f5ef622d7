//! Writing Parquet files into the lake.
//!
//! Files go straight to their final name through `object_store`'s buffered writer (one
//! PUT for small files, a multipart upload for large ones). Both are atomic: an object
//! appears whole when the upload completes, or not at all. Being named by no commit
//! yet, a new file is invisible to queries until [`super::log::CommitLog::commit`].

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::Result;

/// Rows per Parquet row group: small enough for row-group pruning on `created_at`
/// within a day, large enough for efficient column chunks.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The writer properties of every lake file: zstd, page statistics.
///
/// ```
/// let props = socialcx::lake::writer::writer_properties();
/// assert_eq!(props.max_row_group_row_count(), Some(socialcx::lake::writer::ROW_GROUP_ROWS));
/// ```
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_created_by(format!("socialcx {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Write `batches` as one Parquet file at `path`; returns the file's size in bytes.
pub async fn write_parquet(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<u64> {
    let sink = BufWriter::new(Arc::clone(store), path.clone());
    let mut writer = AsyncArrowWriter::try_new(sink, schema, Some(writer_properties()))?;
    for batch in batches {
        writer.write(batch).await?;
    }
    writer.finish().await?;
    Ok(writer.bytes_written() as u64)
}
