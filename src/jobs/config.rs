//! The jobs file: which queries run on which schedule, feeding which metrics table.
//!
//! ```toml
//! [[job]]
//! name = "baseline_daily"
//! report = "baseline"             # a shipped report (or sql = "my_query.sql", same header)
//! table = "metrics.baseline_daily"
//! schedule = "15 6 * * *"          # cron, in `timezone`
//! timezone = "UTC"
//! as_of = "previous_day"           # the day a scheduled run covers (or "same_day")
//! window_days = 1                  # the window: the window_days days ending with the as-of day
//! params = { channel = "twitter" } # the query's other parameters
//! retries = 3                      # failed attempts are retried, after 30 s, 60 s, 120 s
//! retry_backoff_seconds = 30
//! lock_ttl_seconds = 600           # a crashed run's lock expires after this
//!
//! [job.alert]                      # compare each run with the trailing baseline
//! keys = ["brand", "channel", "stage"]
//! metrics = ["customer_posts", "mean_sentiment"]
//! k = 3.0                          # a breach: beyond mean +- k sigma
//! baseline_days = 28               # of the as-of days before this one
//! min_history = 7                  # days the key needs in the baseline
//! weight = "customer_posts"        # judge a key only when this column reaches min_weight
//! min_weight = 20
//! ```
//!
//! The window sets the query's `from` and `to` parameters (timestamps), so the query must
//! declare both; a `sql` path is relative to the jobs file. The shipped file is
//! `queries/jobs.toml`; `--jobs FILE` (or `SOCIALCX_JOBS`) replaces it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::schedule::{AsOf, Schedule};
use crate::config::{load_toml, parse_toml};
use crate::reports::{ParamType, Report};
use crate::{Error, Result};

/// The shipped jobs file.
pub const SHIPPED_JOBS: &str = include_str!("../../queries/jobs.toml");

/// The schema metrics tables live in (`metrics.baseline_daily`).
pub const METRICS_SCHEMA: &str = "metrics";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsFile {
    #[serde(rename = "job", default)]
    jobs: Vec<JobSpec>,
}

/// One `[[job]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobSpec {
    name: String,
    report: Option<String>,
    sql: Option<PathBuf>,
    table: String,
    schedule: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default)]
    as_of: AsOf,
    #[serde(default = "one")]
    window_days: u32,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default = "three")]
    retries: u32,
    #[serde(default = "thirty")]
    retry_backoff_seconds: u64,
    #[serde(default = "ten_minutes")]
    lock_ttl_seconds: u64,
    alert: Option<AlertSpec>,
}

fn utc() -> String {
    "UTC".into()
}
fn one() -> u32 {
    1
}
fn three() -> u32 {
    3
}
fn thirty() -> u64 {
    30
}
fn ten_minutes() -> u64 {
    600
}
fn three_sigma() -> f64 {
    3.0
}
fn four_weeks() -> u32 {
    28
}
fn a_week() -> u32 {
    7
}

/// How a job compares its result with the trailing baseline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSpec {
    /// The columns that identify a cell (a row of the result).
    pub keys: Vec<String>,
    /// The numeric columns to watch.
    pub metrics: Vec<String>,
    /// A breach lies beyond mean +- k standard deviations.
    #[serde(default = "three_sigma")]
    pub k: f64,
    /// How many as-of days before this one form the baseline.
    #[serde(default = "four_weeks")]
    pub baseline_days: u32,
    /// Days of history a cell needs before it can breach.
    #[serde(default = "a_week")]
    pub min_history: u32,
    /// A column (e.g. `customer_posts`) a cell must reach `min_weight` in, this day, to be
    /// judged: a mean over three posts is not news.
    pub weight: Option<String>,
    /// See `weight`.
    #[serde(default)]
    pub min_weight: f64,
}

/// A job, checked: its query, schedule and target.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// The query it runs.
    pub report: Report,
    /// The metrics table it feeds, without the schema (`baseline_daily`).
    pub table: String,
    /// When it runs.
    pub schedule: Schedule,
    /// Which day a scheduled run covers.
    pub as_of: AsOf,
    /// How many days the window covers, ending with the as-of day.
    pub window_days: u32,
    /// The query's other parameters (name, value).
    pub params: Vec<(String, String)>,
    /// Retries after a failed attempt.
    pub retries: u32,
    /// The first retry's delay; each next one doubles it.
    pub retry_backoff: std::time::Duration,
    /// How long a lock lives without being renewed.
    pub lock_ttl: std::time::Duration,
    /// The baseline comparison, if any.
    pub alert: Option<AlertSpec>,
}

impl Job {
    /// The lake table name of its metrics table (`metrics.baseline_daily`).
    pub fn qualified_table(&self) -> String {
        format!("{METRICS_SCHEMA}.{}", self.table)
    }

    /// The query's parameters for the run covering `as_of`: the window's `from` and `to`,
    /// then the job's own.
    pub fn values(&self, as_of: chrono::NaiveDate) -> Vec<(String, String)> {
        let (from, to) = self.schedule.window(as_of, self.window_days);
        let mut values = vec![
            ("from".to_string(), from.to_rfc3339()),
            ("to".to_string(), to.to_rfc3339()),
        ];
        values.extend(self.params.iter().cloned());
        values
    }
}

/// The jobs of a file, in file order.
#[derive(Debug, Clone)]
pub struct Jobs {
    /// Where they came from (for messages).
    pub origin: String,
    /// The jobs.
    pub jobs: Vec<Job>,
}

impl Jobs {
    /// The shipped jobs (`queries/jobs.toml`).
    ///
    /// ```
    /// let jobs = socialcx::jobs::config::Jobs::shipped();
    /// assert_eq!(jobs.find("baseline_daily").unwrap().table, "baseline_daily");
    /// ```
    pub fn shipped() -> Jobs {
        Jobs::parse(SHIPPED_JOBS, "queries/jobs.toml", None)
            .expect("the shipped jobs file is valid")
    }

    /// The file at `path`, or the shipped jobs when `None`.
    pub fn load(path: Option<&Path>) -> Result<Jobs> {
        let Some(path) = path else {
            return Ok(Jobs::shipped());
        };
        let file: JobsFile = load_toml(path)?;
        Jobs::from_file(file, &path.display().to_string(), path.parent())
    }

    /// Parse a jobs file; `origin` names it in errors, `dir` resolves `sql` paths.
    ///
    /// ```
    /// let jobs = socialcx::jobs::config::Jobs::parse(
    ///     "[[job]]\nname = \"d\"\nreport = \"baseline\"\ntable = \"metrics.d\"\nschedule = \"0 6 * * *\"\n",
    ///     "jobs.toml", None).unwrap();
    /// assert_eq!(jobs.jobs[0].window_days, 1);
    /// ```
    pub fn parse(text: &str, origin: &str, dir: Option<&Path>) -> Result<Jobs> {
        Jobs::from_file(parse_toml(text, origin)?, origin, dir)
    }

    /// The jobs of a parsed file, each checked.
    fn from_file(file: JobsFile, origin: &str, dir: Option<&Path>) -> Result<Jobs> {
        let mut jobs: Vec<Job> = Vec::new();
        for spec in file.jobs {
            let job = check(spec, dir).map_err(|message| Error::config(origin, message))?;
            if jobs.iter().any(|j| j.name == job.name) {
                return Err(Error::config(
                    origin,
                    format!("two jobs are called {:?}", job.name),
                ));
            }
            jobs.push(job);
        }
        Ok(Jobs {
            origin: origin.to_string(),
            jobs,
        })
    }

    /// The job called `name`.
    pub fn find(&self, name: &str) -> Result<&Job> {
        self.jobs.iter().find(|j| j.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.jobs.iter().map(|j| j.name.as_str()).collect();
            Error::Usage(format!(
                "no job {name:?} in {}; its jobs are {} (socialcx jobs list)",
                self.origin,
                names.join(", ")
            ))
        })
    }
}

/// Whether `name` is a plain SQL identifier (letters, digits, `_`; not starting with a digit).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check(spec: JobSpec, dir: Option<&Path>) -> std::result::Result<Job, String> {
    let name = spec.name.clone();
    let fail = |m: String| format!("job {name:?}: {m}");
    if !is_identifier(&name) {
        return Err(fail(
            "a job name is lower-case letters, digits and _".into(),
        ));
    }
    let report = match (&spec.report, &spec.sql) {
        (Some(r), None) => crate::reports::find(r).map_err(|e| fail(e.to_string()))?,
        (None, Some(path)) => {
            let path = match dir {
                Some(d) if path.is_relative() => d.join(path),
                _ => path.clone(),
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            Report::parse(&path.display().to_string(), &text).map_err(|e| fail(e.to_string()))?
        }
        _ => {
            return Err(fail(
                "give either report = \"NAME\" or sql = \"FILE.sql\"".into(),
            ));
        }
    };
    for window in ["from", "to"] {
        match report.params.iter().find(|p| p.name == window) {
            Some(p) if p.kind == ParamType::Timestamp => {}
            _ => {
                return Err(fail(format!(
                    "its query {} must declare a timestamp parameter `{window}`: the job's \
                     window sets it",
                    report.name
                )));
            }
        }
    }
    let table = spec
        .table
        .strip_prefix(&format!("{METRICS_SCHEMA}."))
        .filter(|t| is_identifier(t))
        .ok_or_else(|| {
            fail(format!(
                "table {:?}: write metrics.NAME (lower-case letters, digits, _)",
                spec.table
            ))
        })?
        .to_string();
    let schedule = Schedule::parse(&spec.schedule, &spec.timezone).map_err(&fail)?;
    if spec.window_days == 0 || spec.window_days > 366 {
        return Err(fail("window_days is 1 to 366".into()));
    }
    let mut params = Vec::new();
    for (key, value) in &spec.params {
        if key == "from" || key == "to" {
            return Err(fail(format!(
                "params.{key}: the window sets it (as_of, window_days)"
            )));
        }
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                return Err(fail(format!(
                    "params.{key}: {other:?} is not a single value"
                )));
            }
        };
        params.push((key.clone(), text));
    }
    // Bind once now, so a wrong parameter name or value fails when the file loads.
    report.bind(&params).map_err(|e| fail(e.to_string()))?;
    if let Some(alert) = &spec.alert {
        if alert.keys.is_empty() || alert.metrics.is_empty() {
            return Err(fail("alert: name its keys and metrics".into()));
        }
        if !(alert.k.is_finite() && alert.k > 0.0) {
            return Err(fail("alert.k must be a positive number".into()));
        }
        if alert.min_history < 2 || alert.baseline_days < alert.min_history {
            return Err(fail(
                "alert: min_history is at least 2 and at most baseline_days".into(),
            ));
        }
    }
    if spec.lock_ttl_seconds == 0 {
        return Err(fail("lock_ttl_seconds must be positive".into()));
    }
    Ok(Job {
        name: spec.name,
        report,
        table,
        schedule,
        as_of: spec.as_of,
        window_days: spec.window_days,
        params,
        retries: spec.retries,
        retry_backoff: std::time::Duration::from_secs(spec.retry_backoff_seconds),
        lock_ttl: std::time::Duration::from_secs(spec.lock_ttl_seconds),
        alert: spec.alert,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[[job]]\nname = \"d\"\nreport = \"baseline\"\ntable = \"metrics.d\"\nschedule = \"0 6 * * *\"\n";

    fn error(text: &str) -> String {
        Jobs::parse(text, "jobs.toml", None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn mistakes_name_the_job_and_the_field() {
        assert!(error(&BASE.replace("metrics.d", "d")).contains("metrics.NAME"));
        assert!(error(&BASE.replace("0 6 * * *", "0 6 * *")).contains("schedule"));
        assert!(error(&format!("{BASE}timezone = \"Nowhere\"\n")).contains("IANA"));
        assert!(error(&format!("{BASE}params = {{ from = \"2026-01-01\" }}\n")).contains("window"));
        assert!(error(&format!("{BASE}params = {{ chanel = \"x\" }}\n")).contains("chanel"));
        assert!(error(&BASE.replace("baseline", "influencerz")).contains("influencerz"));
        assert!(error(&format!("{BASE}colour = 1\n")).contains("colour"));
        assert!(error(&format!("{BASE}{BASE}")).contains("two jobs"));
        assert!(
            error(&format!(
                "{BASE}[job.alert]\nkeys = [\"brand\"]\nmetrics = [\"x\"]\nmin_history = 1\n"
            ))
            .contains("min_history")
        );
    }

    #[test]
    fn the_window_sets_from_and_to() {
        let jobs = Jobs::parse(
            &format!("{BASE}window_days = 7\nparams = {{ channel = \"forum\" }}\n"),
            "j",
            None,
        )
        .unwrap();
        let values = jobs.jobs[0].values("2026-01-15".parse().unwrap());
        assert_eq!(
            values,
            [
                ("from".to_string(), "2026-01-09T00:00:00+00:00".to_string()),
                ("to".to_string(), "2026-01-16T00:00:00+00:00".to_string()),
                ("channel".to_string(), "forum".to_string()),
            ]
        );
    }
}
