//! Input readers: NDJSON, CSV and Parquet in our schema, and the TWCS CSV layout.
//!
//! Each turns a file's bytes into validated [`Conversation`]s and [`Rejected`] rows;
//! only a file that cannot be read at all (no usable header, not Parquet) is an error.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::array_value_to_string;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use std::sync::atomic::{AtomicU64, Ordering};

use super::fields::{Fields, JsonRow, Value, conversation_from_fields};
use super::quarantine::Rejected;
use super::twcs;
use crate::model::Conversation;

/// The layout of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Ndjson,
    Csv,
    Parquet,
    /// "Customer Support on Twitter" CSV.
    Twcs,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Ndjson => "ndjson",
            Layout::Csv => "csv",
            Layout::Parquet => "parquet",
            Layout::Twcs => "twcs",
        })
    }
}

/// What a reader made of a file.
#[derive(Debug)]
pub struct Parsed {
    pub layout: Layout,
    /// Valid rows, in input order.
    pub rows: Vec<Conversation>,
    pub rejected: Vec<Rejected>,
}

/// A progress callback: bytes of the input done so far.
pub type Progress<'a> = dyn Fn(u64) + Sync + 'a;

/// Read `bytes` (the content of `name`), telling `progress` how many bytes are done.
///
/// ```
/// let line = r#"{"conversation_id":"1","brand":"b","author_id":"a","channel":"twitter","created_at":"2026-01-05T10:00:00Z","text":"hi"}"#;
/// let parsed = socialcx::ingest::readers::read("in.ndjson", &line.into(), &|_| {}).unwrap();
/// assert_eq!(parsed.rows.len(), 1);
/// ```
pub fn read(name: &str, bytes: &Bytes, progress: &Progress<'_>) -> Result<Parsed, String> {
    read_from_line(name, bytes, 1, progress)
}

/// Read `bytes`, a segment of input `name` whose first line is line `first_line` of the
/// input (for the line numbers of rejected rows), telling `progress` the bytes done.
pub fn read_from_line(
    name: &str,
    bytes: &Bytes,
    first_line: i64,
    progress: &Progress<'_>,
) -> Result<Parsed, String> {
    if reads_in_segments(name, bytes) {
        return Ok(read_ndjson(bytes, first_line, progress));
    }
    if is_parquet(name, bytes) {
        return read_parquet(bytes, progress);
    }
    read_csv(bytes, progress)
}

fn is_parquet(name: &str, head: &[u8]) -> bool {
    head.starts_with(b"PAR1") || name.to_ascii_lowercase().ends_with(".parquet")
}

/// Whether input `name`, which begins with `head`, is NDJSON, which is read a segment of
/// whole lines at a time (CSV and Parquet are read whole).
///
/// ```
/// use socialcx::ingest::readers::reads_in_segments;
/// assert!(reads_in_segments("in.ndjson", b"{}"));
/// assert!(reads_in_segments("from-a-pipe", b"  {\"conversation_id\": \"1\"}"));
/// assert!(!reads_in_segments("in.csv", b"conversation_id,text"));
/// ```
pub fn reads_in_segments(name: &str, head: &[u8]) -> bool {
    if is_parquet(name, head) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let ext_json = [".ndjson", ".jsonl", ".json"]
        .iter()
        .any(|e| lower.ends_with(e));
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    ext_json || (!lower.ends_with(".csv") && first == Some(&b'{'))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_end_matches(['\r', '\n'])
        .to_string()
}

/// What one chunk of an input yields: valid rows and rejects.
type ChunkRows = (Vec<Conversation>, Vec<Rejected>);

fn read_ndjson(bytes: &Bytes, first_line: i64, progress: &Progress<'_>) -> Parsed {
    // Split at line boundaries into one chunk per core; parse the chunks in parallel.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunks = split_lines(bytes, threads, 4 << 20, first_line);
    let done = AtomicU64::new(0);
    let parts: Vec<ChunkRows> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|(range, first_line)| {
                let (range, first_line, done) = (range.clone(), *first_line, &done);
                scope.spawn(move || parse_ndjson_chunk(&bytes[range], first_line, done, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("NDJSON parser thread"))
            .collect()
    });
    // The first chunk's rows become the result: only the later chunks are moved.
    let mut parts = parts.into_iter();
    let (mut rows, mut rejected) = parts.next().unwrap_or_default();
    for (more, more_rejected) in parts {
        rows.extend(more);
        rejected.extend(more_rejected);
    }
    let parsed = Parsed {
        layout: Layout::Ndjson,
        rows,
        rejected,
    };
    progress(bytes.len() as u64);
    parsed
}

/// Up to `n` ranges of `bytes`, each ending after a newline and at least `min` long,
/// with the 1-based line number each starts at (`bytes` starting at line `first_line`).
fn split_lines(
    bytes: &[u8],
    n: usize,
    min: usize,
    first_line: i64,
) -> Vec<(std::ops::Range<usize>, i64)> {
    let target = (bytes.len() / n.max(1)).max(min);
    let mut chunks = Vec::new();
    let (mut start, mut line) = (0usize, first_line);
    while start < bytes.len() {
        let mut end = (start + target).min(bytes.len());
        while end < bytes.len() && bytes[end - 1] != b'\n' {
            end += 1;
        }
        chunks.push((start..end, line));
        line += bytes[start..end].iter().filter(|&&b| b == b'\n').count() as i64;
        start = end;
    }
    chunks
}

fn parse_ndjson_chunk(
    chunk: &[u8],
    first_line: i64,
    done: &AtomicU64,
    progress: &Progress<'_>,
) -> ChunkRows {
    let mut rows = Vec::with_capacity(chunk.len() / 300);
    let mut rejected = Vec::new();
    let mut since_report = 0u64;
    for (i, line) in chunk.split(|&b| b == b'\n').enumerate() {
        since_report += line.len() as u64 + 1;
        if since_report > 1 << 20 {
            progress(done.fetch_add(since_report, Ordering::Relaxed) + since_report);
            since_report = 0;
        }
        let line_no = first_line + i as i64;
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        let outcome = match first {
            None => continue,
            Some(b'{') => serde_json::from_slice::<JsonRow<'_>>(line)
                .map_err(|e| format!("invalid JSON: {e}"))
                .and_then(|row| conversation_from_fields(&row)),
            Some(_) => Err("not a JSON object".to_string()),
        };
        match outcome {
            Ok(c) => rows.push(c),
            Err(reason) => rejected.push(Rejected {
                line: Some(line_no),
                reason,
                raw: lossy(line),
            }),
        }
    }
    done.fetch_add(since_report, Ordering::Relaxed);
    (rows, rejected)
}

struct CsvRow<'a> {
    columns: &'a HashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Fields for CsvRow<'_> {
    fn get(&self, name: &str) -> Value<'_> {
        match self.columns.get(name).and_then(|&i| self.record.get(i)) {
            Some(s) if !s.is_empty() => Value::Str(Cow::Borrowed(s)),
            _ => Value::Null,
        }
    }
}

fn read_csv(bytes: &Bytes, progress: &Progress<'_>) -> Result<Parsed, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_ref());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    let layout = if twcs::is_twcs_header(&names) {
        Layout::Twcs
    } else if names.contains(&"conversation_id") {
        Layout::Csv
    } else {
        return Err(format!(
            "the CSV header ({}) is neither our schema (conversation_id, thread_id, ...) \
             nor the Customer Support on Twitter layout ({})",
            names.join(", "),
            twcs::COLUMNS.join(", ")
        ));
    };
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.clone(), i))
        .collect();
    let mut parsed = Parsed {
        layout,
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        let start = reader.position().byte() as usize;
        let line_no = reader.position().line() as i64;
        let result = reader.read_record(&mut record);
        let end = (reader.position().byte() as usize).min(bytes.len());
        n += 1;
        if n.is_multiple_of(8192) {
            progress(end as u64);
        }
        // After a CRLF record the reader stops before the LF: the next record starts
        // past any line breaks left over (for its raw text and its line number).
        let start = start.min(end);
        let breaks = bytes[start..end]
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let line_no = line_no
            + bytes[start..start + breaks]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as i64;
        let raw = &bytes[start + breaks..end];
        let reject = |reason: String| Rejected {
            line: Some(line_no),
            reason,
            raw: lossy(raw),
        };
        if let Ok(true) = result
            && let Err(at) = check_quoting(raw)
        {
            // The reader takes text after a closing quote as part of the field, so a stray
            // quote swallows the records after it: quarantine them, never merge them.
            parsed.rejected.push(reject(format!(
                "malformed CSV: text after a closing quote at byte {at} of the record; \
                 the record boundaries are unknown, so its {} line(s) are kept here whole",
                raw.iter().filter(|&&b| b == b'\n').count().max(1)
            )));
            continue;
        }
        match result {
            Ok(false) => break,
            Err(e) => {
                let reason = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
                    _ => format!("malformed CSV: {e}"),
                };
                parsed.rejected.push(reject(reason));
                if end <= start {
                    break; // no progress possible
                }
            }
            Ok(true) if record.len() != header.len() => parsed.rejected.push(reject(format!(
                "expected {} fields, found {}",
                header.len(),
                record.len()
            ))),
            Ok(true) => {
                let outcome = match layout {
                    Layout::Twcs => twcs::conversation_from_twcs(|name| {
                        columns
                            .get(name)
                            .and_then(|&i| record.get(i))
                            .map(str::to_string)
                    }),
                    _ => conversation_from_fields(&CsvRow {
                        columns: &columns,
                        record: &record,
                    }),
                };
                match outcome {
                    Ok(c) => parsed.rows.push(c),
                    Err(reason) => parsed.rejected.push(reject(reason)),
                }
            }
        }
    }
    progress(bytes.len() as u64);
    Ok(parsed)
}

/// Check a CSV record's quoting: a quoted field's closing quote must be followed by a comma,
/// a line break or the end. `Err` gives the offset of the first offending byte.
fn check_quoting(raw: &[u8]) -> Result<(), usize> {
    if !raw.contains(&b'"') {
        return Ok(());
    }
    let mut i = 0;
    let mut field_start = true;
    while i < raw.len() {
        let b = raw[i];
        if field_start && b == b'"' {
            // A quoted field: find its closing quote ("" is an escaped quote).
            i += 1;
            loop {
                match raw.get(i) {
                    None => return Ok(()),
                    Some(b'"') if raw.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        match raw.get(i) {
                            None | Some(b',' | b'\r' | b'\n') => break,
                            Some(_) => return Err(i),
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            continue;
        }
        field_start = matches!(b, b',' | b'\n' | b'\r');
        i += 1;
    }
    Ok(())
}

struct ParquetRow<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

fn value_of(array: &ArrayRef, row: usize) -> Value<'_> {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::Str(Cow::Borrowed(array.as_string::<i32>().value(row))),
        DataType::LargeUtf8 => Value::Str(Cow::Borrowed(array.as_string::<i64>().value(row))),
        DataType::Utf8View => Value::Str(Cow::Borrowed(array.as_string_view().value(row))),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            match datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Int64) {
                Ok(a) => Value::Int(
                    a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                        .value(0),
                ),
                Err(_) => Value::Null,
            }
        }
        DataType::Float32 | DataType::Float64 => {
            match datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Float64) {
                Ok(a) => Value::Float(
                    a.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                        .value(0),
                ),
                Err(_) => Value::Null,
            }
        }
        DataType::Timestamp(unit, _) => {
            let v = match datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Int64) {
                Ok(a) => a
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .value(0),
                Err(_) => return Value::Null,
            };
            // Parquet states the unit: scale by it (checked), never guess by magnitude.
            let micros = match unit {
                TimeUnit::Second => v.checked_mul(1_000_000),
                TimeUnit::Millisecond => v.checked_mul(1_000),
                TimeUnit::Microsecond => Some(v),
                TimeUnit::Nanosecond => Some(v / 1_000),
            };
            Value::Instant(micros)
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes: &[u8] = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(row),
                DataType::LargeBinary => array.as_binary::<i64>().value(row),
                _ => array.as_binary_view().value(row),
            };
            match std::str::from_utf8(bytes) {
                Ok(text) => Value::Str(Cow::Borrowed(text)),
                Err(_) => Value::Bytes,
            }
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let list = match datafusion::arrow::compute::cast(
                &array.slice(row, 1),
                &DataType::new_list(DataType::Utf8, true),
            ) {
                Ok(l) => l,
                Err(_) => return Value::Null,
            };
            let values = list.as_list::<i32>().value(0);
            let strings = values.as_string::<i32>();
            Value::List(strings.iter().flatten().map(str::to_string).collect())
        }
        _ => Value::Str(Cow::Owned(
            array_value_to_string(array, row).unwrap_or_default(),
        )),
    }
}

impl Fields for ParquetRow<'_> {
    fn get(&self, name: &str) -> Value<'_> {
        match self.batch.column_by_name(name) {
            Some(col) => value_of(col, self.row),
            None => Value::Null,
        }
    }
}

fn row_as_json(batch: &RecordBatch, row: usize) -> String {
    let mut map = serde_json::Map::new();
    for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let v = if col.is_null(row) {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(array_value_to_string(col, row).unwrap_or_default())
        };
        map.insert(field.name().clone(), v);
    }
    serde_json::Value::Object(map).to_string()
}

fn read_parquet(bytes: &Bytes, progress: &Progress<'_>) -> Result<Parsed, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    if builder.schema().field_with_name("conversation_id").is_err() {
        return Err(format!(
            "the Parquet schema has no conversation_id column (columns: {})",
            builder
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let total_rows = builder.metadata().file_metadata().num_rows().max(1) as u64;
    let reader = builder
        .with_batch_size(8192)
        .build()
        .map_err(|e| format!("cannot read the Parquet file: {e}"))?;
    let mut parsed = Parsed {
        layout: Layout::Parquet,
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let mut row_no = 0i64;
    for batch in reader {
        let batch =
            batch.map_err(|e| format!("Parquet data is corrupt after row {row_no}: {e}"))?;
        for row in 0..batch.num_rows() {
            row_no += 1;
            match conversation_from_fields(&ParquetRow { batch: &batch, row }) {
                Ok(c) => parsed.rows.push(c),
                Err(reason) => parsed.rejected.push(Rejected {
                    line: Some(row_no),
                    reason,
                    raw: row_as_json(&batch, row),
                }),
            }
        }
        progress(bytes.len() as u64 * row_no as u64 / total_rows);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::{check_quoting, split_lines};

    #[test]
    fn quoting_is_checked_after_every_closing_quote() {
        assert!(check_quoting(b"1,\"a \"\"b\"\"\",c\n").is_ok());
        assert!(check_quoting(b"1,\"two\nlines\",c\r\n").is_ok());
        assert!(
            check_quoting(b"1,5\" screen,c\n").is_ok(),
            "a bare quote mid-field"
        );
        assert_eq!(check_quoting(b"1,\"a\" b,c\n"), Err(5));
        assert_eq!(check_quoting(b"\"x\"y"), Err(3));
    }

    #[test]
    fn chunks_end_at_line_boundaries_and_know_their_first_line() {
        let text = b"a\nbb\nccc\ndddd\neeeee\n";
        let chunks = split_lines(text, 3, 4, 1);
        let mut joined = Vec::new();
        for (range, first_line) in &chunks {
            assert!(text[range.clone()].ends_with(b"\n"));
            let before = text[..range.start].iter().filter(|&&b| b == b'\n').count() as i64;
            assert_eq!(*first_line, before + 1);
            joined.extend_from_slice(&text[range.clone()]);
        }
        assert_eq!(joined, text);
        assert!(chunks.len() > 1);
        // No trailing newline: the last chunk ends at the end of the input.
        let chunks = split_lines(b"x\ny", 2, 1, 1);
        assert_eq!(chunks.last().unwrap().0.end, 3);
    }
}
