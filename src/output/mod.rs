//! Writing query results, in every format the interfaces offer: an aligned table or an HTML
//! page for people; CSV, JSON, NDJSON or Parquet for programs. One result per call of
//! [`write_stream`]; every format but `table` and `html` streams batch by batch. A result
//! written to a file appears whole or not at all ([`Destination`]).
//!
//! The formats, a cell at a time: CSV writes list, struct and map cells as JSON text
//! (`["a","b"]`, `{"k":1}`), as DuckDB does; JSON and NDJSON nest them; the table and the
//! HTML page show them as Arrow displays them. The table and the HTML page, which are for
//! reading, round floating-point numbers to six significant digits ([`display_float`]:
//! `0.4588`, not `0.45879999999999998`); CSV, JSON, NDJSON and Parquet keep every digit. A
//! result without columns (`CREATE VIEW`, `SET`) writes nothing in any format.
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
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch, RecordBatchWriter, StringBuilder,
};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Float16Type, Float32Type, Float64Type, Schema,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::{EncoderOptions, JsonArray, LineDelimited, make_encoder};
use datafusion::arrow::util::display::{
    ArrayFormatter, ArrayFormatterFactory, DisplayIndex, FormatOptions, FormatResult,
};
use datafusion::arrow::util::pretty::pretty_format_batches_with_options;
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
            writeln!(
                out,
                "{}",
                pretty_format_batches_with_options(&shown, &display_options())?
            )?;
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

/// Every cell of `batches` as display text (null: empty), row by row, floating-point numbers
/// rounded as the table shows them ([`display_float`]).
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Int64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _)]).unwrap();
/// assert_eq!(socialcx::output::text_rows(&[batch]).unwrap(), vec![vec!["1".to_string()], vec![String::new()]]);
/// ```
pub fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let options = display_options();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = formatters(batch, &options)?;
        for i in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    Ok(rows)
}

/// One formatter per column of `batch`, to show its cells as text (through the formatter
/// factory of `options`, as the table does: see [`display_options`]).
fn formatters<'a>(
    batch: &'a RecordBatch,
    options: &FormatOptions<'a>,
) -> Result<Vec<ArrayFormatter<'a>>> {
    let fields = batch.schema_ref().fields();
    let formatters = batch
        .columns()
        .iter()
        .zip(fields.iter())
        .map(|(column, field)| {
            if let Some(factory) = options.formatter_factory()
                && let Some(formatter) = factory.create_array_formatter(
                    column.as_ref(),
                    options,
                    Some(field.as_ref()),
                )?
            {
                return Ok(formatter);
            }
            ArrayFormatter::try_new(column.as_ref(), options)
        })
        .collect::<std::result::Result<Vec<_>, ArrowError>>()?;
    Ok(formatters)
}

/// The options the table and the HTML page show cells with: Arrow's display, with
/// floating-point numbers (nested ones too) rounded by [`display_float`].
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Float64Array, RecordBatch};
/// use datafusion::arrow::util::pretty::pretty_format_batches_with_options;
/// let x = Arc::new(Float64Array::from(vec![0.45879999999])) as _;
/// let batch = RecordBatch::try_from_iter([("x", x)]).unwrap();
/// let options = socialcx::output::display_options();
/// let text = pretty_format_batches_with_options(&[batch], &options).unwrap().to_string();
/// assert!(text.contains("| 0.4588 |"), "{text}");
/// ```
pub fn display_options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_display_error(true)
        .with_formatter_factory(Some(&ROUNDED_FLOATS))
}

/// A floating-point number as the table and the HTML page show it: six significant digits
/// with trailing zeros trimmed (`0.4588`, `12.5`, `3.0`), the integer part whole however long
/// (`1234567`), and scientific notation below 0.0001 or from 10^15 on (`2.5e-7`). `NaN`,
/// `inf` and `-inf` as Arrow writes them. Files keep every digit: this is for reading only.
///
/// ```
/// use socialcx::output::display_float;
/// assert_eq!(display_float(0.45879999999), "0.4588");
/// assert_eq!(display_float(1.0 / 3.0), "0.333333");
/// assert_eq!(display_float(3.0), "3.0");
/// assert_eq!(display_float(1234567.89), "1234568");
/// assert_eq!(display_float(-0.000025), "-2.5e-5");
/// assert_eq!(display_float(f64::NAN), "NaN");
/// ```
pub fn display_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        let text = format!("{value:.5e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text.as_str(), "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (5 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if decimals == 0 {
        return text;
    }
    let trimmed = text.trim_end_matches('0');
    match trimmed.strip_suffix('.') {
        Some(whole) => format!("{whole}.0"),
        None => trimmed.to_string(),
    }
}

/// The formatter factory of [`display_options`].
static ROUNDED_FLOATS: RoundedFloats = RoundedFloats;

/// Makes the formatters of floating-point arrays (see [`display_float`]); other arrays get
/// Arrow's own.
#[derive(Debug)]
struct RoundedFloats;

impl ArrayFormatterFactory for RoundedFloats {
    fn create_array_formatter<'f>(
        &self,
        array: &'f dyn Array,
        options: &FormatOptions<'f>,
        _field: Option<&'f Field>,
    ) -> std::result::Result<Option<ArrayFormatter<'f>>, ArrowError> {
        let null = options.null();
        let cells: Box<dyn DisplayIndex + 'f> = match array.data_type() {
            DataType::Float16 => Box::new(Rounded {
                values: array.as_primitive::<Float16Type>(),
                null,
            }),
            DataType::Float32 => Box::new(Rounded {
                values: array.as_primitive::<Float32Type>(),
                null,
            }),
            DataType::Float64 => Box::new(Rounded {
                values: array.as_primitive::<Float64Type>(),
                null,
            }),
            _ => return Ok(None),
        };
        Ok(Some(ArrayFormatter::new(cells, options.safe())))
    }
}

/// The cells of one floating-point array, rounded.
struct Rounded<'a, T: ArrowPrimitiveType> {
    values: &'a PrimitiveArray<T>,
    null: &'a str,
}

impl<T: ArrowPrimitiveType> DisplayIndex for Rounded<'_, T>
where
    T::Native: Into<f64>,
{
    fn write(&self, idx: usize, f: &mut dyn std::fmt::Write) -> FormatResult {
        if self.values.is_null(idx) {
            f.write_str(self.null)?;
        } else {
            f.write_str(&display_float(self.values.value(idx).into()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        Array, ArrayRef, AsArray, Float32Array, Float64Array, Int64Array, ListBuilder, RecordBatch,
        StringBuilder, StructArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion::physical_plan::SendableRecordBatchStream;
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    use super::{OutputFormat, display_float, nested_as_json, text_rows, write_stream};

    /// Floats a reader wants rounded, in a top-level column, a Float32 column and a struct.
    fn floats() -> RecordBatch {
        let x: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.45879999999),
            Some(1234567.0),
            Some(2.5e-7),
            None,
            Some(f64::NAN),
        ]));
        let y: ArrayRef = Arc::new(Float32Array::from(vec![0.1f32, 12.5, -3.0, 0.0, 1e20]));
        let compound: ArrayRef = Arc::new(Float64Array::from(vec![0.123456789; 5]));
        let s: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("compound", DataType::Float64, true)),
            compound,
        )]));
        RecordBatch::try_from_iter([("x", x), ("y", y), ("s", s)]).unwrap()
    }

    fn stream(batch: &RecordBatch) -> SendableRecordBatchStream {
        Box::pin(RecordBatchStreamAdapter::new(
            batch.schema(),
            futures::stream::iter(vec![Ok(batch.clone())]),
        ))
    }

    #[test]
    fn floats_show_six_significant_digits() {
        let cases = [
            (0.45879999999, "0.4588"),
            (1.0 / 3.0, "0.333333"),
            (-2.0 / 3.0, "-0.666667"),
            (0.1 + 0.2, "0.3"),
            (100.0, "100.0"),
            (99.99999999, "100.0"),
            (123456.789, "123457"),
            (0.0001, "0.0001"),
            (0.00001234567, "1.23457e-5"),
            (1e15, "1e15"),
            (123456789012345.0, "123456789012345"),
            (0.0, "0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (value, shown) in cases {
            assert_eq!(display_float(value), shown, "{value:?}");
        }
    }

    #[test]
    fn text_cells_round_floats_at_every_depth() {
        let rows = text_rows(&[floats()]).unwrap();
        assert_eq!(rows[0], ["0.4588", "0.1", "{compound: 0.123457}"]);
        assert_eq!(rows[1][..2], ["1234567", "12.5"]);
        assert_eq!(rows[2][..2], ["2.5e-7", "-3.0"]);
        assert_eq!(rows[3][..2], ["", "0.0"]);
        assert_eq!(rows[4][..2], ["NaN", "1e20"]);
        let html = super::html::table(&floats().schema(), &[floats()], 5).unwrap();
        assert!(
            html.contains(">0.4588</td>") && html.contains(">2.5e-7</td>"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn the_table_rounds_floats_and_files_keep_every_digit() {
        let batch = floats();
        let mut table = Vec::new();
        write_stream(stream(&batch), OutputFormat::Table, &mut table, 0)
            .await
            .unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("| 0.4588 "), "{table}");
        assert!(table.contains("{compound: 0.123457}"), "{table}");
        assert!(!table.contains("0.45879999999"), "{table}");

        let mut csv = Vec::new();
        write_stream(stream(&batch), OutputFormat::Csv, &mut csv, 0)
            .await
            .unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let x: Vec<f64> = csv
            .lines()
            .skip(1)
            .take(3)
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(x, [0.45879999999, 1234567.0, 2.5e-7], "{csv}");

        let mut json = Vec::new();
        write_stream(stream(&batch), OutputFormat::Json, &mut json, 0)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json[0]["x"].as_f64(), Some(0.45879999999));
        assert_eq!(json[0]["s"]["compound"].as_f64(), Some(0.123456789));
    }

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
