//! Landing input files in the lake.
//!
//! One input file is one atomic commit: its conversations (in the files the lake's
//! [`layout`](crate::lake::layout) plans: by day, or a month's small days together) and its
//! quarantined rows become visible together, or not at all. Ingest is
//! idempotent twice over: a file whose bytes were landed before is skipped whole, and a
//! conversation whose id is already in the lake is not landed again (first write wins).
//!
//! Landing one input runs the [`stages`] in order: parse, drop repeated ids, look the ids
//! up in the lake, thread, drop landed ids, plan the files, score, write, commit.

pub mod enrich;
pub mod fields;
pub mod quarantine;
pub mod readers;
pub mod stages;
pub mod threads;
pub mod twcs;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::engine::Engine;
use crate::lake::log::{Commit, SourceInfo};
use crate::model::CONVERSATIONS;
use crate::progress::{Progress, Silent, Unit};
use crate::{Error, Result};
use stages::LakeIds;

/// How to ingest.
#[derive(Clone)]
pub struct IngestOptions {
    /// Where progress goes (the CLI draws bars; by default nowhere).
    pub progress: Arc<dyn Progress>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            progress: Arc::new(Silent),
        }
    }
}

impl fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestOptions").finish_non_exhaustive()
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    pub path: String,
    pub layout: Option<String>,
    /// Data rows read (landed + quarantined + duplicates).
    pub rows_read: u64,
    pub landed: u64,
    pub quarantined: u64,
    /// Rows whose conversation_id was already in the lake or earlier in the file.
    pub duplicates: u64,
    /// The same bytes were landed before: nothing was done.
    pub already_ingested: bool,
    /// Lake version that made this file visible.
    pub version: Option<u64>,
    /// The reason the file could not be ingested at all.
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// What an ingest did, file by file.
#[derive(Debug, Clone, Default)]
pub struct IngestSummary {
    pub files: Vec<FileReport>,
    pub elapsed: Duration,
}

impl IngestSummary {
    /// Rows landed in all files.
    pub fn landed(&self) -> u64 {
        self.files.iter().map(|f| f.landed).sum()
    }

    /// Rows quarantined in all files.
    pub fn quarantined(&self) -> u64 {
        self.files.iter().map(|f| f.quarantined).sum()
    }

    /// Rows skipped as duplicates in all files.
    pub fn duplicates(&self) -> u64 {
        self.files.iter().map(|f| f.duplicates).sum()
    }

    /// Files that could not be ingested.
    pub fn failed(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }

    /// Rows read per second, over the whole ingest.
    pub fn rows_per_second(&self) -> f64 {
        let rows: u64 = self.files.iter().map(|f| f.rows_read).sum();
        rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.files {
            match (&r.error, r.already_ingested) {
                (Some(e), _) => writeln!(f, "FAILED   {}: {e}", r.path)?,
                (None, true) => writeln!(f, "skipped  {}: already ingested (same bytes)", r.path)?,
                (None, false) => writeln!(
                    f,
                    "landed   {} [{}]: {} landed, {} quarantined, {} duplicates, {:.2}s (lake version {})",
                    r.path,
                    r.layout.as_deref().unwrap_or("?"),
                    r.landed,
                    r.quarantined,
                    r.duplicates,
                    r.elapsed.as_secs_f64(),
                    r.version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "-".into()),
                )?,
            }
        }
        write!(
            f,
            "total: {} landed, {} quarantined, {} duplicates, {} failed files; {:.0} rows/s in {:.2}s",
            self.landed(),
            self.quarantined(),
            self.duplicates(),
            self.failed(),
            self.rows_per_second(),
            self.elapsed.as_secs_f64()
        )?;
        if self.quarantined() > 0 {
            write!(
                f,
                "\nquarantined rows and their reasons: SELECT source, line, reason, raw FROM quarantine"
            )?;
        }
        Ok(())
    }
}

/// Land `paths` in the engine's lake, one atomic commit per file. A file that cannot
/// be read is reported in the summary (with its reason) and the others still land;
/// only a lake failure (the store refusing a write) stops the ingest with an error.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open("./lake").await?;
/// let summary = socialcx::ingest::ingest_files(&engine, &["in.ndjson".into()], &Default::default()).await?;
/// println!("{summary}");
/// # Ok(()) }
/// ```
pub async fn ingest_files(
    engine: &Engine,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> Result<IngestSummary> {
    let started = Instant::now();
    let mut summary = IngestSummary::default();
    for path in paths {
        let name = path.display().to_string();
        let file_started = Instant::now();
        let bytes = match read_input(path) {
            Ok(b) => b,
            Err(e) => {
                summary
                    .files
                    .push(FileReport::failed(&name, e, file_started));
                continue;
            }
        };
        let report = ingest_bytes(engine, &name, bytes, options).await?;
        summary.files.push(report);
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The longest line a stream (a pipe, a device) may send: past it, the input is not
/// line-oriented text and reading stops.
pub const MAX_STREAM_LINE: usize = 64 << 20;

/// Read an input whole. A regular file is read as it is; a pipe or a device is read in
/// chunks and refused once a line runs past [`MAX_STREAM_LINE`] (so `/dev/zero` is an
/// error, not unbounded memory), unless it is Parquet.
fn read_input(path: &Path) -> std::result::Result<Bytes, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    if meta.is_file() {
        return std::fs::read(path)
            .map(Bytes::from)
            .map_err(|e| e.to_string());
    }
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut run = 0usize; // bytes since the last line break
    loop {
        let n = file.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(Bytes::from(data));
        }
        let part = &chunk[..n];
        run = match part.iter().rposition(|&b| b == b'\n') {
            Some(i) => n - i - 1,
            None => run + n,
        };
        data.extend_from_slice(part);
        if run > MAX_STREAM_LINE && !data.starts_with(b"PAR1") {
            return Err(format!(
                "a line longer than {} MiB: not line-oriented text (stopped reading)",
                MAX_STREAM_LINE >> 20
            ));
        }
    }
}

impl FileReport {
    fn empty(path: &str, started: Instant) -> Self {
        FileReport {
            path: path.to_string(),
            layout: None,
            rows_read: 0,
            landed: 0,
            quarantined: 0,
            duplicates: 0,
            already_ingested: false,
            version: None,
            error: None,
            elapsed: started.elapsed(),
        }
    }

    fn already_ingested(path: &str, started: Instant) -> Self {
        FileReport {
            already_ingested: true,
            ..Self::empty(path, started)
        }
    }

    fn failed(path: &str, error: String, started: Instant) -> Self {
        FileReport {
            error: Some(error),
            ..Self::empty(path, started)
        }
    }
}

/// Attempts at landing one input while concurrent ingests keep landing the same ids.
const MAX_ATTEMPTS: usize = 20;

/// Land the content of one input (named `name` in reports and the quarantine).
///
/// Safe beside other writers: the duplicate check is made against the lake version the
/// commit is then written on top of. When other commits land first, the ones in between
/// are checked: the same input already landed means nothing is done; new rows with this
/// input's ids (or its replies' parents) mean the input is landed again from the start
/// against the new state; anything else, and the commit is simply retried. Every row lands
/// once, whatever runs beside it.
pub async fn ingest_bytes(
    engine: &Engine,
    name: &str,
    bytes: Bytes,
    options: &IngestOptions,
) -> Result<FileReport> {
    let started = Instant::now();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    for attempt in 1..=MAX_ATTEMPTS {
        match ingest_attempt(engine, name, &bytes, &sha256, options, started).await? {
            Attempt::Landed(report) => return Ok(report),
            Attempt::Overlapped => {
                tracing::info!(
                    input = name,
                    attempt,
                    "a concurrent ingest landed some of these ids; landing again"
                );
            }
        }
    }
    Err(Error::Lake {
        url: engine.lake().url().to_string(),
        message: format!(
            "gave up landing {name}: concurrent ingests kept landing the same ids \
             ({MAX_ATTEMPTS} attempts)"
        ),
    })
}

/// How one attempt at landing an input ended.
enum Attempt {
    /// Done (landed, skipped as already landed, or failed with a reason).
    Landed(FileReport),
    /// A concurrent commit landed ids this attempt had not seen; its files were discarded.
    Overlapped,
}

async fn ingest_attempt(
    engine: &Engine,
    name: &str,
    bytes: &Bytes,
    sha256: &str,
    options: &IngestOptions,
    started: Instant,
) -> Result<Attempt> {
    let lake = engine.lake();
    let base = lake.snapshot().await?;
    if base.has_source(sha256) {
        return Ok(Attempt::Landed(FileReport::already_ingested(name, started)));
    }
    let base_version = base.version;
    drop(base);
    let bar = Arc::clone(&options.progress);
    bar.start(&format!("reading {name}"), bytes.len() as u64, Unit::Bytes);
    let parsed = match stages::parse(name, bytes.clone(), Arc::clone(&bar)).await? {
        Ok(parsed) => parsed,
        Err(message) => {
            bar.finish();
            return Ok(Attempt::Landed(FileReport::failed(name, message, started)));
        }
    };
    let layout = parsed.layout;
    let rows_read = (parsed.rows.len() + parsed.rejected.len()) as u64;
    let mut rows = parsed.rows;
    let mut duplicates = stages::drop_repeated_ids(&mut rows);
    bar.message("checking the lake");
    let lake_ids = LakeIds::lookup(engine, &rows).await?;
    stages::thread(&mut rows, layout, &lake_ids);
    duplicates += stages::drop_landed(&mut rows, &lake_ids);

    let mut tx = lake.begin("ingest");
    let mut files = stages::plan_files(&rows, tx.id())?;
    drop(rows);
    bar.message(&format!("scoring {name}"));
    stages::score(engine, &mut files)?;
    bar.start(&format!("writing {name}"), files.len() as u64, Unit::Files);
    tx.write_all(files, &|done| bar.set(done)).await?;
    let landed: u64 = tx.added().iter().map(|f| f.rows).sum();
    let quarantined = parsed.rejected.len() as u64;
    stages::write_quarantine(&mut tx, name, parsed.rejected).await?;

    bar.message(&format!("committing {name}"));
    tx.set_source(SourceInfo {
        path: name.to_string(),
        sha256: sha256.to_string(),
        bytes: bytes.len() as u64,
        format: layout.to_string(),
    });
    tx.set_summary(serde_json::json!({
        "rows_read": rows_read, "landed": landed,
        "quarantined": quarantined, "duplicates": duplicates,
    }));
    // Another writer committed first: is what it landed a reason to do more?
    let mut outcome = Attempt::Overlapped;
    let committed = tx
        .commit_on(base_version, async |newer: &[Commit]| {
            if newer
                .iter()
                .any(|c| c.source.as_ref().is_some_and(|s| s.sha256 == sha256))
            {
                outcome = Attempt::Landed(FileReport::already_ingested(name, started));
                return Ok(false);
            }
            let new_conversations = newer
                .iter()
                .any(|c| c.add.iter().any(|f| f.table == CONVERSATIONS));
            // Landed ids this attempt had not seen: land again against the new state.
            Ok(!(new_conversations && lake_ids.changed_since(engine).await?))
        })
        .await?;
    bar.finish();
    let Some(version) = committed else {
        return Ok(outcome);
    };
    Ok(Attempt::Landed(FileReport {
        path: name.to_string(),
        layout: Some(layout.to_string()),
        rows_read,
        landed,
        quarantined,
        duplicates,
        already_ingested: false,
        version: Some(version),
        error: None,
        elapsed: started.elapsed(),
    }))
}

/// Whether `path` looks like an input file we can read (for directory arguments).
pub fn is_input_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("ndjson" | "jsonl" | "json" | "csv" | "parquet")
    )
}
