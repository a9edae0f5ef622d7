//! Writing query results, in every format the interfaces offer: an aligned table or an HTML
//! page for people; CSV, JSON, NDJSON or Parquet for programs. One result per call of
//! [`write_stream`]; every format but `table` and `html` streams batch by batch. A result
//! written to a file appears whole or not at all ([`Destination`]).
//!
//! The formats, a cell at a time: CSV writes list, struct and map cells as JSON text
//! (`["a","b"]`, `{"k":1}`), as DuckDB does; JSON and NDJSON nest them; the table and the
//! HTML page show them as Arrow displays them. A result without columns (`CREATE VIEW`,
//! `SET`) writes nothing in any format.
//!
//! ```no_run
//! # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
//! use socialcx::output::{Destination, OutputFormat, write_stream};
//! let stream = engine.stream(engine.sql("SELECT 1 AS n").await?).await?;
//! let mut out = Destination::open(Some(std::path::Path::new("n.csv")), OutputFormat::Csv)?;
//! let rows = write_stream(stream, OutputFormat::Csv, &mut out, 0).await?;
//! assert_eq!(rows, 1);
//! out.commit()?;
//! # Ok(()) }
//! ```

mod destination;
pub mod html;

use std::io::Write;
use std::sync::Arc;

use clap::ValueEnum;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchWriter, StringBuilder};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::{EncoderOptions, JsonArray, LineDelimited, make_encoder};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use crate::Result;
use crate::lake::writer::writer_properties;

pub use destination::Destination;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table, for reading.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Parquet file (zstd).
    Parquet,
    /// A self-contained HTML page (reports get their charts; see `socialcx report`).
    Html,
}

impl OutputFormat {
    /// The format's name, as `--format` takes it.
    ///
    /// ```
    /// assert_eq!(socialcx::output::OutputFormat::Ndjson.name(), "ndjson");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Csv => "csv",
            OutputFormat::Json => "json",
            OutputFormat::Ndjson => "ndjson",
            OutputFormat::Parquet => "parquet",
            OutputFormat::Html => "html",
        }
    }

    /// Whether one output in this format holds one result only: every format for programs
    /// (one CSV header, one JSON array, one Parquet schema) and the HTML page. Only the
    /// table may show several results one after the other.
    ///
    /// ```
    /// use socialcx::output::OutputFormat;
    /// assert!(OutputFormat::Json.holds_one_result() && !OutputFormat::Table.holds_one_result());
    /// ```
    pub fn holds_one_result(self) -> bool {
        self != OutputFormat::Table
    }
}

/// Write `stream` to `out` in `format`; returns the number of rows. The `table` format
/// shows at most `max_rows` rows (0: all) and says how many it left out; the HTML page shows
/// at most [`html::QUERY_ROWS`]. A stream without columns (a DDL statement's) is run to its
/// end and writes nothing.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// use socialcx::output::{OutputFormat, write_stream};
/// let stream = engine.stream(engine.sql("SELECT 1 AS n").await?).await?;
/// let rows = write_stream(stream, OutputFormat::Json, &mut std::io::stdout(), 0).await?;
/// assert_eq!(rows, 1);
/// # Ok(()) }
/// ```
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    out: &mut (dyn Write + Send),
    max_rows: usize,
) -> Result<usize> {
    let schema = stream.schema();
    if schema.fields().is_empty() {
        // DDL and SET statements: nothing to write, in any format.
        return discard(stream).await;
    }
    let rows = match format {
        OutputFormat::Table => {
            let (mut shown, shown_rows, rows) = head(&mut stream, max_rows).await?;
            if shown.is_empty() {
                shown.push(RecordBatch::new_empty(schema));
            }
            writeln!(out, "{}", pretty_format_batches(&shown)?)?;
            if rows > shown_rows {
                writeln!(
                    out,
                    "({rows} rows, {shown_rows} shown: raise .maxrows or --max-rows, 0 for all)"
                )?;
            }
            rows
        }
        OutputFormat::Csv => {
            let w = CsvWriterBuilder::new().with_header(true).build(&mut *out);
            let (rows, batches) = pump(&mut stream, NestedAsJson(w)).await?;
            if batches == 0 {
                // Still tell the reader the columns.
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                writeln!(out, "{}", names.join(","))?;
            }
            rows
        }
        OutputFormat::Json => {
            let w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(&mut *out);
            let rows = pump(&mut stream, w).await?.0;
            writeln!(out)?;
            rows
        }
        OutputFormat::Ndjson => {
            let w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(&mut *out);
            pump(&mut stream, w).await?.0
        }
        OutputFormat::Parquet => {
            let w = ArrowWriter::try_new(&mut *out, schema, Some(writer_properties()))?;
            pump(&mut stream, w).await?.0
        }
        OutputFormat::Html => {
            let (shown, _, rows) = head(&mut stream, html::QUERY_ROWS).await?;
            let generated = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
            let page = html::page(
                "socialcx query",
                &format!("<p>socialcx, {generated}</p>"),
                &html::table(&schema, &shown, rows)?,
                "",
            );
            out.write_all(page.as_bytes())?;
            rows
        }
    };
    out.flush()?;
    Ok(rows)
}

/// Run `stream` to its end without writing it (a statement whose result is not wanted,
/// still run for what it does); returns the number of rows.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// let stream = engine.stream(engine.sql("SELECT 1 AS n").await?).await?;
/// assert_eq!(socialcx::output::discard(stream).await?, 1);
/// # Ok(()) }
/// ```
pub async fn discard(mut stream: SendableRecordBatchStream) -> Result<usize> {
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
    }
    Ok(rows)
}

/// The first `limit` rows of `stream` (0: all), their number, and the number of rows the
/// whole stream held.
async fn head(
    stream: &mut SendableRecordBatchStream,
    limit: usize,
) -> Result<(Vec<RecordBatch>, usize, usize)> {
    let limit = if limit == 0 { usize::MAX } else { limit };
    let (mut shown, mut shown_rows, mut rows) = (Vec::new(), 0usize, 0usize);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        let room = limit - shown_rows;
        if room > 0 && batch.num_rows() > 0 {
            let take = room.min(batch.num_rows());
            shown.push(batch.slice(0, take));
            shown_rows += take;
        }
    }
    Ok((shown, shown_rows, rows))
}

/// Write every batch of `stream` with `writer`, then close it: (rows, batches).
async fn pump(
    stream: &mut SendableRecordBatchStream,
    mut writer: impl RecordBatchWriter,
) -> Result<(usize, usize)> {
    let (mut rows, mut batches) = (0, 0);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows();
        batches += 1;
        writer.write(&batch)?;
    }
    writer.close()?;
    Ok((rows, batches))
}

/// A writer for flat rows (CSV) fed batches whose nested columns became JSON text.
struct NestedAsJson<W>(W);

impl<W: RecordBatchWriter> RecordBatchWriter for NestedAsJson<W> {
    fn write(&mut self, batch: &RecordBatch) -> std::result::Result<(), ArrowError> {
        self.0.write(&nested_as_json(batch)?)
    }

    fn close(self) -> std::result::Result<(), ArrowError> {
        self.0.close()
    }
}

/// `batch` with each list, struct, map or union column replaced by a text column holding
/// its values as JSON (`["a","b"]`, `{"k":1,"v":null}`); a null value stays null. The
/// other columns are as they were.
fn nested_as_json(batch: &RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(batch.clone());
    }
    let options = EncoderOptions::default().with_explicit_nulls(true);
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(Arc::clone(field));
            columns.push(Arc::clone(column));
            continue;
        }
        let mut text = StringBuilder::with_capacity(column.len(), column.len() * 16);
        match make_encoder(field, column.as_ref(), &options) {
            Ok(mut encoder) => {
                let mut buffer = Vec::new();
                for i in 0..column.len() {
                    if encoder.is_null(i) {
                        text.append_null();
                    } else {
                        buffer.clear();
                        encoder.encode(i, &mut buffer);
                        text.append_value(String::from_utf8_lossy(&buffer));
                    }
                }
            }
            // A type JSON has no encoding for (a union): its display text.
            Err(_) => {
                let formatter =
                    ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
                for i in 0..column.len() {
                    if column.is_null(i) {
                        text.append_null();
                    } else {
                        text.append_value(formatter.value(i).to_string());
                    }
                }
            }
        }
        fields.push(Arc::new(Field::new(field.name(), DataType::Utf8, true)));
        columns.push(Arc::new(text.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Every cell of `batches` as display text (null: empty), row by row.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Int64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _)]).unwrap();
/// assert_eq!(socialcx::output::text_rows(&[batch]).unwrap(), vec![vec!["1".to_string()], vec![String::new()]]);
/// ```
pub fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = formatters(batch, &options)?;
        for i in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    Ok(rows)
}

/// One formatter per column of `batch`, to show its cells as text.
fn formatters<'a>(
    batch: &'a RecordBatch,
    options: &FormatOptions<'a>,
) -> Result<Vec<ArrayFormatter<'a>>> {
    let formatters = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), options))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(formatters)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Array, ArrayRef, AsArray, Int64Array, ListBuilder, RecordBatch, StringBuilder, StructArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field};

    use super::nested_as_json;

    #[test]
    fn nested_columns_become_json_text_and_flat_ones_stay() {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("a");
        tags.values().append_value("say \"hi\"");
        tags.append(true);
        tags.append(false); // a null list
        tags.values().append_null();
        tags.append(true); // a list holding a null
        let tags: ArrayRef = Arc::new(tags.finish());
        let counts: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
        let object: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("k", DataType::Int64, true)),
            Arc::clone(&counts),
        )]));
        let batch = RecordBatch::try_from_iter([
            ("tags", tags),
            ("n", Arc::clone(&counts)),
            ("obj", object),
        ])
        .unwrap();

        let flat = nested_as_json(&batch).unwrap();
        assert_eq!(flat.schema().field(0).data_type(), &DataType::Utf8);
        assert_eq!(flat.schema().field(1).data_type(), &DataType::Int64);
        let tags = flat.column(0).as_string::<i32>();
        assert_eq!(tags.value(0), r#"["a","say \"hi\""]"#);
        assert!(tags.is_null(1));
        assert_eq!(tags.value(2), "[null]");
        let object = flat.column(2).as_string::<i32>();
        assert_eq!(object.value(0), r#"{"k":1}"#);
        assert_eq!(object.value(1), r#"{"k":null}"#);
        assert_eq!(flat.column(1), batch.column(1));
    }
}
