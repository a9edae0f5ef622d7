//! Which files a write of daily-partitioned rows makes.
//!
//! One file per day is right for a day of real traffic, and wrong for a backfill of sparse
//! history: 20,000 rows on 20,000 days would be 20,000 files of one row each, every query
//! opening all of them. So an operation writes, for rows sorted by day:
//!
//! * a day with at least [`SMALL_ROWS`] rows: its own files, `date=2026-01-15/`;
//! * the smaller days of a month, when together they reach [`SMALL_ROWS`]: one file per
//!   month, `month=2026-01/`;
//! * what is left of a year: one file per year, `year=2026/`.
//!
//! No file holds more than [`FILE_ROWS`] rows. A file spanning several days records their
//! range in the commit log (`partition_span`), so date filters prune it like a day's file;
//! inside, rows are sorted by day and time, so Parquet's row-group statistics prune further.
//! The `date` column in every file is the truth; directory names are for people.

use std::ops::Range;

use chrono::{Datelike, NaiveDate};

use super::transaction::Partition;
use super::writer::ROW_GROUP_ROWS;

/// The most rows in one data file.
pub const FILE_ROWS: usize = 8 * ROW_GROUP_ROWS;

/// Below this many rows, a day shares a file with its month's other small days.
pub const SMALL_ROWS: usize = 16 * 1024;

/// One planned file: its partition and the row ranges (in day order) it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    pub partition: Partition,
    pub rows: Vec<Range<usize>>,
}

/// Plan the files for rows sorted by `column`'s day, given as consecutive `(day, rows)`
/// runs in ascending day order.
///
/// ```
/// use chrono::NaiveDate;
/// use socialcx::lake::layout::plan_days;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let files = plan_days("date", &[(d(1, 1), 3), (d(1, 2), 40_000), (d(2, 9), 5)]);
/// let dirs: Vec<_> = files.iter().map(|f| f.partition.dir.clone().unwrap()).collect();
/// assert_eq!(dirs, ["year=2026", "date=2026-01-02"]);
/// assert_eq!(files[0].rows, [0..3, 40_003..40_008]);
/// ```
pub fn plan_days(column: &str, days: &[(NaiveDate, usize)]) -> Vec<PlannedFile> {
    let mut files = Vec::new();
    let mut start = 0;
    // Small days, then small months, carried to the next level.
    let mut small_days: Vec<(NaiveDate, Range<usize>)> = Vec::new();
    for &(day, n) in days {
        let range = start..start + n;
        start += n;
        if n >= SMALL_ROWS {
            let partition = Partition::value(column, day.to_string());
            files.extend(chunk(partition, vec![range]));
        } else if n > 0 {
            small_days.push((day, range));
        }
    }
    let mut small_months: Vec<(NaiveDate, Range<usize>)> = Vec::new();
    for month in small_days.chunk_by(|a, b| (a.0.year(), a.0.month()) == (b.0.year(), b.0.month()))
    {
        let total: usize = month.iter().map(|(_, r)| r.len()).sum();
        if total >= SMALL_ROWS {
            let first = month[0].0;
            let name = format!("{:04}-{:02}", first.year(), first.month());
            files.extend(spanning(column, "month", &name, month));
        } else {
            small_months.extend(month.iter().cloned());
        }
    }
    for year in small_months.chunk_by(|a, b| a.0.year() == b.0.year()) {
        let name = format!("{:04}", year[0].0.year());
        files.extend(spanning(column, "year", &name, year));
    }
    files.sort_by_key(|f| f.rows[0].start);
    files
}

/// The file holding the `days` (ascending, each with its rows) under `key=name`.
fn spanning(
    column: &str,
    key: &str,
    name: &str,
    days: &[(NaiveDate, Range<usize>)],
) -> Vec<PlannedFile> {
    let (lo, hi) = (days[0].0, days[days.len() - 1].0);
    let partition = if lo == hi {
        // One day alone in its month or year: it is a day's file.
        Partition::value(column, lo.to_string())
    } else {
        Partition::span(key, name, lo.to_string(), hi.to_string())
    };
    let rows = days.iter().map(|(_, r)| r.clone()).collect();
    vec![PlannedFile { partition, rows }]
}

// A month of small days (and a year of small months) fits one file, so a span is never
// split and its recorded range is exact.
const _: () = assert!(31 * SMALL_ROWS <= FILE_ROWS && 12 * SMALL_ROWS <= FILE_ROWS);

/// Split `ranges` (in order) into files of at most [`FILE_ROWS`] rows.
fn chunk(partition: Partition, ranges: Vec<Range<usize>>) -> Vec<PlannedFile> {
    let mut files = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for mut range in ranges {
        while !range.is_empty() {
            let take = (FILE_ROWS - size).min(range.len());
            current.push(range.start..range.start + take);
            size += take;
            range.start += take;
            if size == FILE_ROWS {
                files.push(PlannedFile {
                    partition: partition.clone(),
                    rows: std::mem::take(&mut current),
                });
                size = 0;
            }
        }
    }
    if !current.is_empty() {
        files.push(PlannedFile {
            partition,
            rows: current,
        });
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(n)
    }

    fn total(files: &[PlannedFile]) -> usize {
        files.iter().flat_map(|f| &f.rows).map(|r| r.len()).sum()
    }

    #[test]
    fn sparse_history_is_one_file_per_year_and_every_row_is_planned_once() {
        // 20,000 rows, each on its own day (about 55 years).
        let days: Vec<_> = (0..20_000).map(|i| (day(i), 1)).collect();
        let files = plan_days("date", &days);
        assert_eq!(files.len(), 55);
        assert_eq!(total(&files), 20_000);
        let mut rows: Vec<usize> = files
            .iter()
            .flat_map(|f| f.rows.clone())
            .flatten()
            .collect();
        rows.sort_unstable();
        assert!(rows.iter().enumerate().all(|(i, r)| i == *r));
        assert_eq!(files[0].partition.dir.as_deref(), Some("year=1990"));
        assert_eq!(
            files[0].partition.span,
            Some(["1990-01-01".to_string(), "1990-12-31".to_string()])
        );
    }

    #[test]
    fn busy_days_keep_their_own_files_and_a_busy_month_of_small_days_gets_one() {
        let mut days: Vec<_> = (0..31).map(|i| (day(i), 1_000)).collect(); // January: 31k
        days.push((day(40), 20_000)); // a busy day in February
        days.push((day(41), 10)); // a small day beside it
        let files = plan_days("date", &days);
        let dirs: Vec<_> = files
            .iter()
            .map(|f| f.partition.dir.clone().unwrap())
            .collect();
        assert_eq!(
            dirs,
            ["month=1990-01", "date=1990-02-10", "date=1990-02-11"]
        );
        assert_eq!(files[1].partition.values["date"], "1990-02-10");
        assert_eq!(total(&files), 31_000 + 20_010);
    }

    #[test]
    fn no_file_exceeds_the_file_size() {
        let files = plan_days("date", &[(day(0), 2 * FILE_ROWS + 5)]);
        let sizes: Vec<usize> = files
            .iter()
            .map(|f| total(std::slice::from_ref(f)))
            .collect();
        assert_eq!(sizes, [FILE_ROWS, FILE_ROWS, 5]);
    }
}
