//! `socialcx jobs list | run | backfill | schedule`: the baseline metric jobs from the
//! command line, an external cron or a Kubernetes CronJob (`jobs run`), or a long-running
//! scheduler (`jobs schedule`).

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::jobs::config::{Job, Jobs};
use crate::jobs::history::JOB_RUNS;
use crate::jobs::{Outcome, Trigger, lock, run};
use crate::{Engine, Error, Result};

/// `socialcx jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// The jobs file (TOML) replacing the shipped one (queries/jobs.toml).
    #[arg(long, global = true, env = "SOCIALCX_JOBS")]
    pub jobs: Option<PathBuf>,
    #[command(subcommand)]
    pub command: JobsCommand,
}

/// The jobs subcommands.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Each job: its schedule, next run, table and last outcome.
    List,
    /// Run one job now (for the day its schedule covers today, or --as-of).
    Run {
        /// The job.
        name: String,
        /// The day to cover (default: the day the schedule's rule gives for now).
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Run one job for every period from --from to --to (as-of days, included).
    Backfill {
        /// The job.
        name: String,
        /// First as-of day.
        #[arg(long)]
        from: NaiveDate,
        /// Last as-of day.
        #[arg(long)]
        to: NaiveDate,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
    },
    /// Run the jobs on their schedules until stopped (Ctrl-C or SIGTERM).
    Schedule,
}

/// Run a `jobs` subcommand; with `verbose` (`-v`), `run` and `backfill` also say how each
/// run's cells fared against their baselines (why no alert was raised, or which were).
pub async fn run_jobs(engine: &Engine, args: &JobsArgs, verbose: u8) -> Result<i32> {
    let jobs = Jobs::load(args.jobs.as_deref())?;
    match &args.command {
        JobsCommand::List => {
            print!("{}", list(engine, &jobs, Utc::now()).await?);
            Ok(0)
        }
        JobsCommand::Run { name, as_of } => {
            let job = jobs.find(name)?;
            let as_of = as_of.unwrap_or_else(|| job.schedule.as_of(Utc::now(), job.as_of));
            let started = Instant::now();
            let outcome = run(engine, job, as_of, Trigger::Run).await?;
            println!("{}", describe(job, &outcome, started));
            if verbose > 0 {
                println!("  {}", explain(job, &outcome));
            }
            if outcome.no_data {
                eprintln!("{}", no_data_hint(engine).await?);
                return Ok(NO_DATA);
            }
            Ok(if outcome.succeeded() { 0 } else { 1 })
        }
        JobsCommand::Backfill {
            name,
            from,
            to,
            no_progress,
        } => {
            let job = jobs.find(name)?;
            backfill(engine, job, *from, *to, !no_progress, verbose > 0).await
        }
        JobsCommand::Schedule => schedule(engine, &jobs).await,
    }
}

/// The exit status of `jobs run` for a period without data.
pub const NO_DATA: i32 = 3;

/// Where the lake's conversations are, for a run that found none in its period.
async fn no_data_hint(engine: &Engine) -> Result<String> {
    let span = engine
        .sql("SELECT min(date), max(date) FROM conversations")
        .await?
        .collect()
        .await?;
    let span = crate::output::text_rows(&span)?;
    Ok(match span.first() {
        Some(r) if !r[0].is_empty() && r[0] != "NULL" => format!(
            "the lake's conversations run from {} to {}: pick an --as-of in that range",
            r[0], r[1]
        ),
        _ => "the lake holds no conversations yet: ingest some first (socialcx ingest FILE)"
            .to_string(),
    })
}

/// One line on a run: job, day, rows, alerts, attempts, time, or the error.
fn describe(job: &Job, outcome: &Outcome, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64();
    if outcome.no_data {
        return format!(
            "{} {}: no data: {} returned no rows for this period; nothing written ({secs:.2}s)",
            job.name, outcome.as_of, job.report.name
        );
    }
    match &outcome.error {
        None => format!(
            "{} {}: {} rows into {}, {} alert{}, {} attempt{}, {secs:.2}s",
            job.name,
            outcome.as_of,
            outcome.rows,
            job.qualified_table(),
            outcome.alerts.len(),
            if outcome.alerts.len() == 1 { "" } else { "s" },
            outcome.attempts,
            if outcome.attempts == 1 { "" } else { "s" },
        ),
        Some(e) => format!(
            "{} {}: failed after {} attempt{} ({secs:.2}s): {e}",
            job.name,
            outcome.as_of,
            outcome.attempts,
            if outcome.attempts == 1 { "" } else { "s" },
        ),
    }
}

/// Why a run raised the alerts it did, or none: its cells against their baselines.
fn explain(job: &Job, outcome: &Outcome) -> String {
    match (&outcome.checked, &job.alert) {
        (Some(checked), _) => checked.describe(),
        (None, None) => format!("no alert: job {} has no [job.alert]", job.name),
        (None, Some(_)) if outcome.no_data => "no alert: no data to check".to_string(),
        (None, Some(_)) => "no alert: the run failed before its check".to_string(),
    }
}

/// The as-of days of `job`'s periods from `from` to `to`: the days its scheduled runs cover
/// (every day for a daily job, one day a week for a weekly one).
pub fn periods(job: &Job, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let start = from - chrono::Duration::days(2);
    let mut t = start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    while let Some(next) = job.schedule.next_after(t) {
        let day = job.schedule.as_of(next, job.as_of);
        if day > to {
            break;
        }
        if day >= from && days.last() != Some(&day) {
            days.push(day);
        }
        t = next;
    }
    days
}

async fn backfill(
    engine: &Engine,
    job: &Job,
    from: NaiveDate,
    to: NaiveDate,
    progress: bool,
    verbose: bool,
) -> Result<i32> {
    if to < from {
        return Err(Error::Usage(format!("--to {to} is before --from {from}")));
    }
    let days = periods(job, from, to);
    let bar = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(days.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} periods, {elapsed} (eta {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let (mut failed, mut empty, mut rows, mut alerts) = (0usize, 0usize, 0usize, 0usize);
    for day in &days {
        bar.set_message(format!("{} {day}", job.name));
        let one = Instant::now();
        let outcome = run(engine, job, *day, Trigger::Backfill).await?;
        let mut line = describe(job, &outcome, one);
        if verbose {
            line = format!("{line}\n  {}", explain(job, &outcome));
        }
        bar.println(&line);
        if !progress {
            println!("{line}");
        }
        rows += outcome.rows;
        alerts += outcome.alerts.len();
        if !outcome.succeeded() {
            failed += 1;
        }
        if outcome.no_data {
            empty += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "backfill {}: {} periods from {from} to {to}, {} failed, {empty} without data, {rows} rows, {alerts} alerts, {:.1}s",
        job.name,
        days.len(),
        failed,
        started.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 { 1 } else { 0 })
}

/// `jobs list`: each job's schedule, next run, table and last outcome (from `job_runs`).
pub async fn list(engine: &Engine, jobs: &Jobs, now: DateTime<Utc>) -> Result<String> {
    let runs = engine
        .sql(&format!(
            "SELECT job, as_of, status, finished, rows, alerts, error FROM ( \
               SELECT *, row_number() OVER (PARTITION BY job ORDER BY finished DESC, attempt DESC) AS n \
               FROM {JOB_RUNS}) WHERE n = 1"
        ))
        .await?
        .collect()
        .await?;
    let last = crate::output::text_rows(&runs)?;
    let mut out = String::new();
    for job in &jobs.jobs {
        let next = job
            .schedule
            .next_after(now)
            .map(|t| {
                format!(
                    "{} ({} {})",
                    t.format("%Y-%m-%d %H:%M UTC"),
                    t.with_timezone(&job.schedule.zone()).format("%H:%M"),
                    job.schedule.zone()
                )
            })
            .unwrap_or_else(|| "never".into());
        out.push_str(&format!(
            "{}: {} -> {}\n  schedule  {} ({}), window {} day{} ending with the as-of day\n  next run  {next}\n",
            job.name,
            job.report.name,
            job.qualified_table(),
            job.schedule.expression(),
            job.schedule.zone(),
            job.window_days,
            if job.window_days == 1 { "" } else { "s" },
        ));
        match last.iter().find(|r| r[0] == job.name) {
            Some(r) if r[2] == "succeeded" => out.push_str(&format!(
                "  last run  {} for {}: succeeded, {} rows, {} alerts\n",
                r[3], r[1], r[4], r[5]
            )),
            Some(r) if r[2] == "no_data" => out.push_str(&format!(
                "  last run  {} for {}: no data (nothing written)\n",
                r[3], r[1]
            )),
            Some(r) => out.push_str(&format!(
                "  last run  {} for {}: failed: {}\n",
                r[3], r[1], r[6]
            )),
            None => out.push_str("  last run  never\n"),
        }
        if let Some(held) = lock::holder(engine.lake().store(), &job.name).await? {
            out.push_str(&format!(
                "  running   now, by {} (lease until {})\n",
                held.owner,
                held.expires.to_rfc3339()
            ));
        }
    }
    Ok(out)
}

/// `jobs schedule`: wait for the next firing of any job, run it, repeat. A firing missed
/// while the scheduler was down is not run late (backfill it); a job still running from an
/// earlier firing (here or elsewhere) is skipped with a warning.
async fn schedule(engine: &Engine, jobs: &Jobs) -> Result<i32> {
    if jobs.jobs.is_empty() {
        return Err(Error::Usage(format!("{} has no jobs", jobs.origin)));
    }
    eprintln!(
        "socialcx scheduler: {} jobs from {}; Ctrl-C or SIGTERM stops it",
        jobs.jobs.len(),
        jobs.origin
    );
    let stop = crate::server::shutdown_signal();
    tokio::pin!(stop);
    let mut after = Utc::now();
    loop {
        let Some((at, due)) = next_firing(jobs, after) else {
            return Err(Error::Usage("no job has a future firing".into()));
        };
        eprintln!(
            "next: {} at {}",
            due.iter()
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            at.to_rfc3339()
        );
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = &mut stop => {
                eprintln!("scheduler stopped");
                return Ok(0);
            }
            _ = tokio::time::sleep(wait) => {}
        }
        for job in due {
            let as_of = job.schedule.as_of(at, job.as_of);
            let started = Instant::now();
            match run(engine, job, as_of, Trigger::Schedule).await {
                Ok(outcome) => eprintln!("{}", describe(job, &outcome, started)),
                Err(e) => eprintln!("{}: {e}", job.name),
            }
        }
        after = at;
    }
}

/// The earliest firing after `after`, and the jobs that fire then.
fn next_firing(jobs: &Jobs, after: DateTime<Utc>) -> Option<(DateTime<Utc>, Vec<&Job>)> {
    let firings: Vec<(DateTime<Utc>, &Job)> = jobs
        .jobs
        .iter()
        .filter_map(|j| j.schedule.next_after(after).map(|t| (t, j)))
        .collect();
    let at = firings.iter().map(|(t, _)| *t).min()?;
    Some((
        at,
        firings
            .into_iter()
            .filter(|(t, _)| *t == at)
            .map(|(_, j)| j)
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weekly_job_has_one_period_a_week() {
        let jobs = Jobs::shipped();
        let weekly = jobs.find("channel_audit_weekly").unwrap();
        let days = periods(
            weekly,
            "2026-01-01".parse().unwrap(),
            "2026-01-31".parse().unwrap(),
        );
        // Mondays 5, 12, 19, 26 January and 2 February cover the Sundays before.
        let got: Vec<String> = days.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            got,
            ["2026-01-04", "2026-01-11", "2026-01-18", "2026-01-25"]
        );
        let daily = jobs.find("baseline_daily").unwrap();
        assert_eq!(
            periods(
                daily,
                "2026-01-01".parse().unwrap(),
                "2026-03-31".parse().unwrap()
            )
            .len(),
            90
        );
    }
}
