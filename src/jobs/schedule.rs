//! When a job runs: a cron expression read in a time zone, and which day a run covers.
//!
//! Expressions have five fields (minute hour day-of-month month day-of-week) or six (with
//! seconds first), plus croner's extensions (`L`, `#`, `W`, `@daily`, ...). Times are wall
//! clock times in the job's zone (an IANA name such as `Europe/London`), so a 06:15 job
//! stays at 06:15 local across daylight-saving changes. On the spring-forward day a time in
//! the skipped hour runs at the first minute after the gap; on the fall-back day a time in
//! the repeated hour runs once, at its first occurrence.
//!
//! ```
//! use socialcx::jobs::schedule::Schedule;
//! let s = Schedule::parse("15 6 * * *", "Europe/London").unwrap();
//! let after = "2026-03-28T12:00:00Z".parse().unwrap();
//! assert_eq!(s.next_after(after).unwrap().to_rfc3339(), "2026-03-29T05:15:00+00:00");
//! ```

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::Deserialize;

/// Which day a run covers, from the local day of the moment it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsOf {
    /// The day before the run (a daily job at 06:15 reports on yesterday): the default.
    #[default]
    PreviousDay,
    /// The day of the run.
    SameDay,
}

/// A job's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
    expression: String,
}

impl Schedule {
    /// Parse `expression` in the time zone `zone`, or say what is wrong with either.
    ///
    /// ```
    /// use socialcx::jobs::schedule::Schedule;
    /// assert!(Schedule::parse("0 6 * * *", "UTC").is_ok());
    /// assert!(Schedule::parse("0 25 * * *", "UTC").is_err());
    /// assert!(Schedule::parse("0 6 * * *", "Mars/Olympus").is_err());
    /// ```
    pub fn parse(expression: &str, zone: &str) -> Result<Schedule, String> {
        let cron = Cron::from_str(expression.trim())
            .map_err(|e| format!("schedule {expression:?}: {e}"))?;
        let zone = Tz::from_str(zone.trim()).map_err(|_| {
            format!("time zone {zone:?} is not an IANA time zone (e.g. UTC, Europe/London)")
        })?;
        Ok(Schedule {
            cron,
            zone,
            expression: expression.trim().to_string(),
        })
    }

    /// The cron expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` firings after `after`.
    ///
    /// ```
    /// use socialcx::jobs::schedule::Schedule;
    /// let s = Schedule::parse("0 */6 * * *", "UTC").unwrap();
    /// let next = s.upcoming("2026-01-01T00:00:00Z".parse().unwrap(), 2);
    /// assert_eq!(next[1].to_rfc3339(), "2026-01-01T12:00:00+00:00");
    /// ```
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut t = after;
        while out.len() < n {
            match self.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    /// The day a run fired at `at` covers, in the schedule's zone.
    ///
    /// ```
    /// use socialcx::jobs::schedule::{AsOf, Schedule};
    /// let s = Schedule::parse("30 0 * * *", "America/New_York").unwrap();
    /// // 03:30 UTC on the 15th is 23:30 on the 14th in New York.
    /// let day = s.as_of("2026-01-15T03:30:00Z".parse().unwrap(), AsOf::SameDay);
    /// assert_eq!(day.to_string(), "2026-01-14");
    /// ```
    pub fn as_of(&self, at: DateTime<Utc>, rule: AsOf) -> NaiveDate {
        let day = at.with_timezone(&self.zone).date_naive();
        match rule {
            AsOf::SameDay => day,
            AsOf::PreviousDay => day.pred_opt().unwrap_or(day),
        }
    }

    /// The instants bounding the `days` local days that end with `as_of`: [start of the
    /// first day, start of the day after `as_of`), in UTC. Days are local, so a window
    /// over a daylight-saving change is 23 or 25 hours longer or shorter in UTC.
    ///
    /// ```
    /// use socialcx::jobs::schedule::Schedule;
    /// let s = Schedule::parse("0 6 * * *", "Europe/London").unwrap();
    /// let day = "2026-07-01".parse().unwrap();
    /// let (from, to) = s.window(day, 1);
    /// assert_eq!((from.to_rfc3339(), to.to_rfc3339()),
    ///     ("2026-06-30T23:00:00+00:00".into(), "2026-07-01T23:00:00+00:00".into()));
    /// ```
    pub fn window(&self, as_of: NaiveDate, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
        let first = as_of - Duration::days(i64::from(days.max(1)) - 1);
        let next = as_of.succ_opt().unwrap_or(as_of);
        (self.midnight(first), self.midnight(next))
    }

    /// The first instant of local day `day` (midnight, or the first minute after a
    /// daylight-saving gap at midnight).
    fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        let mut t = day.and_hms_opt(0, 0, 0).expect("midnight");
        for _ in 0..4 * 24 {
            if let Some(local) = self.zone.from_local_datetime(&t).earliest() {
                return local.with_timezone(&Utc);
            }
            t += Duration::minutes(15);
        }
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_daily_job_keeps_its_local_time_across_both_changes() {
        let s = Schedule::parse("15 6 * * *", "Europe/London").unwrap();
        let fired: Vec<String> = s
            .upcoming(at("2026-03-27T12:00:00Z"), 4)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect();
        // GMT until 29 March 01:00 UTC, then BST (UTC+1).
        assert_eq!(
            fired,
            [
                "2026-03-28T06:15:00+00:00",
                "2026-03-29T05:15:00+00:00",
                "2026-03-30T05:15:00+00:00",
                "2026-03-31T05:15:00+00:00"
            ]
        );
        let autumn: Vec<String> = s
            .upcoming(at("2026-10-24T12:00:00Z"), 2)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect();
        assert_eq!(
            autumn,
            ["2026-10-25T06:15:00+00:00", "2026-10-26T06:15:00+00:00"]
        );
    }

    #[test]
    fn a_time_in_the_skipped_hour_runs_once_after_the_gap_and_a_repeated_one_once() {
        let s = Schedule::parse("30 1 * * *", "Europe/London").unwrap();
        // 29 March 2026: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist.
        let spring = s.upcoming(at("2026-03-28T12:00:00Z"), 2);
        assert_eq!(spring[0].to_rfc3339(), "2026-03-29T01:00:00+00:00");
        assert_eq!(spring[1].to_rfc3339(), "2026-03-30T00:30:00+00:00");
        // 25 October 2026: 02:00 BST falls back to 01:00 GMT; 01:30 happens twice.
        let autumn = s.upcoming(at("2026-10-24T12:00:00Z"), 2);
        assert_eq!(autumn[0].to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(autumn[1].to_rfc3339(), "2026-10-26T01:30:00+00:00");
    }

    #[test]
    fn an_hourly_job_skips_the_gap_and_repeats_in_the_overlap() {
        let s = Schedule::parse("0 * * * *", "America/New_York").unwrap();
        // 8 March 2026, 02:00 EST -> 03:00 EDT: one hour fewer firings that day.
        let day = s.upcoming(at("2026-03-08T05:00:00Z"), 23);
        assert_eq!(
            day.last().unwrap().to_rfc3339(),
            "2026-03-09T04:00:00+00:00"
        );
        // 1 November 2026, 02:00 EDT -> 01:00 EST: firings stay one real hour apart.
        let fall = s.upcoming(at("2026-11-01T04:30:00Z"), 4);
        for pair in fall.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::hours(1));
        }
    }

    #[test]
    fn windows_are_local_days() {
        let s = Schedule::parse("0 6 * * *", "Europe/London").unwrap();
        // The spring-forward day is 23 hours long.
        let (from, to) = s.window("2026-03-29".parse().unwrap(), 1);
        assert_eq!(to - from, Duration::hours(23));
        let (from, to) = s.window("2026-01-28".parse().unwrap(), 28);
        assert_eq!(from.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-01-29T00:00:00+00:00");
        assert_eq!(
            s.as_of(at("2026-03-29T05:15:00Z"), AsOf::PreviousDay)
                .to_string(),
            "2026-03-28"
        );
    }

    #[test]
    fn bad_expressions_and_zones_say_what_is_wrong() {
        let e = Schedule::parse("every day", "UTC").unwrap_err();
        assert!(e.contains("every day"), "{e}");
        let e = Schedule::parse("0 6 * * *", "London").unwrap_err();
        assert!(e.contains("IANA"), "{e}");
    }
}
