//! Writing query results: an aligned table for people, CSV, JSON, NDJSON or Parquet
//! for programs. Every format but `table` streams batch by batch.

use std::io::Write;

use clap::ValueEnum;
use datafusion::arrow::array::{RecordBatch, RecordBatchWriter};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::{JsonArray, LineDelimited};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use crate::Result;
use crate::lake::writer::writer_properties;

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
}

/// Write `stream` to `out` in `format`; returns the number of rows. The `table`
/// format shows at most `max_rows` rows (0: all) and says how many it left out.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    out: &mut (dyn Write + Send),
    max_rows: usize,
) -> Result<usize> {
    let schema = stream.schema();
    let mut rows = 0usize;
    match format {
        OutputFormat::Table => {
            let mut shown: Vec<RecordBatch> = Vec::new();
            let mut shown_rows = 0usize;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows();
                let room = if max_rows == 0 {
                    usize::MAX
                } else {
                    max_rows - shown_rows
                };
                if room > 0 && batch.num_rows() > 0 {
                    let take = room.min(batch.num_rows());
                    shown.push(batch.slice(0, take));
                    shown_rows += take;
                }
            }
            if schema.fields().is_empty() {
                // DDL and SET statements: nothing to draw.
                return Ok(rows);
            }
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
        }
        OutputFormat::Csv => {
            let w = CsvWriterBuilder::new().with_header(true).build(&mut *out);
            let (n, batches) = pump(&mut stream, w).await?;
            rows = n;
            if batches == 0 {
                // Still tell the reader the columns.
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                writeln!(out, "{}", names.join(","))?;
            }
        }
        OutputFormat::Json => {
            let w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(&mut *out);
            rows = pump(&mut stream, w).await?.0;
            writeln!(out)?;
        }
        OutputFormat::Ndjson => {
            let w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(&mut *out);
            rows = pump(&mut stream, w).await?.0;
        }
        OutputFormat::Parquet => {
            let w = ArrowWriter::try_new(&mut *out, schema, Some(writer_properties()))?;
            rows = pump(&mut stream, w).await?.0;
        }
    }
    out.flush()?;
    Ok(rows)
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
