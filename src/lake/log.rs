//! The lake's commit log: what makes a set of Parquet files visible, atomically.
//!
//! Object stores such as S3 have no rename, so a writer cannot build a directory and
//! swap it in. Instead every write goes in two steps:
//!
//! 1. data files are written whole under fresh, unique names (`part-<commit id>-N`);
//!    nothing reads a data file that no commit names, so they are invisible;
//! 2. one JSON commit `_log/<version>.json` naming the files is written with
//!    put-if-absent (`PutMode::Create`); a single PUT is atomic, so readers see all
//!    of the commit or none of it, and two writers cannot take the same version.
//!
//! A crash between the steps leaves unreferenced files and no commit: the lake is as
//! it was. A reader's snapshot is the replay of the log in version order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{Error, Result};

/// The prefix under which commits live.
pub const LOG_DIR: &str = "_log";

/// A data file as the log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Table the file belongs to.
    pub table: String,
    /// Path relative to the lake root.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    /// Hive partition values (`date` → `2026-01-15`), also stored in the file itself.
    #[serde(default)]
    pub partition: BTreeMap<String, String>,
    /// Min and max of the table's partition column when the file holds several of its
    /// values (a month's small days; see [`super::layout`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_span: Option<[String; 2]>,
    /// Min and max of the table's time column (µs since epoch, UTC).
    #[serde(default)]
    pub time_range: Option<[i64; 2]>,
    /// The fingerprint of what computed the file's derived columns (the conversations'
    /// scores, see [`super::table::DerivedColumns`]); `None` for files without them, such
    /// as those written before scores were stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// The input a commit came from, so the same input is not landed twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: String,
}

/// One commit: files added and removed together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub version: u64,
    /// Unique id of the writing operation (also in the data file names).
    pub id: String,
    pub operation: String,
    /// RFC 3339, UTC.
    pub committed_at: String,
    #[serde(default)]
    pub source: Option<SourceInfo>,
    #[serde(default)]
    pub add: Vec<DataFile>,
    /// Paths of files this commit makes invisible (replaced partitions).
    #[serde(default)]
    pub remove: Vec<String>,
    /// Free-form counts for people reading the log.
    #[serde(default)]
    pub summary: serde_json::Value,
}

/// The state of the lake at one version: the visible files of every table.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: u64,
    files: HashMap<String, Vec<DataFile>>,
    sources: HashSet<String>,
    /// The byte counts of those inputs (a cheap first check before hashing a large one).
    source_sizes: HashSet<u64>,
}

impl Snapshot {
    /// The visible files of `table`, oldest commit first.
    pub fn files(&self, table: &str) -> &[DataFile] {
        self.files.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The names of the tables that have visible files.
    pub fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .files
            .iter()
            .filter(|(_, files)| !files.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }

    /// Whether an input with this SHA-256 was already committed.
    pub fn has_source(&self, sha256: &str) -> bool {
        self.sources.contains(sha256)
    }

    /// Whether an input of exactly `bytes` bytes was already committed: when not, an input
    /// of that size cannot have been landed before, whatever its hash.
    pub fn has_source_of_size(&self, bytes: u64) -> bool {
        self.source_sizes.contains(&bytes)
    }

    fn apply(&mut self, commit: &Commit) {
        if !commit.remove.is_empty() {
            let removed: HashSet<&str> = commit.remove.iter().map(String::as_str).collect();
            for files in self.files.values_mut() {
                files.retain(|f| !removed.contains(f.path.as_str()));
            }
        }
        for f in &commit.add {
            self.files
                .entry(f.table.clone())
                .or_default()
                .push(f.clone());
        }
        if let Some(s) = &commit.source {
            self.sources.insert(s.sha256.clone());
            self.source_sizes.insert(s.bytes);
        }
        self.version = commit.version;
    }
}

/// Reads and appends to the commit log of one lake. Cheap to refresh: only commits
/// newer than the last one seen are read.
#[derive(Debug)]
pub struct CommitLog {
    url: String,
    store: Arc<dyn ObjectStore>,
    state: Mutex<Arc<Snapshot>>,
}

fn commit_path(version: u64) -> Path {
    Path::from(format!("{LOG_DIR}/{version:020}.json"))
}

impl CommitLog {
    /// The log of the lake at `store` (`url` is only for messages).
    pub fn new(url: &str, store: Arc<dyn ObjectStore>) -> Self {
        Self {
            url: url.to_string(),
            store,
            state: Mutex::new(Arc::new(Snapshot::default())),
        }
    }

    fn store_err(&self, op: &'static str, path: &Path, source: object_store::Error) -> Error {
        Error::Store {
            url: self.url.clone(),
            op,
            path: path.to_string(),
            reason: super::cloud::describe(&source),
            source: Box::new(source),
        }
    }

    /// The commit stored at `path`.
    async fn read_commit(&self, path: &Path) -> Result<Commit> {
        let bytes = self
            .store
            .get(path)
            .await
            .map_err(|e| self.store_err("get", path, e))?
            .bytes()
            .await
            .map_err(|e| self.store_err("get", path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::CorruptLog {
            url: self.url.clone(),
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    /// The latest snapshot, reading any commits made since the last call.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let mut state = self.state.lock().await;
        let prefix = Path::from(LOG_DIR);
        let offset = commit_path(state.version);
        let mut entries: Vec<_> = self
            .store
            .list_with_offset(Some(&prefix), &offset)
            .try_collect()
            .await
            .map_err(|e| self.store_err("list", &prefix, e))?;
        if entries.is_empty() {
            return Ok(Arc::clone(&state));
        }
        entries.sort_by(|a, b| a.location.cmp(&b.location));
        let mut next = (**state).clone();
        for meta in entries {
            let Some(version) = meta
                .location
                .filename()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue; // not a commit (e.g. a stray temporary file)
            };
            if version <= next.version {
                continue;
            }
            let commit = self.read_commit(&meta.location).await?;
            next.apply(&commit);
        }
        *state = Arc::new(next);
        Ok(Arc::clone(&state))
    }

    /// Write `commit` as exactly `version` (put-if-absent): `Ok(true)` when it is now
    /// visible, `Ok(false)` when another writer took that version first. Writers that
    /// must check what landed in between (ingest's duplicate check) use this; the others
    /// use [`CommitLog::commit`].
    pub async fn try_commit_at(&self, commit: &mut Commit, version: u64) -> Result<bool> {
        commit.version = version;
        let path = commit_path(version);
        let body = serde_json::to_vec_pretty(&commit).expect("commit serializes");
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&path, PutPayload::from(body), opts)
            .await
        {
            Ok(_) => {
                self.snapshot().await?;
                Ok(true)
            }
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(self.store_err("put", &path, e)),
        }
    }

    /// The commits made after version `after`, oldest first, up to the latest.
    pub async fn commits_after(&self, after: u64) -> Result<Vec<Commit>> {
        let latest = self.snapshot().await?.version;
        let mut commits = Vec::new();
        for version in after + 1..=latest {
            commits.push(self.read_commit(&commit_path(version)).await?);
        }
        Ok(commits)
    }

    /// Append a commit atomically and return its version. The version field of
    /// `commit` is filled in here; when another writer took the version first, the
    /// log is re-read and the next one is tried.
    pub async fn commit(&self, mut commit: Commit) -> Result<u64> {
        for _ in 0..100 {
            let version = self.snapshot().await?.version + 1;
            if self.try_commit_at(&mut commit, version).await? {
                return Ok(version);
            }
        }
        Err(Error::Lake {
            url: self.url.clone(),
            message: "gave up committing after 100 concurrent commits won the race".into(),
        })
    }
}
