//! Scheduled baseline metric jobs: a query run for an as-of day, its result kept as a
//! partition of a metrics table in the lake, every run recorded, breaches of the baseline
//! raised as alerts.
//!
//! * [`config`]: the jobs file (TOML): query, parameters, schedule, window, table, alerts;
//! * [`schedule`]: cron expressions in a time zone, and the day a run covers;
//! * [`lock`]: one run of a job at a time, through a lease on the object store;
//! * [`history`]: the `metrics.*`, `job_runs` and `alerts` tables;
//! * [`alerts`]: a result against its trailing baseline.
//!
//! A run ([`run`]) takes the job's lock, runs the query with the window's `from` and `to`,
//! writes the result as a new file, and commits in one step: the new file in, the partition's
//! previous file (and alerts) out, the run's record and new alerts in. Readers see the old
//! partition or the new one, never both or half of one; a run that fails or is killed
//! before that commit leaves the previous result in place. Failed attempts are recorded and
//! retried with exponential backoff.
//!
//! ```no_run
//! # async fn f() -> socialcx::Result<()> {
//! use socialcx::jobs::{Trigger, config::Jobs, run};
//! let engine = socialcx::open("./lake").await?;
//! let jobs = Jobs::shipped();
//! let job = jobs.find("baseline_daily")?;
//! let outcome = run(&engine, job, "2026-01-15".parse().unwrap(), Trigger::Run).await?;
//! println!("{} rows, {} alerts", outcome.rows, outcome.alerts.len());
//! # Ok(()) }
//! ```

pub mod alerts;
pub mod config;
pub mod history;
pub mod lock;
pub mod schedule;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use tokio::sync::Mutex;

use crate::lake;
use crate::lake::table::TableDef;
use crate::lake::transaction::{Partition, Transaction, new_id};
use crate::{Engine, Error, Result};
use config::Job;
use history::{ALERTS, AS_OF, Alert, JOB_RUNS, RunRecord};
use lock::JobLock;

/// What started a run (recorded in `job_runs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `socialcx jobs run` (or an external cron).
    Run,
    /// `socialcx jobs backfill`.
    Backfill,
    /// `socialcx jobs schedule`.
    Schedule,
}

impl Trigger {
    fn name(self) -> &'static str {
        match self {
            Trigger::Run => "run",
            Trigger::Backfill => "backfill",
            Trigger::Schedule => "schedule",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The day it covered.
    pub as_of: NaiveDate,
    /// Rows of the result (0 when it failed).
    pub rows: usize,
    /// The breaches it found.
    pub alerts: Vec<Alert>,
    /// How its cells fared against their baselines (`None`: the job has no alerts, or the
    /// run found no data or failed).
    pub checked: Option<alerts::Checked>,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's error; `None` when the run succeeded.
    pub error: Option<String>,
    /// The report had no rows for the period: nothing was written (an earlier result for
    /// the day stays) and the run is recorded with status `no_data`.
    pub no_data: bool,
}

impl Outcome {
    /// Whether the run succeeded.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Run `job` for `as_of` now: take its lock (an error names the holder when another run
/// has it), attempt up to 1 + retries times, release the lock. Returns the outcome; an
/// `Err` means the run could not start or record itself.
pub async fn run(
    engine: &Engine,
    job: &Job,
    as_of: NaiveDate,
    trigger: Trigger,
) -> Result<Outcome> {
    let store = Arc::clone(engine.lake().store());
    let lock = match JobLock::acquire(store, &job.name, job.lock_ttl).await? {
        Ok(lock) => Arc::new(Mutex::new(lock)),
        Err(held) => {
            return Err(Error::Busy {
                job: job.name.clone(),
                owner: held.owner,
                until: held.expires.to_rfc3339(),
            });
        }
    };
    // Renew the lease while the run goes on (a third of the TTL apart).
    let renewer = {
        let lock = Arc::clone(&lock);
        let every = job.lock_ttl / 3;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = lock.lock().await.renew().await {
                    tracing::warn!("{e}");
                    return;
                }
            }
        })
    };
    let run_id = format!("{}-{}", new_id(), job.name);
    let host = lock::owner_id();
    let mut outcome = Outcome {
        as_of,
        rows: 0,
        alerts: Vec::new(),
        checked: None,
        attempts: 0,
        error: None,
        no_data: false,
    };
    let attempts = job.retries + 1;
    let result = async {
        for attempt in 1..=attempts {
            outcome.attempts = attempt;
            let started = Utc::now();
            let record = |status: &str, rows: Option<i64>, alerts: Option<i64>, error: Option<String>| RunRecord {
                job: job.name.clone(),
                as_of,
                run_id: run_id.clone(),
                attempt,
                trigger: trigger.name().into(),
                started,
                finished: Utc::now(),
                status: status.into(),
                rows,
                alerts,
                error,
                host: host.clone(),
            };
            match attempt_once(engine, job, as_of, &run_id, attempt, &lock, &record).await {
                Ok(None) => {
                    outcome.no_data = true;
                    outcome.error = None;
                    return Ok(());
                }
                Ok(Some((rows, alerts, checked))) => {
                    for a in &alerts {
                        tracing::warn!(
                            target: "socialcx::jobs::alert",
                            job = %job.name, as_of = %as_of, cell = %a.cell, metric = %a.metric,
                            value = a.value, baseline_mean = a.baseline_mean, z = a.z_score,
                            "baseline breach"
                        );
                    }
                    if let Some(checked) = &checked {
                        tracing::info!(job = %job.name, as_of = %as_of, "{}", checked.describe());
                    }
                    outcome.rows = rows;
                    outcome.alerts = alerts;
                    outcome.checked = checked;
                    outcome.error = None;
                    return Ok(());
                }
                Err(e) => {
                    let message = e.to_string();
                    tracing::warn!(job = %job.name, as_of = %as_of, attempt, "run failed: {message}");
                    outcome.error = Some(message.clone());
                    let failed = record("failed", None, None, Some(message));
                    commit_record(engine, &failed, &run_id).await?;
                    if attempt < attempts {
                        let delay = job.retry_backoff.saturating_mul(1 << (attempt - 1).min(16));
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    renewer.abort();
    let _ = renewer.await;
    if let Ok(lock) = Arc::try_unwrap(lock).map(Mutex::into_inner)
        && let Err(e) = lock.release().await
    {
        tracing::warn!(
            "job {}: cannot release its lock (it expires by itself): {e}",
            job.name
        );
    }
    result.map(|()| outcome)
}

/// Builds an attempt's record: (status, rows, alerts, error).
type RecordFn<'a> = dyn Fn(&str, Option<i64>, Option<i64>, Option<String>) -> RunRecord + 'a;

/// One attempt: query, alerts, write, commit. Returns (rows, alerts, how the cells fared),
/// or `None` when the report has no rows for the period: then only the run's record is
/// committed (an empty partition would read as a day of zero activity, and replace a real
/// one).
async fn attempt_once(
    engine: &Engine,
    job: &Job,
    as_of: NaiveDate,
    run_id: &str,
    attempt: u32,
    lock: &Mutex<JobLock>,
    record: &RecordFn<'_>,
) -> Result<Option<(usize, Vec<Alert>, Option<alerts::Checked>)>> {
    let values = job.values(as_of);
    let df = job.report.plan(engine, &values).await?;
    let schema = df.schema().as_arrow().clone();
    let batches = engine.collect(df).await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        let mut tx = engine.lake().begin("job_run");
        write_record(&mut tx, &record("no_data", Some(0), Some(0), None)).await?;
        tx.set_summary(serde_json::json!({
            "job": job.name, "run_id": run_id, "as_of": as_of.to_string(),
            "attempt": attempt, "status": "no_data",
        }));
        lock.lock().await.check().await?;
        tx.commit().await?;
        return Ok(None);
    }
    let (alerts, checked) = alerts::check(engine, job, as_of, &batches).await?;
    let (schema, batches) = history::with_partition_columns(&job.name, as_of, &schema, &batches)?;
    let lake = engine.lake();
    let table = job.qualified_table();
    let day = as_of.to_string();
    let mut tx = lake.begin("job");
    let result_def = TableDef {
        name: table.clone(),
        schema,
        partition_column: None,
        time_column: None,
    };
    let result_partition = Partition::value(AS_OF, day.clone()).with_key("job", job.name.clone());
    tx.write(&result_def, result_partition, batches).await?;
    if !alerts.is_empty() {
        let batch = history::alert_batch(&alerts, run_id, Utc::now())?;
        let def = lake::table(ALERTS).expect("a lake table");
        let partition = Partition::none()
            .with_key("job", job.name.clone())
            .with_key(AS_OF, day.clone());
        tx.write(&def, partition, vec![batch]).await?;
    }
    let done = record(
        "succeeded",
        Some(rows as i64),
        Some(alerts.len() as i64),
        None,
    );
    write_record(&mut tx, &done).await?;
    // The lock must still be ours: a run whose lease ran out must not overwrite a newer one.
    lock.lock().await.check().await?;
    let snapshot = lake.snapshot().await?;
    tx.remove(history::replaced(
        snapshot.files(&table),
        snapshot.files(ALERTS),
        &job.name,
        as_of,
    ));
    tx.set_summary(serde_json::json!({
        "job": job.name, "run_id": run_id, "as_of": day, "rows": rows,
        "alerts": alerts.len(), "attempt": attempt,
    }));
    tx.commit().await?;
    Ok(Some((rows, alerts, checked)))
}

/// Write a run record's file in `tx` (not yet committed).
async fn write_record(tx: &mut Transaction, record: &RunRecord) -> Result<()> {
    let batch = history::run_batch(std::slice::from_ref(record))?;
    let def = lake::table(JOB_RUNS).expect("a lake table");
    tx.write(
        &def,
        Partition::none().with_key("job", record.job.clone()),
        vec![batch],
    )
    .await?;
    Ok(())
}

/// Record a failed attempt on its own.
async fn commit_record(engine: &Engine, record: &RunRecord, run_id: &str) -> Result<()> {
    let mut tx = engine.lake().begin("job_run");
    write_record(&mut tx, record).await?;
    tx.set_summary(serde_json::json!({
        "job": record.job, "run_id": run_id, "attempt": record.attempt, "status": record.status,
    }));
    tx.commit().await?;
    Ok(())
}
