//! `socialcx enrich`: store the current configuration's scores in the lake (and, in the
//! files it rewrites, the parent authors that were not known when they were written).
//!
//! A `conversations` file records the fingerprint of what scored it; when the engine runs
//! with another configuration (a domain lexicon, a taxonomy, a newer build), or for files
//! written before scores were stored, queries compute the scores from `text` on the fly.
//! [`enrich`] rewrites those files with the scores stored: a batch of files at a time,
//! each batch one commit that adds the new files and removes the old, so a reader sees the
//! old files or the new ones, never both or neither. Nothing is renamed (correct on S3); a
//! crash leaves the commits made so far, and running it again finishes the job.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::ParquetReadOptions;

use crate::Result;
use crate::engine::Engine;
use crate::lake;
use crate::lake::log::DataFile;
use crate::lake::table::{DerivedColumns, TableDef};
use crate::lake::transaction::{Partition, StagedFile};
use crate::model::CONVERSATIONS;
use crate::progress::{Progress, Silent, Unit};

/// How to enrich.
#[derive(Clone)]
pub struct EnrichOptions {
    /// Rewrite every file, not only those another configuration scored.
    pub all: bool,
    /// Files rewritten per commit (at least 1).
    pub files_per_commit: usize,
    /// Where progress goes.
    pub progress: Arc<dyn Progress>,
}

impl Default for EnrichOptions {
    fn default() -> Self {
        Self {
            all: false,
            files_per_commit: 16,
            progress: Arc::new(Silent),
        }
    }
}

impl std::fmt::Debug for EnrichOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichOptions")
            .field("all", &self.all)
            .field("files_per_commit", &self.files_per_commit)
            .finish_non_exhaustive()
    }
}

/// What an enrich did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnrichSummary {
    /// The fingerprint the rewritten files now carry.
    pub fingerprint: String,
    /// Files rewritten, and their rows.
    pub files: usize,
    pub rows: u64,
    /// Commits made.
    pub commits: usize,
    /// Files already scored by the current configuration (left as they are).
    pub current: usize,
    pub elapsed: Duration,
}

impl std::fmt::Display for EnrichSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.files == 0 {
            return write!(
                f,
                "nothing to do: all {} conversations files are scored by {}",
                self.current, self.fingerprint
            );
        }
        write!(
            f,
            "enriched {} files ({} rows) in {} commits, {:.2}s; scored by {}; {} files were already current",
            self.files,
            self.rows,
            self.commits,
            self.elapsed.as_secs_f64(),
            self.fingerprint,
            self.current
        )
    }
}

/// Rewrite the `conversations` files whose scores another configuration computed (or
/// none), with the scores of `engine`'s configuration stored. Safe beside ingests, jobs
/// and other enrich runs: a batch whose files another writer removed first is abandoned
/// and planned again from the new state.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open("./lake").await?;
/// let summary = socialcx::ingest::enrich::enrich(&engine, &Default::default()).await?;
/// println!("{summary}");
/// # Ok(()) }
/// ```
pub async fn enrich(engine: &Engine, options: &EnrichOptions) -> Result<EnrichSummary> {
    let started = Instant::now();
    let lake = engine.lake();
    let def = lake::table(CONVERSATIONS).expect("a lake table");
    let fingerprint = engine.scoring().fingerprint().to_string();
    let snapshot = lake.snapshot().await?;
    let files = snapshot.files(CONVERSATIONS);
    let stale = |f: &DataFile| options.all || f.fingerprint.as_deref() != Some(&fingerprint);
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut total_rows = 0;
    for file in files.iter().filter(|f| stale(f)) {
        pending.insert(file.path.clone());
        total_rows += file.rows;
    }
    let mut summary = EnrichSummary {
        fingerprint: fingerprint.clone(),
        current: files.len() - pending.len(),
        ..Default::default()
    };
    drop(snapshot);
    let bar = Arc::clone(&options.progress);
    bar.start("enriching conversations", total_rows, Unit::Rows);
    while !pending.is_empty() {
        let snapshot = lake.snapshot().await?;
        let batch: Vec<DataFile> = snapshot
            .files(CONVERSATIONS)
            .iter()
            .filter(|f| pending.contains(&f.path))
            .take(options.files_per_commit.max(1))
            .cloned()
            .collect();
        if batch.is_empty() {
            break; // the rest was removed by other writers
        }
        let base = snapshot.version;
        drop(snapshot);
        let paths: BTreeSet<String> = batch.iter().map(|f| f.path.clone()).collect();
        let mut tx = lake.begin("enrich");
        let mut staged = Vec::with_capacity(batch.len());
        for file in &batch {
            staged.push(rescored(engine, &def, file, &fingerprint).await?);
        }
        // Files from before `parent_author_id` (and replies that landed before their
        // parents) get their parents' authors, looked up once for the whole batch.
        let mut batches: Vec<&mut RecordBatch> = staged
            .iter_mut()
            .flat_map(|f| f.batches.iter_mut())
            .collect();
        super::stages::fill_parent_authors(engine, &mut batches).await?;
        tx.write_all(staged, &|_| {}).await?;
        let rows: u64 = batch.iter().map(|f| f.rows).sum();
        tx.set_summary(serde_json::json!({
            "files": batch.len(), "rows": rows, "fingerprint": fingerprint,
        }));
        let committed = tx.commit_rewrite(base, &paths).await?;
        // Abandoned: another writer removed some of these files; plan again from its state.
        if committed.is_some() {
            for path in &paths {
                pending.remove(path);
            }
            summary.files += batch.len();
            summary.rows += rows;
            summary.commits += 1;
            bar.set(summary.rows);
        }
    }
    bar.finish();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// `file` read whole in the table's current schema (columns it predates are null), in
/// its own row order, scored by `engine`, staged for the same partition.
async fn rescored(
    engine: &Engine,
    def: &TableDef,
    file: &DataFile,
    fingerprint: &str,
) -> Result<StagedFile> {
    let url = format!("{}{}", lake::OBJECT_STORE_URL, file.path);
    let options = ParquetReadOptions::default().schema(&def.schema);
    let frame = engine.context().read_parquet(url, options).await?;
    // Partition by partition, in order: the file's row order is kept.
    let mut batches: Vec<RecordBatch> = frame.collect_partitioned().await?.concat();
    let mut refs: Vec<&mut RecordBatch> = batches.iter_mut().collect();
    super::stages::score_batches(engine, &mut refs)?;
    Ok(StagedFile {
        def: def.clone(),
        partition: partition_of(def, file),
        batches,
        fingerprint: Some(fingerprint.to_string()),
    })
}

/// Where `file` lives in its table: the same directory, partition values and span.
fn partition_of(def: &TableDef, file: &DataFile) -> Partition {
    let table_dir = format!("{}/", def.dir());
    let dir = file
        .path
        .strip_prefix(&table_dir)
        .and_then(|rest| rest.rsplit_once('/'))
        .map(|(dir, _)| dir.to_string());
    Partition {
        dir,
        values: file.partition.clone(),
        span: file.partition_span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_file_keeps_its_directory_and_partition() {
        let def = lake::table(CONVERSATIONS).unwrap();
        let file = DataFile {
            table: CONVERSATIONS.into(),
            path: "conversations/month=2026-01/part-x-0001.parquet".into(),
            rows: 3,
            bytes: 10,
            partition: Default::default(),
            partition_span: Some(["2026-01-03".into(), "2026-01-29".into()]),
            time_range: None,
            fingerprint: None,
        };
        let p = partition_of(&def, &file);
        assert_eq!(p.dir.as_deref(), Some("month=2026-01"));
        assert_eq!(p.span, file.partition_span);
        let root = DataFile {
            path: "conversations/part-x-0002.parquet".into(),
            ..file
        };
        assert_eq!(partition_of(&def, &root).dir, None);
    }
}
