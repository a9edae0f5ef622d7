//! Transactions: the one way anything is written to the lake.
//!
//! A [`Transaction`] owns the operation's id, names its files, writes them (invisible
//! until the commit, see [`super::log`]), and commits them with the files it removes and a
//! summary, in one atomic commit. Ingest, jobs and every future writer go through it:
//!
//! ```no_run
//! # async fn f(lake: std::sync::Arc<socialcx::lake::Lake>,
//! #            batch: datafusion::arrow::array::RecordBatch) -> socialcx::Result<()> {
//! use socialcx::lake::{self, transaction::Partition};
//! let mut tx = lake.begin("ingest");
//! let def = lake::table("quarantine").unwrap();
//! tx.write(&def, Partition::value("date", "2026-01-15"), vec![batch]).await?;
//! tx.set_summary(serde_json::json!({ "rows": 1 }));
//! let version = tx.commit().await?;
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use datafusion::arrow::array::RecordBatch;
use object_store::path::Path;

use super::log::{Commit, DataFile, SourceInfo};
use super::table::TableDef;
use super::{Lake, describe_parquet, time_range, writer};
use crate::{Error, Result};

/// A fresh operation id: UTC time to the second, then 32 random bits
/// (`20260115T093000Z-1a2b3c4d`). Sorts by time; unique across writers.
///
/// ```
/// let id = socialcx::lake::transaction::new_id();
/// assert_eq!(id.len(), "20260115T093000Z-1a2b3c4d".len());
/// ```
pub fn new_id() -> String {
    format!(
        "{}-{:08x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        rand::random::<u32>()
    )
}

/// Where in its table a file goes: its directory under the table, the partition values
/// the commit log records for it (what jobs replace by, what pruning reads), and, for a
/// file that holds several values of the table's partition column, their range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partition {
    /// Directory under the table's (`date=2026-01-15`), `None` for the table's root.
    pub dir: Option<String>,
    /// Exact values every row of the file has (`date` -> `2026-01-15`).
    pub values: BTreeMap<String, String>,
    /// Min and max of the table's partition column when the file holds several of its
    /// values (a month's small days, see [`super::layout`]).
    pub span: Option<[String; 2]>,
}

impl Partition {
    /// The table's root directory, no partition values.
    ///
    /// ```
    /// assert_eq!(socialcx::lake::transaction::Partition::none().dir, None);
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// A Hive-style partition `column=value`, whose every row has that value.
    ///
    /// ```
    /// let p = socialcx::lake::transaction::Partition::value("date", "2026-01-15");
    /// assert_eq!(p.dir.as_deref(), Some("date=2026-01-15"));
    /// ```
    pub fn value(column: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            dir: Some(format!("{column}={value}")),
            values: BTreeMap::from([(column.to_string(), value)]),
            span: None,
        }
    }

    /// A directory `key=name` holding several values of the partition column, from
    /// `lo` to `hi` (inclusive).
    ///
    /// ```
    /// let p = socialcx::lake::transaction::Partition::span("month", "2026-01", "2026-01-03", "2026-01-29");
    /// assert_eq!(p.span.unwrap()[1], "2026-01-29");
    /// ```
    pub fn span(key: &str, name: &str, lo: impl Into<String>, hi: impl Into<String>) -> Self {
        Self {
            dir: Some(format!("{key}={name}")),
            values: BTreeMap::new(),
            span: Some([lo.into(), hi.into()]),
        }
    }

    /// Also record `key = value` for the file without a directory of its own (a job's
    /// name on its run records).
    ///
    /// ```
    /// let p = socialcx::lake::transaction::Partition::none().with_key("job", "daily");
    /// assert_eq!(p.values["job"], "daily");
    /// ```
    pub fn with_key(mut self, key: &str, value: impl Into<String>) -> Self {
        self.values.insert(key.to_string(), value.into());
        self
    }
}

/// One file to write: its table, partition and rows.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub def: TableDef,
    pub partition: Partition,
    pub batches: Vec<RecordBatch>,
    /// The fingerprint of what computed the rows' derived columns (see
    /// [`super::table::DerivedColumns`]), recorded in the commit log with the file.
    pub fingerprint: Option<String>,
}

/// Files written for one operation, made visible together by [`Transaction::commit`], or
/// not at all. Dropping a transaction without committing leaves its files invisible;
/// [`Transaction::abort`] also deletes them.
#[derive(Debug)]
pub struct Transaction {
    lake: Arc<Lake>,
    id: String,
    operation: String,
    source: Option<SourceInfo>,
    add: Vec<DataFile>,
    remove: Vec<String>,
    summary: serde_json::Value,
    next_seq: usize,
}

impl Lake {
    /// Begin a transaction for `operation` (`ingest`, `job`, ...), with a fresh id.
    ///
    /// ```no_run
    /// # async fn f(lake: std::sync::Arc<socialcx::lake::Lake>) {
    /// let tx = lake.begin("ingest");
    /// println!("{}", tx.id());
    /// # }
    /// ```
    pub fn begin(self: &Arc<Self>, operation: &str) -> Transaction {
        Transaction {
            lake: Arc::clone(self),
            id: new_id(),
            operation: operation.to_string(),
            source: None,
            add: Vec::new(),
            remove: Vec::new(),
            summary: serde_json::Value::Null,
            next_seq: 0,
        }
    }
}

impl Transaction {
    /// The operation's id: in the commit, in every file name, and in rows that name their
    /// writer (`ingest_id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The files written so far.
    pub fn added(&self) -> &[DataFile] {
        &self.add
    }

    /// Record the input this transaction lands (so the same bytes are not landed twice).
    pub fn set_source(&mut self, source: SourceInfo) {
        self.source = Some(source);
    }

    /// Counts for people reading the log.
    pub fn set_summary(&mut self, summary: serde_json::Value) {
        self.summary = summary;
    }

    /// Make the files at `paths` invisible in the same commit (a replaced partition).
    pub fn remove(&mut self, paths: impl IntoIterator<Item = String>) {
        self.remove.extend(paths);
    }

    /// Write one file of `def` in `partition` (invisible until the commit).
    pub async fn write(
        &mut self,
        def: &TableDef,
        partition: Partition,
        batches: Vec<RecordBatch>,
    ) -> Result<&DataFile> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let file = write_file(&self.lake, &self.id, seq, def, partition, &batches, None).await?;
        self.add.push(file);
        Ok(self.add.last().expect("just pushed"))
    }

    /// Write `files`, as many at a time as there are cores, calling `written` with the
    /// number of files done after each.
    /// The first failure fails the whole (nothing becomes visible).
    pub async fn write_all(
        &mut self,
        files: Vec<StagedFile>,
        written: &(dyn Fn(u64) + Sync),
    ) -> Result<()> {
        let parallel = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut writes = tokio::task::JoinSet::new();
        let join = async |writes: &mut tokio::task::JoinSet<Result<DataFile>>| match writes
            .join_next()
            .await
        {
            Some(Ok(result)) => result,
            Some(Err(e)) => Err(Error::Usage(format!("a file write task failed: {e}"))),
            None => unreachable!("called with writes in flight"),
        };
        let mut done = Vec::with_capacity(files.len());
        for file in files {
            if writes.len() >= parallel {
                done.push(join(&mut writes).await?);
                written(done.len() as u64);
            }
            let (lake, id, seq) = (Arc::clone(&self.lake), self.id.clone(), self.next_seq);
            self.next_seq += 1;
            writes.spawn(async move {
                let StagedFile {
                    def,
                    partition,
                    batches,
                    fingerprint,
                } = file;
                write_file(&lake, &id, seq, &def, partition, &batches, fingerprint).await
            });
        }
        while !writes.is_empty() {
            done.push(join(&mut writes).await?);
            written(done.len() as u64);
        }
        done.sort_by(|a, b| a.path.cmp(&b.path));
        self.add.extend(done);
        Ok(())
    }

    fn into_commit(self) -> (Arc<Lake>, Commit) {
        let commit = Commit {
            version: 0,
            id: self.id,
            operation: self.operation,
            committed_at: Utc::now().to_rfc3339(),
            source: self.source,
            add: self.add,
            remove: self.remove,
            summary: self.summary,
        };
        (self.lake, commit)
    }

    /// Commit on top of whatever is the latest version (retrying when another writer
    /// commits first); returns the new version.
    pub async fn commit(self) -> Result<u64> {
        #[cfg(feature = "test-hooks")]
        test_hooks::commit_barrier(&self.operation).await;
        let (lake, commit) = self.into_commit();
        lake.log.commit(commit).await
    }

    /// Commit on top of version `base`, for writers whose work depends on what the lake
    /// held (ingest's duplicate check). When other writers committed first, their commits
    /// are passed to `on_conflict`: `Ok(true)` means they change nothing for this
    /// transaction and it is committed after them; `Ok(false)` abandons it (its files are
    /// deleted) and `Ok(None)` is returned.
    pub async fn commit_on(
        self,
        base: u64,
        mut on_conflict: impl AsyncFnMut(&[Commit]) -> Result<bool>,
    ) -> Result<Option<u64>> {
        #[cfg(feature = "test-hooks")]
        test_hooks::commit_barrier(&self.operation).await;
        let (lake, mut commit) = self.into_commit();
        let mut base = base;
        loop {
            if lake.log.try_commit_at(&mut commit, base + 1).await? {
                return Ok(Some(base + 1));
            }
            let newer = lake.log.commits_after(base).await?;
            let Some(last) = newer.last() else {
                continue; // the version was taken but is not listed yet: read again
            };
            base = last.version;
            if !on_conflict(&newer).await? {
                lake.discard(&commit.add).await;
                return Ok(None);
            }
        }
    }

    /// Commit on top of version `base` a rewrite of the files at `paths`, which this commit
    /// removes (`enrich`, `compact`): after newer commits that left them alone, or abandoned
    /// (`Ok(None)`, its files deleted) when one of them removed any of those files first.
    pub async fn commit_rewrite(
        mut self,
        base: u64,
        paths: &BTreeSet<String>,
    ) -> Result<Option<u64>> {
        self.remove(paths.iter().cloned());
        self.commit_on(base, async |newer: &[Commit]| {
            Ok(!newer
                .iter()
                .any(|c| c.remove.iter().any(|p| paths.contains(p))))
        })
        .await
    }

    /// Give up: delete the files written so far (best effort; unnamed files are
    /// invisible anyway).
    pub async fn abort(self) {
        self.lake.discard(&self.add).await;
    }
}

/// Write `batches` as file `seq` of operation `id`, in `def`'s directory and `partition`.
async fn write_file(
    lake: &Lake,
    id: &str,
    seq: usize,
    def: &TableDef,
    partition: Partition,
    batches: &[RecordBatch],
    fingerprint: Option<String>,
) -> Result<DataFile> {
    let mut dir = def.dir();
    if let Some(sub) = &partition.dir {
        dir = format!("{dir}/{sub}");
    }
    let path = Path::from(format!("{dir}/part-{id}-{seq:04}.parquet"));
    let bytes = writer::write_parquet(lake.store(), &path, Arc::clone(&def.schema), batches)
        .await
        .map_err(|e| match e {
            Error::Parquet(p) => Error::Lake {
                url: lake.url().to_string(),
                message: format!("writing {path}: {}", describe_parquet(&p)),
            },
            other => other,
        })?;
    Ok(DataFile {
        table: def.name.clone(),
        path: path.to_string(),
        rows: batches.iter().map(|b| b.num_rows() as u64).sum(),
        bytes,
        partition: partition.values,
        partition_span: partition.span,
        time_range: def.time_column.and_then(|c| time_range(batches, c)),
        fingerprint,
    })
}

/// Built with the `test-hooks` feature only (`bash tests/run`), never in a release build.
#[cfg(feature = "test-hooks")]
mod test_hooks {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// With `SOCIALCX_TEST_COMMIT_BARRIER=DIR`, an `ingest`, `job`, `enrich` or `compact` transaction
    /// whose files are written says so in `DIR` and waits before its commit attempt: the
    /// process's first such transaction writes `ready-PID` and its K-th after that
    /// `ready-PID-K`, and each waits for `DIR/go` (every transaction passes) or `DIR/go-K`
    /// (the first K+1 pass). The concurrency tests let several ingests all check the lake
    /// before any commits; the crash tests kill a process there, after K commits.
    pub async fn commit_barrier(operation: &str) {
        static PASSED: AtomicUsize = AtomicUsize::new(0);
        let Some(dir) = std::env::var_os("SOCIALCX_TEST_COMMIT_BARRIER") else {
            return;
        };
        if !matches!(operation, "ingest" | "job" | "enrich" | "compact") {
            return;
        }
        let dir = PathBuf::from(dir);
        let k = PASSED.load(Ordering::SeqCst);
        let ready = match k {
            0 => format!("ready-{}", std::process::id()),
            k => format!("ready-{}-{k}", std::process::id()),
        };
        let _ = std::fs::write(dir.join(ready), b"");
        let limit = Instant::now() + Duration::from_secs(120);
        while !(dir.join("go").exists() || dir.join(format!("go-{k}")).exists())
            && Instant::now() < limit
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        PASSED.fetch_add(1, Ordering::SeqCst);
    }
}
