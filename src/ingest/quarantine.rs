//! Rows that cannot land: kept, with their reason and where they came from, in the
//! lake's `quarantine` table. Nothing is dropped silently.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};

use crate::Result;
use crate::model::{Conversation, UTC, date32, quarantine_schema};

/// One input row that was not landed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// 1-based line (NDJSON, CSV) or row (Parquet) in the source file.
    pub line: Option<i64>,
    /// Why it was not landed, in one sentence.
    pub reason: String,
    /// The row as it was in the input (lossy UTF-8 for broken bytes).
    pub raw: String,
}

/// Build the quarantine batch for `rejected` rows of `source`, quarantined at
/// `at_micros` by operation `ingest_id`.
///
/// ```
/// use socialcx::ingest::quarantine::{Rejected, quarantine_batch};
/// let r = Rejected { line: Some(3), reason: "missing text".into(), raw: "{}".into() };
/// let batch = quarantine_batch("i1", "in.ndjson", 1_700_000_000_000_000, &[r]).unwrap();
/// assert_eq!(batch.num_rows(), 1);
/// ```
pub fn quarantine_batch(
    ingest_id: &str,
    source: &str,
    at_micros: i64,
    rejected: &[Rejected],
) -> Result<RecordBatch> {
    let n = rejected.len();
    let mut ingest = StringBuilder::new();
    let mut src = StringBuilder::new();
    let mut line = Int64Builder::with_capacity(n);
    let mut reason = StringBuilder::new();
    let mut raw = StringBuilder::new();
    let mut at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone(UTC);
    let mut date = Date32Builder::with_capacity(n);
    let day = date32(Conversation::day_of(at_micros));
    for r in rejected {
        ingest.append_value(ingest_id);
        src.append_value(source);
        line.append_option(r.line);
        reason.append_value(&r.reason);
        raw.append_value(&r.raw);
        at.append_value(at_micros);
        date.append_value(day);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ingest.finish()),
        Arc::new(src.finish()),
        Arc::new(line.finish()),
        Arc::new(reason.finish()),
        Arc::new(raw.finish()),
        Arc::new(at.finish()),
        Arc::new(date.finish()),
    ];
    Ok(RecordBatch::try_new(quarantine_schema(), columns)?)
}
