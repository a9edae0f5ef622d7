//! Writing query results: an aligned table or an HTML page for people, CSV, JSON, NDJSON or
//! Parquet for programs. Every format but `table` and `html` streams batch by batch. A result
//! written to a file appears whole or not at all ([`Destination`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use datafusion::arrow::array::{RecordBatch, RecordBatchWriter};
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::json::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::json::writer::{JsonArray, LineDelimited};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use crate::lake::writer::writer_properties;
use crate::{Error, Result};

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

/// Where a result goes: stdout, or a file that appears whole or not at all. A file is
/// written under a hidden temporary name beside it and renamed into place by
/// [`Destination::commit`]; dropped without a commit (an error, Ctrl-C), the temporary file
/// is removed and any earlier file of that name stays as it was.
///
/// ```
/// use std::io::Write;
/// use socialcx::cli::output::{Destination, OutputFormat};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.csv");
/// let mut out = Destination::open(Some(&path), OutputFormat::Csv).unwrap();
/// out.write_all(b"a\n1\n").unwrap();
/// assert!(!path.exists());
/// out.commit().unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\n1\n");
/// ```
pub struct Destination {
    writer: Option<Box<dyn Write + Send>>,
    /// (temporary, final) paths of a file destination.
    file: Option<(PathBuf, PathBuf)>,
}

impl Destination {
    /// The file at `path`, else stdout (Parquet needs a file).
    pub fn open(path: Option<&Path>, format: OutputFormat) -> Result<Destination> {
        let Some(path) = path else {
            if format == OutputFormat::Parquet {
                return Err(Error::Usage(
                    "--format parquet needs an output file: add -o FILE.parquet".into(),
                ));
            }
            return Ok(Destination {
                writer: Some(Box::new(BufWriter::new(std::io::stdout()))),
                file: None,
            });
        };
        // A device, a FIFO or a socket (`-o /dev/null`, a named pipe) is written through:
        // replacing it with a regular file would break it.
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::Usage(format!(
                    "-o {}: is a directory, not a file",
                    path.display()
                )));
            }
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io(path.display().to_string(), e))?;
                return Ok(Destination {
                    writer: Some(Box::new(BufWriter::new(file))),
                    file: None,
                });
            }
            _ => {}
        }
        // A symlink stays a symlink: the file it points to is replaced.
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let target = if is_link {
            resolve_link(path)?
        } else {
            path.to_path_buf()
        };
        let name = target
            .file_name()
            .ok_or_else(|| Error::Usage(format!("-o {}: not a file name", path.display())))?;
        let temporary = target.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file =
            File::create(&temporary).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(Destination {
            writer: Some(Box::new(BufWriter::new(file))),
            file: Some((temporary, target)),
        })
    }

    /// Finish: flush, and move a file into place.
    pub fn commit(mut self) -> Result<()> {
        let mut writer = self.writer.take().expect("not yet committed");
        let target = self.file.as_ref().map(|(_, p)| p.display().to_string());
        writer
            .flush()
            .map_err(|e| Error::io(target.clone().unwrap_or_else(|| "stdout".into()), e))?;
        drop(writer);
        if let Some((temporary, path)) = self.file.take() {
            std::fs::rename(&temporary, &path).map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                Error::io(path.display().to_string(), e)
            })?;
        }
        Ok(())
    }
}

/// The file a symlink finally points to (which may not exist yet).
fn resolve_link(link: &Path) -> Result<PathBuf> {
    let mut current = link.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Err(_) => return Ok(current),
        }
    }
    Err(Error::Usage(format!(
        "-o {}: too many levels of symbolic links",
        link.display()
    )))
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        if let Some((temporary, _)) = self.file.take() {
            self.writer = None;
            let _ = std::fs::remove_file(temporary);
        }
    }
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
        OutputFormat::Html => {
            let mut batches = Vec::new();
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows();
                batches.push(batch);
            }
            if !schema.fields().is_empty() {
                let page = crate::reports::page::render_rows("socialcx query", &batches)?;
                out.write_all(page.as_bytes())?;
            }
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

/// Every cell of `batches` as display text (null: empty), row by row.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{Int64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _)]).unwrap();
/// assert_eq!(socialcx::cli::output::text_rows(&[batch]).unwrap(), vec![vec!["1".to_string()], vec![String::new()]]);
/// ```
pub fn text_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for i in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    Ok(rows)
}
