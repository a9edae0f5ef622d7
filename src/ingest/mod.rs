//! Landing input files in the lake.
//!
//! One input file is one atomic commit: its conversations (in the files the lake's
//! [`layout`](crate::lake::layout) plans: by day, or a month's small days together) and its
//! quarantined rows become visible together, or not at all. Ingest is
//! idempotent twice over: a file whose bytes were landed before is skipped whole, and a
//! conversation whose id is already in the lake is not landed again (first write wins).
//!
//! An input is read a [`segments::Segment`] at a time (NDJSON in segments of whole lines,
//! CSV and Parquet whole), so memory is bounded by [`IngestOptions::segment_bytes`], not by
//! the input. Each segment runs the [`stages`] in order: parse and score (a segment ahead,
//! on every core), drop repeated ids, look the ids up in the lake and the earlier segments,
//! thread, drop landed ids, plan the files (each row with its scores), write; the input's
//! one commit follows its last segment.

pub mod compact;
pub mod enrich;
pub mod fields;
pub mod quarantine;
pub mod readers;
pub mod segments;
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
use segments::Segments;
use stages::{InputIds, LakeIds};

/// How to ingest.
#[derive(Clone)]
pub struct IngestOptions {
    /// Where progress goes (the CLI draws bars; by default nowhere).
    pub progress: Arc<dyn Progress>,
    /// About how many bytes of NDJSON are landed at a time: what ingest holds in memory is
    /// a few times this (parsed rows, scored batches, Parquet being encoded), plus 16 bytes
    /// an input row for the duplicate check. Larger segments write fewer, larger files.
    pub segment_bytes: usize,
}

/// The default [`IngestOptions::segment_bytes`]: 64 MiB.
pub const SEGMENT_BYTES: usize = 64 << 20;

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            progress: Arc::new(Silent),
            segment_bytes: SEGMENT_BYTES,
        }
    }
}

impl fmt::Debug for IngestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestOptions")
            .field("segment_bytes", &self.segment_bytes)
            .finish_non_exhaustive()
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
        let report = ingest_input(engine, &name, &Input::Path(path), options).await?;
        summary.files.push(report);
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The longest line a stream (a pipe, a device) may send: past it, the input is not
/// line-oriented text and reading stops.
pub const MAX_STREAM_LINE: usize = 64 << 20;

/// Where an input's bytes come from.
enum Input<'a> {
    /// A file, a pipe or a device, read a segment at a time.
    Path(&'a Path),
    /// Already in memory.
    Bytes(&'a Bytes),
}

impl Input<'_> {
    fn open(&self, name: &str, segment_bytes: usize) -> std::result::Result<Segments, String> {
        match self {
            Input::Path(path) => Segments::open(path, segment_bytes),
            Input::Bytes(bytes) => Ok(Segments::from_bytes(name, (*bytes).clone(), segment_bytes)),
        }
    }

    /// The SHA-256 of a file, read through once without keeping it.
    fn hash(&self) -> std::result::Result<String, String> {
        match self {
            Input::Path(path) => Segments::hash_only(path),
            Input::Bytes(bytes) => Ok(hex::encode(Sha256::digest(bytes))),
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

/// Land the content of one input (named `name` in reports and the quarantine), a segment
/// at a time.
///
/// Safe beside other writers: when other commits land first, the ones in between are
/// checked: the same input already landed means nothing is done; new rows with this
/// input's ids (or its replies' missing parents) mean the input is landed again from the
/// start against the new state; anything else, and the commit is simply retried. Every
/// row lands once, whatever runs beside it.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open("./lake").await?;
/// let bytes = std::fs::read("in.ndjson")?.into();
/// let report = socialcx::ingest::ingest_bytes(&engine, "in.ndjson", bytes, &Default::default()).await?;
/// println!("{} landed", report.landed);
/// # Ok(()) }
/// ```
pub async fn ingest_bytes(
    engine: &Engine,
    name: &str,
    bytes: Bytes,
    options: &IngestOptions,
) -> Result<FileReport> {
    ingest_input(engine, name, &Input::Bytes(&bytes), options).await
}

async fn ingest_input(
    engine: &Engine,
    name: &str,
    input: &Input<'_>,
    options: &IngestOptions,
) -> Result<FileReport> {
    let started = Instant::now();
    for attempt in 1..=MAX_ATTEMPTS {
        match ingest_attempt(engine, name, input, options, started).await? {
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

/// The counts of one input, segment after segment.
#[derive(Debug, Default)]
struct Counts {
    rows_read: u64,
    quarantined: u64,
    duplicates: u64,
}

async fn ingest_attempt(
    engine: &Engine,
    name: &str,
    input: &Input<'_>,
    options: &IngestOptions,
    started: Instant,
) -> Result<Attempt> {
    let failed = |message: String| Ok(Attempt::Landed(FileReport::failed(name, message, started)));
    let lake = engine.lake();
    let base = lake.snapshot().await?;
    let mut segments = match input.open(name, options.segment_bytes) {
        Ok(s) => s,
        Err(message) => return failed(message),
    };
    // Landed before? Known at once for an input in memory; a file is hashed first only
    // when an input of its exact size was landed (otherwise it cannot have been).
    let early_sha = match (segments.sha256(), segments.total()) {
        (Some(sha), _) => Some(sha.to_string()),
        (None, Some(size)) if base.has_source_of_size(size) => match input.hash() {
            Ok(sha) => Some(sha),
            Err(message) => return failed(message),
        },
        _ => None,
    };
    if early_sha.as_ref().is_some_and(|sha| base.has_source(sha)) {
        return Ok(Attempt::Landed(FileReport::already_ingested(name, started)));
    }
    let base_version = base.version;
    drop(base);
    let scorer = Arc::new(engine.scorer()?);

    let bar = Arc::clone(&options.progress);
    bar.start(
        &format!("ingesting {name}"),
        segments.total().unwrap_or(0),
        Unit::Bytes,
    );
    let mut tx = lake.begin("ingest");
    let mut ids = InputIds::default();
    let mut counts = Counts::default();
    let mut layout = None;
    // The next segment is read, parsed and scored (on every core) while this one is
    // landed, so the stages that run on one core (ids, plan) leave none idle.
    let mut parsing = parse_next(segments, name, &scorer, Arc::clone(&bar));
    loop {
        let mut clock = StageClock::start();
        let (returned, next) = parsing.await.map_err(|e| Error::Input {
            path: name.to_string(),
            message: format!("reader crashed: {e}"),
        })?;
        segments = returned;
        let (offset, length, parsed, scores) = match next {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(message) => {
                bar.finish();
                tx.abort().await;
                return failed(message);
            }
        };
        if layout.is_none() {
            // Room for the whole input's ids at once, sized from the first segment.
            let rows = (parsed.rows.len() + parsed.rejected.len()) as f64;
            let total = segments.total().unwrap_or(length) as f64;
            ids.reserve((total * rows / length.max(1) as f64 * 1.05) as usize);
        }
        parsing = parse_next(segments, name, &scorer, Arc::clone(&bar));
        // Waiting for this segment's parse and scores (which ran beside the segment before).
        clock.lap("parse_wait");
        let layout = *layout.get_or_insert(parsed.layout);
        counts.rows_read += (parsed.rows.len() + parsed.rejected.len()) as u64;
        let landed = async {
            let mut rows = stages::Rows::from(parsed.rows);
            counts.duplicates += stages::drop_repeated_ids(&mut rows);
            counts.duplicates += ids.drop_landed_earlier(&mut rows);
            let found = LakeIds::lookup(engine, &rows.conversations, &ids).await?;
            stages::thread(&mut rows.conversations, layout, &found);
            counts.duplicates += stages::drop_landed(&mut rows, &found);
            ids.record(&rows.conversations, &found);
            drop(found);
            clock.lap("ids");
            let files = stages::plan_files(&rows, Some(&scores), tx.id())?;
            drop(rows);
            drop(scores);
            clock.lap("plan");
            let before = tx.added().len();
            tx.write_all(files, &|_| {}).await?;
            clock.lap("write");
            ids.written(
                tx.added()[before..]
                    .iter()
                    .filter(|f| f.table == CONVERSATIONS)
                    .map(|f| f.path.clone()),
            );
            counts.quarantined += parsed.rejected.len() as u64;
            stages::write_quarantine(&mut tx, name, parsed.rejected).await
        }
        .await;
        if let Err(e) = landed {
            // No parse goes on behind a failed ingest: the next segment's is waited for.
            let _ = parsing.await;
            bar.finish();
            return Err(e);
        }
        tracing::debug!(input = name, offset, bytes = length, stages = %clock, "segment landed");
    }
    let sha256 = match segments.sha256() {
        Some(sha) => sha.to_string(),
        None => unreachable!("the input was read to its end"),
    };
    let layout = layout.expect("an input has at least one segment");
    // A stream or a file of a new size is known only now to have been landed before.
    if early_sha.is_none() && lake.snapshot().await?.has_source(&sha256) {
        bar.finish();
        tx.abort().await;
        return Ok(Attempt::Landed(FileReport::already_ingested(name, started)));
    }
    let landed: u64 = tx
        .added()
        .iter()
        .filter(|f| f.table == CONVERSATIONS)
        .map(|f| f.rows)
        .sum();
    let Counts {
        rows_read,
        quarantined,
        duplicates,
    } = counts;
    bar.message(&format!("committing {name}"));
    tx.set_source(SourceInfo {
        path: name.to_string(),
        sha256: sha256.clone(),
        bytes: segments.bytes_read(),
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
            // Landed ids this attempt had not seen: land again against the new state.
            Ok(!landed_any_of(engine, newer, &ids).await?)
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

/// How long each stage of a segment took, for the debug log (`SOCIALCX_LOG=debug`).
struct StageClock {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl StageClock {
    fn start() -> Self {
        StageClock {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }

    fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.laps.push((stage, now - self.last));
        self.last = now;
    }
}

impl fmt::Display for StageClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (stage, took)) in self.laps.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{stage}={:.0}ms", took.as_secs_f64() * 1e3)?;
        }
        Ok(())
    }
}

/// What [`parse_next`] hands back: the input (to read on from), and its next segment's
/// offset, length, rows and their scores; `Ok(None)` at its end, `Err(reason)` when it
/// cannot be read.
type ParsedSegment = (
    Segments,
    std::result::Result<Option<(u64, u64, readers::Parsed, stages::RowScores)>, String>,
);

/// Read, parse and score the next segment of `segments` (input `name`) on a blocking
/// thread, telling `progress` the bytes parsed.
fn parse_next(
    mut segments: Segments,
    name: &str,
    scorer: &Arc<crate::engine::scoring::Scorer>,
    progress: Arc<dyn Progress>,
) -> tokio::task::JoinHandle<ParsedSegment> {
    let name = name.to_string();
    let scorer = Arc::clone(scorer);
    tokio::task::spawn_blocking(move || {
        let next = segments.next_segment().and_then(|segment| match segment {
            None => Ok(None),
            Some(segment) => {
                let parsed = stages::parse(&name, &segment, &*progress)?;
                let scores = stages::score(&scorer, &parsed.rows)
                    .map_err(|e| format!("scoring failed: {e}"))?;
                Ok(Some((
                    segment.offset,
                    segment.bytes.len() as u64,
                    parsed,
                    scores,
                )))
            }
        });
        (segments, next)
    })
}

/// Whether the `newer` commits (by other writers) landed conversations this input lands
/// too, or parents it found nowhere: their ids, read from those of their files still
/// visible, checked against the input's.
async fn landed_any_of(engine: &Engine, newer: &[Commit], ids: &InputIds) -> Result<bool> {
    let latest = engine.lake().snapshot().await?;
    let visible: std::collections::HashSet<&str> = latest
        .files(CONVERSATIONS)
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let urls: Vec<String> = newer
        .iter()
        .flat_map(|c| &c.add)
        .filter(|f| f.table == CONVERSATIONS && visible.contains(f.path.as_str()))
        .map(|f| format!("{}{}", crate::lake::OBJECT_STORE_URL, f.path))
        .collect();
    if urls.is_empty() {
        return Ok(false);
    }
    let def = crate::lake::table(CONVERSATIONS).expect("a lake table");
    let options = datafusion::prelude::ParquetReadOptions::default().schema(&def.schema);
    let mut stream = engine
        .context()
        .read_parquet(urls, options)
        .await?
        .select_columns(&["conversation_id"])?
        .execute_stream()
        .await?;
    use datafusion::arrow::array::AsArray;
    use futures::StreamExt;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if ids.overlaps(batch.column(0).as_string::<i32>().iter().flatten()) {
            return Ok(true);
        }
    }
    Ok(false)
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
