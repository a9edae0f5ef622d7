//! Report periods: how a report's `from` and `to` default, resolved from the lake *before*
//! the report is planned, and the sentence every report and page states its period with.
//!
//! A report declares its default window in its header:
//!
//! ```sql
//! -- window: to=last_complete_day from=7d
//! ```
//!
//! * `to=last_complete_day`: a null `to` becomes the midnight (UTC) after the lake's last
//!   complete day (below); `to=last_message`: a null `to` stays null and the report runs as
//!   of the last message (triage: the queue as it stands now);
//! * `from=first_message`: a null `from` stays null (from the first message); `from=Nd`: a
//!   null `from` becomes `to` minus N days.
//!
//! Because the bounds are bound as literal timestamps, the lake prunes its files by them: a
//! five-week `vs_baseline` reads five weeks of files, not the whole lake. The same
//! resolution applies to the command line, the views `reports.NAME` and the table functions
//! `NAME(...)` (a BI tool's call): each resolves when it is planned, against the lake as it
//! is then.
//!
//! **The last complete day** is the last UTC day that (a) is over: the lake holds a message
//! from a later day, so the day of the last message, still being written in a live lake, is
//! never complete; and (b) is not a fragment: its customer posts reach half the median of
//! the same weekday's customer posts over the four weeks before it (the weeks on or after the
//! lake's first day; a weekday with no post counts as 0; with no such week the day is
//! complete). Data stops raggedly: after the last full day come days holding only late
//! replies (in the generated data, 8% of a day's volume, then 1%, then a handful), which a
//! period must not end in: their volumes read as collapses. Comparing a day with the same
//! weekday keeps a quiet Sunday complete where weekend traffic is lower, and half is far from
//! both a normal day's spread and a tail's fraction. When no day is complete yet (a lake of
//! one day), a period runs through the last message.
//!
//! ```
//! use chrono::NaiveDate;
//! use socialcx::reports::period::{Calendar, DayCount};
//! let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
//! // 28 full days of 100 customer posts, then a tail of late replies.
//! let mut days: Vec<DayCount> = (1..=28).map(|d| DayCount::new(day(d), 150, 100)).collect();
//! days.push(DayCount::new(day(29), 12, 8));
//! days.push(DayCount::new(day(30), 3, 1));
//! assert_eq!(Calendar::new(days).last_complete_day(), Some(day(28)));
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Timelike, Utc};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::execution::context::SessionState;

/// Weeks of the same weekday a day's volume is compared with.
pub const COMPLETE_WEEKS: i64 = 4;

/// A day is a fragment when its customer posts are below this share of the median.
pub const COMPLETE_SHARE: f64 = 0.5;

/// The one query the resolution reads: messages and customer posts per UTC day. It reads the
/// `date` and `is_brand` columns only.
pub const CALENDAR_SQL: &str = "SELECT date, count(*) AS messages, \
     sum(CASE WHEN is_brand THEN 0 ELSE 1 END) AS customer_posts \
     FROM conversations GROUP BY date";

/// Where a report's window ends when `to` is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// At the midnight after the last complete day.
    LastCompleteDay,
    /// As of the last message (`to` stays null; the SQL takes the last message's instant).
    LastMessage,
}

/// Where a report's window starts when `from` is null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At the first message (`from` stays null).
    FirstMessage,
    /// This many days before the window's end.
    DaysBefore(u32),
}

/// A report's default window: its header's `-- window:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// A null `from`.
    pub start: Start,
    /// A null `to`.
    pub end: End,
}

impl Window {
    /// Read a `-- window:` line's value: `to=last_complete_day|last_message` and
    /// `from=first_message|Nd`, either omitted for its first choice.
    ///
    /// ```
    /// use socialcx::reports::period::{End, Start, Window};
    /// let w = Window::parse("to=last_complete_day from=7d").unwrap();
    /// assert_eq!((w.start, w.end), (Start::DaysBefore(7), End::LastCompleteDay));
    /// assert!(Window::parse("to=yesterday").is_err());
    /// assert!(Window::parse("to=last_message from=7d").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Window, String> {
        let mut window = Window {
            start: Start::FirstMessage,
            end: End::LastCompleteDay,
        };
        for word in text.split_whitespace() {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            match (key, value) {
                ("to", "last_complete_day") => window.end = End::LastCompleteDay,
                ("to", "last_message") => window.end = End::LastMessage,
                ("from", "first_message") => window.start = Start::FirstMessage,
                ("from", days) => {
                    let n = days
                        .strip_suffix('d')
                        .and_then(|n| n.parse::<u32>().ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            format!("window: from={days:?} (first_message or a number of days, 7d)")
                        })?;
                    window.start = Start::DaysBefore(n);
                }
                _ => {
                    return Err(format!(
                        "window: {word:?} (to=last_complete_day|last_message, from=first_message|Nd)"
                    ));
                }
            }
        }
        if matches!(window.start, Start::DaysBefore(_)) && window.end == End::LastMessage {
            return Err("window: from=Nd needs to=last_complete_day (a known end)".into());
        }
        Ok(window)
    }

    /// The default period in words (`socialcx report --list`).
    ///
    /// ```
    /// let w = socialcx::reports::period::Window::parse("to=last_complete_day from=7d").unwrap();
    /// assert_eq!(w.describe(), "the 7 days through the last complete day");
    /// ```
    pub fn describe(&self) -> String {
        match (self.start, self.end) {
            (Start::DaysBefore(n), _) => format!("the {n} days through the last complete day"),
            (Start::FirstMessage, End::LastCompleteDay) => {
                "from the first message through the last complete day".to_string()
            }
            (Start::FirstMessage, End::LastMessage) => {
                "from the first message, as of the last message".to_string()
            }
        }
    }
}

/// One UTC day of the lake: its messages and customer posts (messages not by a brand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// The day.
    pub day: NaiveDate,
    /// Messages, brand replies included.
    pub messages: u64,
    /// Customer posts.
    pub customer_posts: u64,
}

impl DayCount {
    /// A day with `messages` messages, `customer_posts` of them by customers.
    ///
    /// ```
    /// let d = socialcx::reports::period::DayCount::new("2026-03-01".parse().unwrap(), 3, 2);
    /// assert_eq!(d.customer_posts, 2);
    /// ```
    pub fn new(day: NaiveDate, messages: u64, customer_posts: u64) -> DayCount {
        DayCount {
            day,
            messages,
            customer_posts,
        }
    }
}

/// The lake's days with messages, in order (what [`CALENDAR_SQL`] returns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayCount>,
}

impl Calendar {
    /// The calendar of `days` (a day given twice adds up; days without messages are
    /// dropped).
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let c = Calendar::new(vec![DayCount::new("2026-03-02".parse().unwrap(), 1, 1)]);
    /// assert_eq!(c.last_day(), c.first_day());
    /// ```
    pub fn new(days: Vec<DayCount>) -> Calendar {
        let mut map: BTreeMap<NaiveDate, DayCount> = BTreeMap::new();
        for d in days.into_iter().filter(|d| d.messages > 0) {
            let slot = map.entry(d.day).or_insert(DayCount::new(d.day, 0, 0));
            slot.messages += d.messages;
            slot.customer_posts += d.customer_posts;
        }
        Calendar { days: map }
    }

    /// The calendar of the lake `state` reads, by [`CALENDAR_SQL`].
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> datafusion::error::Result<()> {
    /// let calendar = socialcx::reports::period::Calendar::read(&engine.context().state()).await?;
    /// println!("complete through {:?}", calendar.last_complete_day());
    /// # Ok(()) }
    /// ```
    pub async fn read(state: &SessionState) -> datafusion::error::Result<Calendar> {
        let plan = state.create_logical_plan(CALENDAR_SQL).await?;
        let physical = state.create_physical_plan(&plan).await?;
        let batches = datafusion::physical_plan::collect(physical, state.task_ctx()).await?;
        let mut days = Vec::new();
        for batch in &batches {
            let dates = cast(batch.column(0), &DataType::Utf8)?;
            let messages = cast(batch.column(1), &DataType::Int64)?;
            let posts = cast(batch.column(2), &DataType::Int64)?;
            let (dates, messages, posts) = (
                dates.as_string::<i32>(),
                messages.as_primitive::<Int64Type>(),
                posts.as_primitive::<Int64Type>(),
            );
            for i in 0..batch.num_rows() {
                if dates.is_null(i) {
                    continue;
                }
                let Ok(day) = NaiveDate::parse_from_str(dates.value(i), "%Y-%m-%d") else {
                    continue;
                };
                let count = |a: &datafusion::arrow::array::Int64Array| {
                    if a.is_null(i) {
                        0
                    } else {
                        a.value(i).max(0) as u64
                    }
                };
                days.push(DayCount::new(day, count(messages), count(posts)));
            }
        }
        Ok(Calendar::new(days))
    }

    /// The days, in order.
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let c = Calendar::new(vec![DayCount::new(d("2026-03-02"), 1, 1), DayCount::new(d("2026-03-01"), 2, 1)]);
    /// assert_eq!(c.days().next().unwrap().day, d("2026-03-01"));
    /// ```
    pub fn days(&self) -> impl Iterator<Item = &DayCount> {
        self.days.values()
    }

    /// The first day with a message.
    ///
    /// ```
    /// assert_eq!(socialcx::reports::period::Calendar::default().first_day(), None);
    /// ```
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.days.keys().next().copied()
    }

    /// The day of the last message.
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let c = Calendar::new(vec![DayCount::new(d("2026-03-01"), 2, 1), DayCount::new(d("2026-03-04"), 1, 0)]);
    /// assert_eq!(c.last_day(), Some(d("2026-03-04")));
    /// ```
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.days.keys().next_back().copied()
    }

    /// Customer posts on `day` (0 for a day without messages).
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let c = Calendar::new(vec![DayCount::new(d("2026-03-01"), 5, 3)]);
    /// assert_eq!((c.customer_posts(d("2026-03-01")), c.customer_posts(d("2026-03-02"))), (3, 0));
    /// ```
    pub fn customer_posts(&self, day: NaiveDate) -> u64 {
        self.days.get(&day).map_or(0, |d| d.customer_posts)
    }

    /// Customer posts on the days from `first` to `last`, both included.
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let c = Calendar::new(vec![DayCount::new(d("2026-03-01"), 3, 2), DayCount::new(d("2026-03-03"), 5, 4)]);
    /// assert_eq!(c.customer_posts_between(d("2026-03-01"), d("2026-03-02")), 2);
    /// ```
    pub fn customer_posts_between(&self, first: NaiveDate, last: NaiveDate) -> u64 {
        if last < first {
            return 0;
        }
        self.days
            .range(first..=last)
            .map(|(_, d)| d.customer_posts)
            .sum()
    }

    /// Whether `day` is complete: over (a later day holds a message) and not a fragment
    /// (its customer posts reach [`COMPLETE_SHARE`] of the median of the same weekday over
    /// the [`COMPLETE_WEEKS`] weeks before it that are on or after the first day).
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let c = Calendar::new(vec![DayCount::new(d("2026-03-01"), 9, 9), DayCount::new(d("2026-03-08"), 4, 4),
    ///     DayCount::new(d("2026-03-09"), 1, 0)]);
    /// assert!(!c.is_complete(d("2026-03-08")), "4 posts against a median of 9");
    /// assert!(c.is_complete(d("2026-03-01")) && !c.is_complete(d("2026-03-09")));
    /// ```
    pub fn is_complete(&self, day: NaiveDate) -> bool {
        let (Some(first), Some(last)) = (self.first_day(), self.last_day()) else {
            return false;
        };
        if day >= last || day < first {
            return false;
        }
        let mut before: Vec<u64> = (1..=COMPLETE_WEEKS)
            .map(|w| day - Duration::days(7 * w))
            .filter(|d| *d >= first)
            .map(|d| self.customer_posts(d))
            .collect();
        if before.is_empty() {
            return true;
        }
        before.sort_unstable();
        let n = before.len();
        let median = if n % 2 == 1 {
            before[n / 2] as f64
        } else {
            (before[n / 2 - 1] + before[n / 2]) as f64 / 2.0
        };
        self.customer_posts(day) as f64 >= COMPLETE_SHARE * median
    }

    /// The last complete day (see [`Calendar::is_complete`] and the module's docs), if any.
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let one_day = Calendar::new(vec![DayCount::new(d("2026-03-01"), 5, 3)]);
    /// assert_eq!(one_day.last_complete_day(), None, "the day of the last message is not over");
    /// ```
    pub fn last_complete_day(&self) -> Option<NaiveDate> {
        self.days
            .keys()
            .rev()
            .copied()
            .find(|d| self.customer_posts(*d) > 0 && self.is_complete(*d))
    }
}

/// Midnight (UTC) at the start of `day`.
///
/// ```
/// let t = socialcx::reports::period::midnight("2026-03-01".parse().unwrap());
/// assert_eq!(t.to_rfc3339(), "2026-03-01T00:00:00+00:00");
/// ```
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// An instant as a parameter value (`2026-03-31T00:00:00Z`).
///
/// ```
/// use socialcx::reports::period::{instant_text, midnight};
/// assert_eq!(instant_text(midnight("2026-03-31".parse().unwrap())), "2026-03-31T00:00:00Z");
/// ```
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// How the period's end came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Given (a parameter, a job's window, a call's argument).
    Given,
    /// The midnight after the last complete day.
    LastCompleteDay,
    /// No day is complete yet: through the last message.
    NoCompleteDay,
    /// The given `from` is after the last complete day: through the last message.
    FromAfterComplete,
    /// As of the last message (the report's SQL takes its instant).
    LastMessage,
    /// The lake holds no conversations.
    EmptyLake,
    /// No end: the report has no window, and `to` is null.
    Open,
}

/// A report's period as it runs: `from` and `to` after the defaults were resolved, and what
/// the lake said about its days.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// The first instant (`None`: from the first message).
    pub from: Option<DateTime<Utc>>,
    /// The end, excluded (`None`: through, or as of, the last message).
    pub to: Option<DateTime<Utc>>,
    /// Whether `from` was resolved (N days before `to`) rather than given.
    pub from_resolved: bool,
    /// How `to` came about.
    pub end: EndReason,
    /// The lake's first and last days and its last complete day, when it was read.
    pub first_day: Option<NaiveDate>,
    /// See `first_day`.
    pub last_day: Option<NaiveDate>,
    /// See `first_day`.
    pub last_complete_day: Option<NaiveDate>,
    /// The trailing baseline's length in days (a report with a `baseline_days` parameter).
    pub baseline_days: Option<i64>,
}

impl Period {
    /// A period with `from` and `to` as given and nothing read from the lake.
    ///
    /// ```
    /// use socialcx::reports::period::{Period, midnight};
    /// let d = |s: &str| midnight(s.parse().unwrap());
    /// let p = Period::given(Some(d("2026-03-01")), Some(d("2026-03-08")));
    /// assert_eq!(p.describe(), "period 2026-03-01 to 2026-03-07 (UTC, 7 days)");
    /// ```
    pub fn given(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Period {
        Period {
            from,
            to,
            from_resolved: false,
            end: if to.is_some() {
                EndReason::Given
            } else {
                EndReason::Open
            },
            first_day: None,
            last_day: None,
            last_complete_day: None,
            baseline_days: None,
        }
    }

    /// The period in words, for pages and the command line: its days (UTC; the end
    /// included when both ends are midnights), how its ends were chosen, the baseline before
    /// it, and the incomplete days left out.
    ///
    /// ```
    /// use socialcx::reports::period::{EndReason, Period, midnight};
    /// let d = |s: &str| s.parse().unwrap();
    /// let mut p = Period::given(Some(midnight(d("2026-03-25"))), Some(midnight(d("2026-04-01"))));
    /// p.end = EndReason::LastCompleteDay;
    /// p.from_resolved = true;
    /// p.last_day = Some(d("2026-04-06"));
    /// p.baseline_days = Some(28);
    /// let text = p.describe();
    /// assert!(text.starts_with("period 2026-03-25 to 2026-03-31 (UTC, 7 days), the 7 days through the last complete day"), "{text}");
    /// assert!(text.contains("baseline 2026-02-25 to 2026-03-24 (28 days before)"), "{text}");
    /// assert!(text.contains("later days (2026-04-01 to 2026-04-06) left out"), "{text}");
    /// ```
    pub fn describe(&self) -> String {
        let mut text = match (self.from, self.to) {
            (Some(from), Some(to)) => format!("period {}", span(from, to)),
            (None, Some(to)) => format!(
                "period from the first message{} to {}",
                self.first_day
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                end_text(to)
            ),
            (Some(from), None) => format!("period from {}", start_text(from)),
            (None, None) => "period: every message".to_string(),
        };
        match self.end {
            EndReason::LastCompleteDay => {
                let days = match (self.from_resolved, self.from, self.to) {
                    (true, Some(from), Some(to)) => days_between(from, to),
                    _ => None,
                };
                match days {
                    Some(n) => {
                        text.push_str(&format!(", the {n} days through the last complete day"))
                    }
                    None => text.push_str(", through the last complete day"),
                }
            }
            EndReason::NoCompleteDay => {
                text.push_str(", through the last message (no day is complete yet)")
            }
            EndReason::FromAfterComplete => {
                text.push_str(", through the last message (from is after the last complete day)")
            }
            EndReason::LastMessage => text.push_str(", as of the last message"),
            EndReason::EmptyLake => text.push_str(" (the lake holds no conversations)"),
            EndReason::Open if self.from.is_some() => text.push_str(" through the last message"),
            EndReason::Given | EndReason::Open => {}
        }
        if let (Some(days), Some(from)) = (self.baseline_days, self.from)
            && days > 0
        {
            let start = from - Duration::days(days);
            text.push_str(&format!(
                "; baseline {} ({days} days before)",
                span_days(start, from)
            ));
        }
        if self.end == EndReason::LastCompleteDay
            && let (Some(to), Some(last)) = (self.to, self.last_day)
        {
            let first_left = to.date_naive();
            if to.time().num_seconds_from_midnight() == 0 && first_left <= last {
                let left = if first_left == last {
                    format!("{last}")
                } else {
                    format!("{first_left} to {last}")
                };
                text.push_str(&format!(
                    "; later days ({left}) left out: they hold only a fragment of a day's posts"
                ));
            }
        }
        text
    }
}

/// Whole days from `from` to `to`, when both are midnights.
fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<i64> {
    let midnights =
        from.time().num_seconds_from_midnight() == 0 && to.time().num_seconds_from_midnight() == 0;
    midnights.then(|| (to - from).num_days())
}

/// `from`..`to` as days (end included) when both are midnights, else as instants.
fn span(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    match days_between(from, to) {
        Some(n) if n >= 1 => {
            let last = (to - Duration::days(1)).date_naive();
            if n == 1 {
                format!("{last} (UTC, 1 day)")
            } else {
                format!("{} to {last} (UTC, {n} days)", from.date_naive())
            }
        }
        _ => format!(
            "{} to {} UTC (end excluded)",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M")
        ),
    }
}

/// A baseline's days, `from`..`to` (end excluded), plainly.
fn span_days(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    match days_between(from, to) {
        Some(n) if n >= 1 => format!(
            "{} to {}",
            from.date_naive(),
            (to - Duration::days(1)).date_naive()
        ),
        _ => format!(
            "{} to {} UTC",
            from.format("%Y-%m-%d %H:%M"),
            to.format("%Y-%m-%d %H:%M")
        ),
    }
}

/// The end of a period that starts at the first message.
fn end_text(to: DateTime<Utc>) -> String {
    if to.time().num_seconds_from_midnight() == 0 {
        format!("{} (UTC, included)", (to - Duration::days(1)).date_naive())
    } else {
        format!("{} UTC (excluded)", to.format("%Y-%m-%d %H:%M"))
    }
}

/// The start of a period that runs through the last message.
fn start_text(from: DateTime<Utc>) -> String {
    if from.time().num_seconds_from_midnight() == 0 {
        format!("{} (UTC)", from.date_naive())
    } else {
        format!("{} UTC", from.format("%Y-%m-%d %H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// `n` days from 2026-01-01 at `volume` customer posts, weekends at `weekend`.
    fn steady(n: i64, volume: u64, weekend: u64) -> Vec<DayCount> {
        (0..n)
            .map(|i| {
                let d = day("2026-01-01") + Duration::days(i);
                let weekday = chrono::Datelike::weekday(&d).number_from_monday();
                let v = if weekday >= 6 { weekend } else { volume };
                DayCount::new(d, v + v / 2, v)
            })
            .collect()
    }

    #[test]
    fn a_ragged_tail_is_not_complete_and_a_quiet_weekend_is() {
        let mut days = steady(90, 1500, 500);
        // The generated data's tail: 8%, then 1%, then a handful of late replies.
        for (i, n) in [127u64, 10, 2, 0, 1].iter().enumerate() {
            days.push(DayCount::new(
                day("2026-04-01") + Duration::days(i as i64),
                n + 3,
                *n,
            ));
        }
        let calendar = Calendar::new(days.clone());
        assert_eq!(calendar.last_complete_day(), Some(day("2026-03-31")));
        // Sunday 2026-03-29 at a third of a weekday is complete: Sundays are compared with
        // Sundays.
        assert!(calendar.is_complete(day("2026-03-29")));
        // A live lake: today (the day of the last message) is never complete, whatever its
        // volume so far.
        let live = Calendar::new(steady(40, 1000, 1000));
        assert_eq!(live.last_day(), Some(day("2026-02-09")));
        assert_eq!(live.last_complete_day(), Some(day("2026-02-08")));
        // One day only: nothing is complete.
        let one = Calendar::new(vec![DayCount::new(day("2026-03-01"), 5, 5)]);
        assert_eq!(one.last_complete_day(), None);
        assert_eq!(Calendar::default().last_complete_day(), None);
    }

    #[test]
    fn the_period_says_what_it_covers() {
        let p = Period::given(
            Some(midnight(day("2026-02-20"))),
            Some(midnight(day("2026-02-21"))),
        );
        assert_eq!(p.describe(), "period 2026-02-20 (UTC, 1 day)");
        let p = Period::given(
            Some("2026-02-01T00:00:00Z".parse().unwrap()),
            Some("2026-02-10T12:00:00Z".parse().unwrap()),
        );
        assert_eq!(
            p.describe(),
            "period 2026-02-01 00:00 to 2026-02-10 12:00 UTC (end excluded)"
        );
        let mut p = Period::given(None, None);
        p.end = EndReason::LastMessage;
        assert_eq!(
            p.describe(),
            "period: every message, as of the last message"
        );
    }
}
