//! `socialcx compact`: merge the small `conversations` files that ingests leave behind.
//!
//! Ingest plans its files a segment at a time (memory is bounded by the segment), so a large
//! input, or many small ones, leaves a month with many small files: on the benchmark's
//! 10M messages, 226 files of about 44,000 rows, where one file per day of about 100,000
//! rows would do. Every query then opens more files and reads smaller row groups.
//! [`compact`] merges them: the small files of a month (those with fewer than
//! [`CompactOptions::small_rows`] rows and the same scoring fingerprint) are read in day and
//! time order and written again as the lake's layout plans them for that many rows (a day's
//! own files, or a month's small days together), in one commit that adds the new files and
//! removes the old. A reader sees the old files or the new ones, never both or neither;
//! nothing is renamed (correct on S3); a crash leaves the commits made so far, and running
//! it again finishes the job. A month whose files are already as few as its rows need is
//! left alone, so a second run does nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Date32Type, Int64Type};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::{DataFrame, ParquetReadOptions, col, lit};
use futures::StreamExt;

use crate::engine::Engine;
use crate::lake::layout::{self, FILE_ROWS};
use crate::lake::log::DataFile;
use crate::lake::table::TableDef;
use crate::lake::transaction::StagedFile;
use crate::model::CONVERSATIONS;
use crate::progress::{Progress, Silent, Unit};
use crate::{Error, Result, lake};

/// How to compact.
#[derive(Clone)]
pub struct CompactOptions {
    /// Files with fewer rows than this are merged with the other small files of their month.
    pub small_rows: usize,
    /// Where progress goes.
    pub progress: Arc<dyn Progress>,
}

impl Default for CompactOptions {
    fn default() -> Self {
        Self {
            small_rows: FILE_ROWS / 2,
            progress: Arc::new(Silent),
        }
    }
}

impl std::fmt::Debug for CompactOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactOptions")
            .field("small_rows", &self.small_rows)
            .finish_non_exhaustive()
    }
}

/// What a compaction did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactSummary {
    /// Files merged, the rows they held, and the files written in their place.
    pub merged: usize,
    pub rows: u64,
    pub written: usize,
    /// Commits made (one per month).
    pub commits: usize,
    /// `conversations` files after the compaction.
    pub files: usize,
    pub elapsed: Duration,
}

impl std::fmt::Display for CompactSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.merged == 0 {
            return write!(
                f,
                "nothing to do: the {} conversations files are as few as their days need",
                self.files
            );
        }
        write!(
            f,
            "compacted {} files ({} rows) into {} in {} commits, {:.2}s; conversations now has {} files",
            self.merged,
            self.rows,
            self.written,
            self.commits,
            self.elapsed.as_secs_f64(),
            self.files
        )
    }
}

/// Merge the small `conversations` files of each month (see the module's documentation).
/// Safe beside ingests, jobs, enrich and other compactions: a month whose files another
/// writer removed first is abandoned (its new files deleted) and left for the next run.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open("./lake").await?;
/// let summary = socialcx::ingest::compact::compact(&engine, &Default::default()).await?;
/// println!("{summary}");
/// # Ok(()) }
/// ```
pub async fn compact(engine: &Engine, options: &CompactOptions) -> Result<CompactSummary> {
    let started = Instant::now();
    let lake = engine.lake();
    let def = lake::table(CONVERSATIONS).expect("a lake table");
    let snapshot = lake.snapshot().await?;
    let groups = small_files_by_month(snapshot.files(CONVERSATIONS), options.small_rows);
    drop(snapshot);
    let total: u64 = groups.values().flatten().map(|f| f.rows).sum();
    let mut summary = CompactSummary::default();
    let bar = Arc::clone(&options.progress);
    bar.start("compacting conversations", total, Unit::Rows);
    let mut done = 0;
    for files in groups.values() {
        let rows: u64 = files.iter().map(|f| f.rows).sum();
        if let Some(written) = compact_group(engine, &def, files, bar.as_ref(), done).await? {
            summary.merged += files.len();
            summary.rows += rows;
            summary.written += written;
            summary.commits += 1;
        }
        done += rows;
        bar.set(done);
    }
    bar.finish();
    summary.files = lake.snapshot().await?.files(CONVERSATIONS).len();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The files with fewer than `small_rows` rows, by the month of their first day and their
/// fingerprint (files scored differently are not merged); months of one file are left out.
fn small_files_by_month(
    files: &[DataFile],
    small_rows: usize,
) -> BTreeMap<(String, Option<String>), Vec<DataFile>> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<DataFile>> = BTreeMap::new();
    for file in files.iter().filter(|f| (f.rows as usize) < small_rows) {
        let first_day = match &file.partition_span {
            Some([lo, _]) => Some(lo.as_str()),
            None => file.partition.get("date").map(String::as_str),
        };
        let month = first_day.map_or(String::new(), |d| d.chars().take(7).collect());
        groups
            .entry((month, file.fingerprint.clone()))
            .or_default()
            .push(file.clone());
    }
    groups.retain(|_, files| files.len() > 1);
    groups
}

/// Merge `files` into the files the layout plans for their rows, in one commit; `None` when
/// the plan would not make fewer files, or another writer removed one of them first.
async fn compact_group(
    engine: &Engine,
    def: &TableDef,
    files: &[DataFile],
    bar: &dyn Progress,
    done: u64,
) -> Result<Option<usize>> {
    let lake = engine.lake();
    let snapshot = lake.snapshot().await?;
    let paths: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    let present = snapshot
        .files(CONVERSATIONS)
        .iter()
        .filter(|f| paths.contains(&f.path))
        .count();
    if present != paths.len() {
        return Ok(None); // another writer replaced some of them since the plan
    }
    let base = snapshot.version;
    drop(snapshot);
    let partition_column = def.partition_column.expect("conversations is partitioned");
    let time_column = def.time_column.expect("conversations has a time column");
    let urls: Vec<String> = paths
        .iter()
        .map(|p| format!("{}{}", lake::OBJECT_STORE_URL, p))
        .collect();
    let options = ParquetReadOptions::default().schema(&def.schema);
    let frame: DataFrame = engine.context().read_parquet(urls, options).await?;

    // The rows of each day, then the files the layout plans for them.
    let counted = frame
        .clone()
        .aggregate(vec![col(partition_column)], vec![count(lit(1)).alias("n")])?
        .sort(vec![col(partition_column).sort(true, true)])?
        .collect()
        .await?;
    let mut days: Vec<(NaiveDate, usize)> = Vec::new();
    for batch in &counted {
        let day = batch.column(0).as_primitive::<Date32Type>();
        let n = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            if day.is_null(i) {
                return Err(Error::Usage(format!(
                    "{} rows without a {partition_column} in {:?}",
                    n.value(i),
                    paths
                )));
            }
            let date = Date32Type::to_naive_date_opt(day.value(i)).ok_or_else(|| {
                Error::Usage(format!("{partition_column} out of range in {paths:?}"))
            })?;
            days.push((date, n.value(i) as usize));
        }
    }
    let planned = layout::plan_days(partition_column, &days);
    if planned.len() >= files.len() {
        return Ok(None);
    }

    // The rows in day and time order, each run of them sent to its planned file; a file is
    // written as soon as its last row has come, so what is held is about one file's rows.
    let mut runs: Vec<(std::ops::Range<usize>, usize)> = planned
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.rows.iter().map(move |r| (r.clone(), i)))
        .collect();
    runs.sort_by_key(|(r, _)| r.start);
    let mut remaining: Vec<usize> = planned
        .iter()
        .map(|p| p.rows.iter().map(|r| r.len()).sum())
        .collect();
    let mut pending: Vec<Vec<RecordBatch>> = vec![Vec::new(); planned.len()];
    let fingerprint = files[0].fingerprint.clone();
    let mut tx = lake.begin("compact");
    let mut stream = frame
        .sort(vec![
            col(partition_column).sort(true, true),
            col(time_column).sort(true, true),
            col("conversation_id").sort(true, true),
        ])?
        .execute_stream()
        .await?;
    let (mut offset, mut run) = (0usize, 0usize);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let mut at = 0;
        while at < batch.num_rows() {
            let Some((range, file)) = runs.get(run).cloned() else {
                tx.abort().await;
                return Err(Error::Usage(format!(
                    "compaction read more rows than the {} it counted in {paths:?}; \
                     nothing was changed",
                    offset + at
                )));
            };
            let take = (range.end - (offset + at)).min(batch.num_rows() - at);
            pending[file].push(batch.slice(at, take));
            at += take;
            remaining[file] -= take;
            if offset + at == range.end {
                run += 1;
            }
            if remaining[file] == 0 {
                let staged = StagedFile {
                    def: def.clone(),
                    partition: planned[file].partition.clone(),
                    batches: std::mem::take(&mut pending[file]),
                    fingerprint: fingerprint.clone(),
                };
                tx.write_all(vec![staged], &|_| {}).await?;
            }
        }
        offset += batch.num_rows();
        bar.set(done + offset as u64);
    }
    let expected: usize = days.iter().map(|(_, n)| n).sum();
    if offset != expected || remaining.iter().any(|&r| r > 0) {
        tx.abort().await;
        return Err(Error::Usage(format!(
            "compaction read {offset} rows of {expected} counted; nothing was changed"
        )));
    }
    let written = tx.added().len();
    tx.set_summary(serde_json::json!({
        "merged": files.len(), "rows": expected, "written": written,
    }));
    let committed = tx.commit_rewrite(base, &paths).await?;
    Ok(committed.map(|_| written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, rows: u64, span: Option<[&str; 2]>, day: Option<&str>) -> DataFile {
        DataFile {
            table: CONVERSATIONS.into(),
            path: path.into(),
            rows,
            bytes: 10,
            partition: day
                .map(|d| [("date".to_string(), d.to_string())].into())
                .unwrap_or_default(),
            partition_span: span.map(|[lo, hi]| [lo.into(), hi.into()]),
            time_range: None,
            fingerprint: None,
        }
    }

    #[test]
    fn small_files_are_grouped_by_the_month_of_their_first_day() {
        let files = [
            file("a", 10, Some(["2026-01-03", "2026-01-29"]), None),
            file("b", 20, None, Some("2026-01-15")),
            file("c", 30, Some(["2026-02-01", "2026-02-20"]), None),
            file("d", 40, Some(["2026-01-05", "2026-03-01"]), None),
            file("big", 1_000, None, Some("2026-01-16")),
        ];
        let groups = small_files_by_month(&files, 100);
        let names: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|((month, _), fs)| (month.as_str(), fs.iter().map(|f| f.path.as_str()).collect()))
            .collect();
        // February's single file and the full file are left as they are.
        assert_eq!(names, [("2026-01", vec!["a", "b", "d"])]);
    }
}
