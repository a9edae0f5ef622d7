//! What a cluster is doing, from its scheduler's REST API: its versions, its executors,
//! its jobs.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The Ballista and DataFusion versions a scheduler runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Versions {
    /// Ballista's version.
    pub version: String,
    /// DataFusion's version.
    pub datafusion_version: String,
}

impl Versions {
    /// The versions this build of socialcx was made with.
    ///
    /// ```
    /// let ours = socialcx::cluster::status::Versions::ours();
    /// assert!(ours.version.starts_with("55."));
    /// ```
    pub fn ours() -> Versions {
        // With SOCIALCX_TEST_CLAIMED_VERSIONS=BALLISTA/DATAFUSION, claim those instead, as a
        // build of other versions would (`test-hooks` builds only).
        #[cfg(feature = "test-hooks")]
        if let Some((ballista, datafusion)) = std::env::var("SOCIALCX_TEST_CLAIMED_VERSIONS")
            .ok()
            .as_deref()
            .and_then(|claimed| claimed.split_once('/'))
        {
            return Versions {
                version: ballista.to_string(),
                datafusion_version: datafusion.to_string(),
            };
        }
        Versions {
            version: ballista_core::BALLISTA_VERSION.to_string(),
            datafusion_version: datafusion::DATAFUSION_VERSION.to_string(),
        }
    }
}

/// One executor registered with the scheduler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutorStatus {
    /// Its id, chosen when it started.
    pub id: String,
    /// The host others reach it at.
    pub host: String,
    /// Its Flight port.
    pub port: u16,
    /// Milliseconds since its last heartbeat, when it has sent one.
    pub last_seen: Option<u64>,
    /// Its slots.
    pub specification: Specification,
}

/// An executor's resources.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Specification {
    /// Tasks it runs at once.
    pub vcores: u32,
}

/// One job the scheduler knows of (running, or recently ended).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobStatus {
    /// Its id.
    pub job_id: String,
    /// `Queued`, `Running`, `Completed`, `Failed` or `Invalid`.
    pub status: String,
    /// The status with its detail (a failure's error).
    pub job_status: String,
    /// Stages in the job.
    pub num_stages: usize,
    /// Stages finished.
    pub completed_stages: usize,
    /// Milliseconds since the epoch it started.
    pub start_time: u64,
    /// Milliseconds since the epoch it ended (0 while it runs).
    pub end_time: u64,
}

/// A cluster's state, as its scheduler reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// The scheduler's URL (`df://HOST:PORT`).
    pub url: String,
    /// What it runs.
    pub versions: Versions,
    /// The executors it has.
    pub executors: Vec<ExecutorStatus>,
    /// Its jobs, the latest first.
    pub jobs: Vec<JobStatus>,
}

/// Ask the scheduler at `url` (`df://HOST:PORT`) for its versions, executors and jobs.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let status = socialcx::cluster::status::status("df://127.0.0.1:50050").await?;
/// println!("{} executors", status.executors.len());
/// # Ok(()) }
/// ```
pub async fn status(url: &str) -> Result<ClusterStatus> {
    let base = rest_base(url)?;
    let mut jobs: Vec<JobStatus> = get(url, &base, "jobs").await?;
    jobs.sort_by_key(|job| std::cmp::Reverse(job.start_time));
    Ok(ClusterStatus {
        url: url.to_string(),
        versions: get(url, &base, "version").await?,
        executors: get(url, &base, "executors").await?,
        jobs,
    })
}

/// The versions the scheduler at `url` runs.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let versions = socialcx::cluster::status::versions("df://127.0.0.1:50050").await?;
/// # Ok(()) }
/// ```
pub async fn versions(url: &str) -> Result<Versions> {
    get(url, &rest_base(url)?, "version").await
}

/// The executors registered with the scheduler at `url`.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let executors = socialcx::cluster::status::executors("df://127.0.0.1:50050").await?;
/// let slots: u32 = executors.iter().map(|e| e.specification.vcores).sum();
/// # Ok(()) }
/// ```
pub async fn executors(url: &str) -> Result<Vec<ExecutorStatus>> {
    get(url, &rest_base(url)?, "executors").await
}

fn rest_base(url: &str) -> Result<String> {
    let (host, port) = super::parse_url(url)?;
    Ok(format!("http://{host}:{port}/api"))
}

async fn get<T: serde::de::DeserializeOwned>(url: &str, base: &str, what: &str) -> Result<T> {
    let unreachable = |e: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "the cluster's scheduler at {url} cannot be reached ({e}): is `socialcx cluster scheduler` running there?"
        ))
    };
    let response = reqwest::Client::new()
        .get(format!("{base}/{what}"))
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| unreachable(&e))?;
    if !status.is_success() {
        return Err(Error::Usage(format!(
            "the scheduler at {url} answered {status} to /api/{what}: {}",
            body.chars().take(200).collect::<String>()
        )));
    }
    serde_json::from_str(&body).map_err(|e| {
        Error::Usage(format!(
            "the scheduler at {url} answered /api/{what} with what this socialcx does not read ({e}): is it a socialcx cluster scheduler?"
        ))
    })
}

impl ClusterStatus {
    /// The executors as a table: id, address, slots, milliseconds since its heartbeat.
    ///
    /// ```
    /// use socialcx::cluster::status::{ClusterStatus, Versions};
    /// let status = ClusterStatus { url: "df://h:1".into(), versions: Versions::ours(),
    ///     executors: vec![], jobs: vec![] };
    /// assert_eq!(status.executors_batch().num_rows(), 0);
    /// ```
    pub fn executors_batch(&self) -> RecordBatch {
        let e = &self.executors;
        batch(vec![
            ("executor", strings(e.iter().map(|x| x.id.clone()))),
            (
                "address",
                strings(e.iter().map(|x| format!("{}:{}", x.host, x.port))),
            ),
            (
                "slots",
                numbers(e.iter().map(|x| Some(u64::from(x.specification.vcores)))),
            ),
            ("last_seen_ms", numbers(e.iter().map(|x| x.last_seen))),
        ])
    }

    /// The jobs as a table, the latest first: id, status, stages done of all, duration in
    /// milliseconds (so far, for one still running), and the detail of a failed one.
    ///
    /// ```
    /// use socialcx::cluster::status::{ClusterStatus, Versions};
    /// let status = ClusterStatus { url: "df://h:1".into(), versions: Versions::ours(),
    ///     executors: vec![], jobs: vec![] };
    /// assert_eq!(status.jobs_batch().num_columns(), 5);
    /// ```
    pub fn jobs_batch(&self) -> RecordBatch {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let j = &self.jobs;
        batch(vec![
            ("job", strings(j.iter().map(|x| x.job_id.clone()))),
            ("status", strings(j.iter().map(|x| x.status.clone()))),
            (
                "stages",
                strings(
                    j.iter()
                        .map(|x| format!("{}/{}", x.completed_stages, x.num_stages)),
                ),
            ),
            (
                "duration_ms",
                numbers(j.iter().map(|x| {
                    let end = if x.end_time == 0 { now } else { x.end_time };
                    Some(end.saturating_sub(x.start_time))
                })),
            ),
            (
                "detail",
                strings(j.iter().map(|x| {
                    if x.status == "Failed" {
                        x.job_status.clone()
                    } else {
                        String::new()
                    }
                })),
            ),
        ])
    }
}

fn strings(values: impl Iterator<Item = String>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<StringArray>())
}

fn numbers(values: impl Iterator<Item = Option<u64>>) -> ArrayRef {
    Arc::new(values.collect::<UInt64Array>())
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, array)| {
                Field::new(
                    *name,
                    array.data_type().clone(),
                    *array.data_type() == DataType::UInt64,
                )
            })
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("columns of one length, typed as their fields")
}
