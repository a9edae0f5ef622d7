//! Alerts against the baseline: a run's result, cell by cell, against the same job's
//! results of the days before.
//!
//! For each cell of the new result (a row, named by the alert's `keys`) and each watched
//! metric, the baseline is that cell's values over the `baseline_days` as-of days before
//! this one that have it. A cell needs `min_history` of them; when `weight` is set, the cell
//! must also reach `min_weight` in that column today. The cell breaches when its value lies
//! beyond mean +- k x the sample standard deviation (a baseline with no spread never
//! breaches). Days on which a cell had no row are not in its baseline, so for sparse cells
//! the baseline of a count is the mean of the days it was seen.

use std::collections::HashMap;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use super::config::{AlertSpec, Job};
use super::history::{AS_OF, Alert};
use crate::{Engine, Error, Result};

/// A batch's cells: key text -> the row's metric values (by metric index) and weight.
struct Cells {
    rows: Vec<(String, Vec<Option<f64>>, Option<f64>)>,
}

fn column_text(batch: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| Error::Usage(format!("alert key {name:?} is not a column of the result")))?;
    let text = cast(column, &DataType::Utf8)?;
    Ok(text
        .as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn column_numbers(batch: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    let column = batch.column_by_name(name).ok_or_else(|| {
        Error::Usage(format!(
            "alert metric {name:?} is not a column of the result"
        ))
    })?;
    let numbers = cast(column, &DataType::Float64).map_err(|_| {
        Error::Usage(format!(
            "alert metric {name:?} is not numeric ({})",
            column.data_type()
        ))
    })?;
    Ok(numbers
        .as_primitive::<Float64Type>()
        .iter()
        .map(|v| v.filter(|f| f.is_finite()))
        .collect())
}

impl Cells {
    fn read(batches: &[RecordBatch], spec: &AlertSpec) -> Result<Cells> {
        let mut rows = Vec::new();
        for batch in batches {
            let keys = spec
                .keys
                .iter()
                .map(|k| column_text(batch, k))
                .collect::<Result<Vec<_>>>()?;
            let metrics = spec
                .metrics
                .iter()
                .map(|m| column_numbers(batch, m))
                .collect::<Result<Vec<_>>>()?;
            let weight = spec
                .weight
                .as_deref()
                .map(|w| column_numbers(batch, w))
                .transpose()?;
            for i in 0..batch.num_rows() {
                let cell = spec
                    .keys
                    .iter()
                    .zip(&keys)
                    .map(|(k, v)| format!("{k}={}", v[i]))
                    .collect::<Vec<_>>()
                    .join(", ");
                let values = metrics.iter().map(|m| m[i]).collect();
                rows.push((cell, values, weight.as_ref().and_then(|w| w[i])));
            }
        }
        Ok(Cells { rows })
    }
}

/// How a run's cells fared against their baselines: why it raised its alerts, or none.
/// Each cell (a row of the result) is counted once, at the first test it fails: `light`
/// (below `min_weight` today), `new` (no history at all), `short` (no metric with a value
/// and `min_history` days), `flat` (its baselines have no spread), `within` (every judged
/// metric inside mean +- k sigma), `breached` (at least one beyond).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    /// Cells of the result.
    pub cells: usize,
    /// Cells below `min_weight` in the weight column.
    pub light: usize,
    /// Cells with no row in the baseline's days.
    pub new: usize,
    /// Cells with history, but no metric with a value and `min_history` days of it.
    pub short: usize,
    /// Cells whose judged metrics all have a baseline without spread.
    pub flat: usize,
    /// Cells judged, every metric within mean +- k sigma.
    pub within: usize,
    /// Cells with at least one breach.
    pub breached: usize,
    /// The largest |z| judged: (z, cell, metric).
    pub largest: Option<(f64, String, String)>,
    /// The alert's settings, for the words.
    pub k: f64,
    /// See `k`.
    pub min_history: u32,
    /// See `k` (`None`: no weight column).
    pub weight: Option<(String, f64)>,
}

impl Checked {
    /// The check in a line: how many cells were judged and why the others were not, and the
    /// largest |z| found.
    ///
    /// ```
    /// use socialcx::jobs::alerts::Checked;
    /// let c = Checked { cells: 214, light: 190, within: 24, k: 3.0, min_history: 14,
    ///     weight: Some(("customer_posts".into(), 20.0)),
    ///     largest: Some((-2.1, "brand=Voltix, channel=twitter, stage=service".into(), "mean_sentiment".into())),
    ///     ..Default::default() };
    /// assert_eq!(c.describe(), "no alert: 214 cells checked, 190 below min_weight=20 (customer_posts), \
    ///     24 within k=3 sigma; largest |z| 2.1 (z = -2.10) in brand=Voltix, channel=twitter, stage=service (mean_sentiment)");
    /// ```
    pub fn describe(&self) -> String {
        let mut text = match self.breached {
            0 => "no alert".to_string(),
            n => format!("{n} cell{} beyond k={} sigma", plural(n), self.k),
        };
        text.push_str(&format!(
            ": {} cell{} checked",
            self.cells,
            plural(self.cells)
        ));
        let mut parts = Vec::new();
        if let Some((column, min)) = &self.weight
            && self.light > 0
        {
            parts.push(format!("{} below min_weight={min} ({column})", self.light));
        }
        if self.new > 0 {
            parts.push(format!("{} without history", self.new));
        }
        if self.short > 0 {
            parts.push(format!(
                "{} with fewer than min_history={} days",
                self.short, self.min_history
            ));
        }
        if self.flat > 0 {
            parts.push(format!("{} with a flat baseline", self.flat));
        }
        if self.within > 0 {
            parts.push(format!("{} within k={} sigma", self.within, self.k));
        }
        for part in parts {
            text.push_str(", ");
            text.push_str(&part);
        }
        match &self.largest {
            Some((z, cell, metric)) => text.push_str(&format!(
                "; largest |z| {:.1} (z = {z:+.2}) in {cell} ({metric})",
                z.abs()
            )),
            None if self.cells > 0 => text.push_str("; no cell could be judged"),
            None => {}
        }
        text
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The breaches of `result` (the job's rows for `as_of`, with or without the partition
/// columns) against the job's history in its metrics table.
pub async fn breaches(
    engine: &Engine,
    job: &Job,
    as_of: NaiveDate,
    result: &[RecordBatch],
) -> Result<Vec<Alert>> {
    Ok(check(engine, job, as_of, result).await?.0)
}

/// [`breaches`], and how every cell fared ([`Checked`]; `None` for a job without alerts).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine, result: Vec<datafusion::arrow::array::RecordBatch>) -> socialcx::Result<()> {
/// let jobs = socialcx::jobs::config::Jobs::shipped();
/// let job = jobs.find("baseline_daily")?;
/// let (alerts, checked) = socialcx::jobs::alerts::check(&engine, job, "2026-01-15".parse().unwrap(), &result).await?;
/// if alerts.is_empty() {
///     println!("{}", checked.unwrap().describe());
/// }
/// # Ok(()) }
/// ```
pub async fn check(
    engine: &Engine,
    job: &Job,
    as_of: NaiveDate,
    result: &[RecordBatch],
) -> Result<(Vec<Alert>, Option<Checked>)> {
    let Some(spec) = &job.alert else {
        return Ok((Vec::new(), None));
    };
    let today = Cells::read(result, spec)?;
    let mut seen = std::collections::HashSet::new();
    if let Some((cell, _, _)) = today
        .rows
        .iter()
        .find(|(cell, _, _)| !seen.insert(cell.as_str()))
    {
        return Err(Error::Usage(format!(
            "job {}: the alert keys ({}) do not identify a row: {cell} appears twice",
            job.name,
            spec.keys.join(", ")
        )));
    }
    let first = as_of - chrono::Duration::days(i64::from(spec.baseline_days));
    let history = match engine
        .sql(&format!(
            "SELECT * FROM {} WHERE job = '{}' AND {AS_OF} >= DATE '{first}' AND {AS_OF} < DATE '{as_of}'",
            job.qualified_table(),
            job.name
        ))
        .await
    {
        Ok(df) => engine.collect(df).await?,
        // No history yet: the table does not exist before the job's first run.
        Err(Error::Query(e)) if e.to_string().contains("not found") => Vec::new(),
        Err(e) => return Err(e),
    };
    let past = Cells::read(&history, spec)?;
    let mut baseline: HashMap<&str, Vec<Vec<f64>>> = HashMap::new();
    for (cell, values, _) in &past.rows {
        let slot = baseline
            .entry(cell.as_str())
            .or_insert_with(|| vec![Vec::new(); spec.metrics.len()]);
        for (m, v) in values.iter().enumerate() {
            if let Some(v) = v {
                slot[m].push(*v);
            }
        }
    }
    let mut alerts = Vec::new();
    let mut checked = Checked {
        cells: today.rows.len(),
        k: spec.k,
        min_history: spec.min_history,
        weight: spec.weight.clone().map(|w| (w, spec.min_weight)),
        ..Checked::default()
    };
    for (cell, values, weight) in &today.rows {
        if spec.weight.is_some() && weight.unwrap_or(0.0) < spec.min_weight {
            checked.light += 1;
            continue;
        }
        let Some(history) = baseline.get(cell.as_str()) else {
            checked.new += 1;
            continue;
        };
        // What this cell's metrics came to: judged (a z), flat, or neither.
        let (mut judged, mut flat, mut beyond) = (0usize, 0usize, 0usize);
        for (m, value) in values.iter().enumerate() {
            let (Some(value), past) = (value, &history[m]) else {
                continue;
            };
            if past.len() < spec.min_history as usize {
                continue;
            }
            let n = past.len() as f64;
            let mean = past.iter().sum::<f64>() / n;
            let sd = (past.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            if sd <= f64::EPSILON * mean.abs().max(1.0) {
                flat += 1;
                continue;
            }
            let z = (value - mean) / sd;
            judged += 1;
            if checked
                .largest
                .as_ref()
                .is_none_or(|(largest, _, _)| z.abs() > largest.abs())
            {
                checked.largest = Some((z, cell.clone(), spec.metrics[m].clone()));
            }
            if z.abs() >= spec.k {
                beyond += 1;
                alerts.push(Alert {
                    job: job.name.clone(),
                    table: job.qualified_table(),
                    as_of,
                    cell: cell.clone(),
                    metric: spec.metrics[m].clone(),
                    value: *value,
                    baseline_mean: mean,
                    baseline_sd: sd,
                    z_score: z,
                    k: spec.k,
                    history_days: past.len() as i64,
                });
            }
        }
        match (beyond, judged, flat) {
            (1.., _, _) => checked.breached += 1,
            (0, 1.., _) => checked.within += 1,
            (0, 0, 1..) => checked.flat += 1,
            _ => checked.short += 1,
        }
    }
    alerts.sort_by(|a, b| b.z_score.abs().total_cmp(&a.z_score.abs()));
    Ok((alerts, Some(checked)))
}
