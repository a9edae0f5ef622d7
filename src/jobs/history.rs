//! What jobs leave in the lake: their results (`metrics.<table>`), a record of every run
//! (`job_runs`) and the breaches of the baseline (`alerts`). All three are Parquet beside
//! the conversations, made visible by the lake's commit log, so one commit can replace a
//! partition, add its alerts and record the run together, or none of it.
//!
//! ```text
//! metrics/baseline_daily/as_of=2026-01-15/part-<commit id>-0000.parquet   (columns: job, as_of, ...)
//! alerts/part-<commit id>-0001.parquet                                    (one row per breach)
//! job_runs/part-<commit id>-0002.parquet                                  (one row per attempt)
//! ```

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::Result;
use crate::lake::log::DataFile;
use crate::model::UTC;

pub use crate::model::{ALERTS, AS_OF, JOB_RUNS, alerts_schema, job_runs_schema};

/// One attempt of a run, as `job_runs` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The job.
    pub job: String,
    /// The day it covered.
    pub as_of: NaiveDate,
    /// The run's id (shared by its attempts).
    pub run_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// `run`, `backfill` or `schedule`.
    pub trigger: String,
    /// When the attempt started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// `succeeded`, `failed` or `no_data` (the report had no rows: nothing written).
    pub status: String,
    /// Rows written (succeeded attempts).
    pub rows: Option<i64>,
    /// Alerts raised (succeeded attempts).
    pub alerts: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The process that ran it.
    pub host: String,
}

/// One breach of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The job.
    pub job: String,
    /// Its metrics table (`metrics.baseline_daily`).
    pub table: String,
    /// The day.
    pub as_of: NaiveDate,
    /// The cell, `key=value` pairs joined with `, `.
    pub cell: String,
    /// The metric column.
    pub metric: String,
    /// Its value that day.
    pub value: f64,
    /// The baseline's mean.
    pub baseline_mean: f64,
    /// The baseline's standard deviation.
    pub baseline_sd: f64,
    /// (value - mean) / sd.
    pub z_score: f64,
    /// The band's width in standard deviations.
    pub k: f64,
    /// Days in the baseline.
    pub history_days: i64,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn timestamps(values: impl IntoIterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(values).with_timezone(UTC))
}

/// `records` as a `job_runs` batch.
pub fn run_batch(records: &[RunRecord]) -> Result<RecordBatch> {
    let text = |f: fn(&RunRecord) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(records.iter().map(f)))
    };
    Ok(RecordBatch::try_new(
        job_runs_schema(),
        vec![
            text(|r| &r.job),
            Arc::new(Date32Array::from_iter_values(
                records.iter().map(|r| days(r.as_of)),
            )),
            text(|r| &r.run_id),
            Arc::new(Int32Array::from_iter_values(
                records.iter().map(|r| r.attempt as i32),
            )),
            text(|r| &r.trigger),
            timestamps(records.iter().map(|r| micros(r.started))),
            timestamps(records.iter().map(|r| micros(r.finished))),
            text(|r| &r.status),
            Arc::new(Int64Array::from(
                records.iter().map(|r| r.rows).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                records.iter().map(|r| r.alerts).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                records.iter().map(|r| r.error.clone()).collect::<Vec<_>>(),
            )),
            text(|r| &r.host),
        ],
    )?)
}

/// `alerts` (found by run `run_id` at `detected`) as an `alerts` batch.
pub fn alert_batch(alerts: &[Alert], run_id: &str, detected: DateTime<Utc>) -> Result<RecordBatch> {
    let text = |f: fn(&Alert) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(alerts.iter().map(f)))
    };
    let num = |f: fn(&Alert) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(alerts.iter().map(f)))
    };
    Ok(RecordBatch::try_new(
        alerts_schema(),
        vec![
            text(|a| &a.job),
            text(|a| &a.table),
            Arc::new(Date32Array::from_iter_values(
                alerts.iter().map(|a| days(a.as_of)),
            )),
            text(|a| &a.cell),
            text(|a| &a.metric),
            num(|a| a.value),
            num(|a| a.baseline_mean),
            num(|a| a.baseline_sd),
            num(|a| a.z_score),
            num(|a| a.k),
            Arc::new(Int64Array::from_iter_values(
                alerts.iter().map(|a| a.history_days),
            )),
            Arc::new(StringArray::from_iter_values(
                alerts
                    .iter()
                    .map(|a| if a.z_score >= 0.0 { "above" } else { "below" }),
            )),
            Arc::new(StringArray::from_iter_values(alerts.iter().map(|_| run_id))),
            timestamps(alerts.iter().map(|_| micros(detected))),
        ],
    )?)
}

/// A job's result with its `job` and `as_of` columns in front.
pub fn with_partition_columns(
    job: &str,
    as_of: NaiveDate,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut fields = vec![
        Arc::new(Field::new("job", DataType::Utf8, false)),
        Arc::new(Field::new(AS_OF, DataType::Date32, false)),
    ];
    for f in schema.fields() {
        if f.name() == "job" || f.name() == AS_OF {
            return Err(crate::Error::Usage(format!(
                "job {job}: its query has a column {:?}, which the metrics table uses for the \
                 job and the day: rename it",
                f.name()
            )));
        }
        // Every report column may be null on another day.
        fields.push(Arc::new(f.as_ref().clone().with_nullable(true)));
    }
    let out_schema = Arc::new(Schema::new(fields));
    let out = batches
        .iter()
        .map(|b| {
            let n = b.num_rows();
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from_iter_values(std::iter::repeat_n(job, n))),
                Arc::new(Date32Array::from_iter_values(std::iter::repeat_n(
                    days(as_of),
                    n,
                ))),
            ];
            columns.extend(b.columns().iter().cloned());
            RecordBatch::try_new(Arc::clone(&out_schema), columns)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((out_schema, out))
}

/// The files a run for (`job`, `as_of`) replaces: its earlier result in `table` and its
/// earlier alerts.
pub fn replaced(
    files: &[DataFile],
    alert_files: &[DataFile],
    job: &str,
    as_of: NaiveDate,
) -> Vec<String> {
    let day = as_of.to_string();
    files
        .iter()
        .chain(alert_files)
        .filter(|f| {
            f.partition.get("job").map(String::as_str) == Some(job)
                && f.partition.get(AS_OF) == Some(&day)
        })
        .map(|f| f.path.clone())
        .collect()
}
