//! Reports as one self-contained HTML page that people read: each report's charts (inline
//! SVG, see [`super::svg`]) above its rows. No script, font or style is fetched: the page
//! opens the same with no network, in a browser or attached to a mail.
//!
//! The charts, by report:
//!
//! * `baseline`: daily mean sentiment and customer volume against a trailing baseline band
//!   (the mean +- 2 standard deviations of the 28 days before; from the 7th day on), days
//!   outside the band in red, overall and per brand; a day's mean sentiment on fewer than
//!   [`MIN_DAY_POSTS`] posts is drawn hollow and never judged;
//! * `channel_audit`: the journey stage x channel heatmap, coloured by net sentiment, with
//!   the gaps hatched and outlined in red;
//! * `influencers`: the leaderboard of shares of influence (PageRank), coloured by mean
//!   sentiment, and the top authors with handle, followers and an example post;
//! * `triage`: the queue by priority, coloured by team, the waiting count per team, and the
//!   first conversations with the message an agent must read, whole;
//! * `vs_baseline`: the z-scores of the flagged changes, with the threshold marked.
//!
//! Every chart has a legend (colours, bands, marks), time axes carry the year (`2026-03-01`),
//! and each section states its period ([`super::period::Period::describe`]) and its sample
//! (posts, cells, authors). Rates are shown as percentages in the tables, which print whole
//! (no scroll box; `@media print` repeats their heads). A report this module does not know
//! gets its table only.
//!
//! ```
//! use socialcx::reports::page::{Section, render};
//! let report = socialcx::reports::find("triage").unwrap();
//! let html = render("CX", "./lake", &[Section::new(report, vec![], vec![])]).unwrap();
//! assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Triage queue"));
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use chrono::{NaiveDate, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};

use super::Report;
use super::period::{EndReason, Period, instant_text};
use super::svg::{self, Bar, Cell, Swatch, TrendPoint, diverging, short};
use crate::Result;
use crate::output::html::{self, escape};

/// Rows shown under each report's charts (the page says how many it left out).
pub const TABLE_ROWS: usize = 200;

/// Days of the trailing baseline band, the days it needs, and its width in standard
/// deviations.
const BAND_DAYS: usize = 28;
const BAND_MIN_DAYS: usize = 7;
const BAND_SIGMAS: f64 = 2.0;

/// A day's mean sentiment on fewer posts than this is drawn but not judged against its band
/// (nor counted in the band of the days after): a handful of posts is not a trend.
pub const MIN_DAY_POSTS: f64 = 10.0;

/// Conversations of the triage queue shown with their text, and influencers with their
/// example post.
const QUEUE_SHOWN: usize = 25;
const PEOPLE_SHOWN: usize = 10;

/// The line and band colours of the trends.
const LINE: &str = "#08519c";
const BAND: &str = "#9ecae1";
const BREACH: &str = "#d73027";

/// One report's part of a page: the report, the parameter values it ran with, its rows.
#[derive(Debug, Clone)]
pub struct Section {
    report: Report,
    values: Vec<(String, String)>,
    batches: Vec<RecordBatch>,
    period: Option<Period>,
}

impl Section {
    /// `report` run with `values` (name, value) gave `batches`.
    pub fn new(report: Report, values: Vec<(String, String)>, batches: Vec<RecordBatch>) -> Self {
        Section {
            report,
            values,
            batches,
            period: None,
        }
    }

    /// The same section, stating the period it ran over (the page shows it, with the
    /// resolved `from` and `to` among the parameters).
    ///
    /// ```
    /// use socialcx::reports::{find, page::{Section, render}, period::{Period, midnight}};
    /// let d = |s: &str| midnight(s.parse().unwrap());
    /// let period = Period::given(Some(d("2026-03-01")), Some(d("2026-03-08")));
    /// let section = Section::new(find("baseline").unwrap(), vec![], vec![]).with_period(period);
    /// let html = render("CX", "./lake", &[section]).unwrap();
    /// assert!(html.contains("period 2026-03-01 to 2026-03-07 (UTC, 7 days)"), "{html}");
    /// ```
    pub fn with_period(mut self, period: Period) -> Self {
        let resolved_to = matches!(
            period.end,
            EndReason::LastCompleteDay | EndReason::NoCompleteDay | EndReason::FromAfterComplete
        );
        if resolved_to && let Some(to) = period.to {
            self.values.push(("to".into(), instant_text(to)));
        }
        if period.from_resolved
            && let Some(from) = period.from
        {
            self.values.push(("from".into(), instant_text(from)));
        }
        self.period = Some(period);
        self
    }

    /// The report's title.
    pub fn title(&self) -> &str {
        &self.report.title
    }

    /// The value a parameter ran with (given, else the default; None: null).
    fn value(&self, name: &str) -> Option<String> {
        match self.values.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) if v == "null" => None,
            Some((_, v)) => Some(v.clone()),
            None => self
                .report
                .params
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.default.clone()),
        }
    }
}

/// The page for `sections`, titled `title`, saying which lake it read.
///
/// ```
/// use socialcx::reports::page::{Section, render};
/// let html = render("CX", "./lake", &[Section::new(socialcx::reports::find("triage").unwrap(), vec![], vec![])]).unwrap();
/// assert!(html.contains("No rows for these parameters"));
/// ```
pub fn render(title: &str, lake: &str, sections: &[Section]) -> Result<String> {
    let mut body = String::new();
    let mut contents = String::new();
    for section in sections {
        let rows = Rows::new(&section.batches)?;
        let r = &section.report;
        let _ = write!(
            contents,
            "<a href=\"#{0}\">{1}</a>",
            escape(&r.name),
            escape(&r.title)
        );
        let _ = write!(
            body,
            "<section id=\"{}\"><h2>{}</h2><p class=\"question\">{}</p>",
            escape(&r.name),
            escape(&r.title),
            escape(&r.description)
        );
        let mut stated = Vec::new();
        if let Some(period) = &section.period {
            stated.push(period.describe());
        }
        stated.push(sample(section, &rows));
        let _ = write!(
            body,
            "<p class=\"period\">{}</p><p class=\"params\">",
            escape(&stated.join("; "))
        );
        for p in &r.params {
            let v = section.value(&p.name);
            let _ = write!(
                body,
                "<span title=\"{}\"><b>{}</b> = {}</span> ",
                escape(&p.description),
                escape(&p.name),
                escape(v.as_deref().unwrap_or("null"))
            );
        }
        body.push_str("</p>");
        let number = |name: &str, default: f64| {
            section
                .value(name)
                .and_then(|t| t.parse::<f64>().ok())
                .unwrap_or(default)
        };
        let blocks = match r.name.as_str() {
            "baseline" => baseline_charts(&rows),
            "channel_audit" => audit_charts(&rows, number("min_posts", 30.0)),
            "influencers" => influencer_charts(&rows),
            "triage" => triage_charts(&rows),
            "vs_baseline" => change_charts(&rows, number("threshold", 2.0)),
            _ => Vec::new(),
        };
        if rows.len() == 0 {
            body.push_str("<p class=\"empty\">No rows for these parameters.</p>");
        }
        for block in blocks {
            body.push_str(&block);
        }
        body.push_str(&rows.table(&r.name, TABLE_ROWS)?);
        body.push_str("</section>");
    }
    let generated = Utc::now().format("%Y-%m-%d %H:%M UTC");
    let header = format!(
        "<p>socialcx, lake <code>{}</code>, {generated}; days and times are UTC</p><nav>{contents}</nav>",
        escape(lake)
    );
    body.push_str("<script>");
    body.push_str(CHECK);
    body.push_str("</script>");
    Ok(html::page(title, &header, &body, STYLE))
}

/// A count with thousands separators (`30,449`).
fn count(n: f64) -> String {
    let whole = n.round().max(0.0) as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the section's figures rest on, in words: posts, cells, authors, conversations.
fn sample(section: &Section, rows: &Rows) -> String {
    let sum = |name: &str| rows.num(name).iter().flatten().sum::<f64>();
    let n = rows.len() as f64;
    match section.report.name.as_str() {
        "baseline" => format!(
            "{} customer posts in {} brand x channel x stage x day cells",
            count(sum("customer_posts")),
            count(n)
        ),
        "channel_audit" => {
            let gaps = rows.flag("gap").iter().filter(|g| **g).count();
            format!(
                "{} customer posts with a journey stage; {gaps} of {} cells are gaps (fewer than {} posts)",
                count(sum("customer_posts")),
                count(n),
                section.value("min_posts").unwrap_or_default()
            )
        }
        "influencers" => format!(
            "{} authors, {} messages between them",
            count(n),
            count(sum("messages"))
        ),
        "triage" => {
            let as_of = rows
                .text("as_of")
                .into_iter()
                .flatten()
                .next()
                .map(|t| format!(" as of {}", instant(&t)))
                .unwrap_or_default();
            format!("{} waiting conversations shown{as_of}", count(n))
        }
        "vs_baseline" => {
            let metrics = rows.text("metric");
            let samples = rows.num("period_sample");
            let posts: f64 = (0..rows.len())
                .filter(|&i| metrics[i].as_deref() == Some("customer_posts"))
                .filter_map(|i| samples[i])
                .sum();
            let flagged = rows.flag("flagged").iter().filter(|f| **f).count();
            format!(
                "{} customer posts in the period; {flagged} of {} changes flagged (|z| >= {}, on at least {} posts)",
                count(posts),
                count(n),
                section.value("threshold").unwrap_or_default(),
                section.value("min_posts").unwrap_or_default()
            )
        }
        _ => format!("{} rows", count(n)),
    }
}

/// An instant's text as a reader wants it (`2026-03-31 12:03 UTC`).
fn instant(text: &str) -> String {
    match super::parse_timestamp(text) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => text.to_string(),
    }
}

/// What report pages add to the shared style: the contents, the sections, the parameters,
/// the charts, their legends, the queue and the people; and their print layout.
const STYLE: &str = "nav a{margin-right:14px}section{border-top:1px solid #ddd;margin-top:24px;\
padding-top:8px}.question{max-width:80ch}.period{font-weight:600;max-width:100ch}\
.params span{display:inline-block;background:#f4f4f4;\
border-radius:4px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px}figure{margin:12px 0;overflow-x:auto}\
.legend{font-size:12px;color:#444;margin:4px 0 0 8px}.legend .key{display:inline-block;margin-right:16px;\
white-space:nowrap}.legend .swatch{vertical-align:-2px;margin-right:5px}\
ol.queue,ol.people{padding-left:28px;max-width:100ch}ol.queue li,ol.people li{margin:6px 0 10px}\
.meta{margin:0;font-size:12px;color:#444}.team{display:inline-block;border-left:6px solid;padding-left:4px}\
blockquote{margin:3px 0 0;padding:4px 10px;border-left:3px solid #ccc;background:#fafafa;\
white-space:pre-wrap;overflow-wrap:anywhere}\
@media print{nav{display:none}section{break-before:auto}figure{overflow:visible;break-inside:avoid}\
svg.chart{max-width:100%;height:auto}li{break-inside:avoid}}";

/// A self-check, for tests and curious readers (the page does not need it): counts the
/// marks each chart drew, its chart's text outside its box (`data-overflow`), the page's
/// cells and quotes whose text is cut (`data-clipped`) and the tables in a box that scrolls
/// rather than shows them whole (`data-scroll-boxes`).
const CHECK: &str = "function sbox(t,s){var b=t.getBBox(),m=s.getScreenCTM().inverse().multiply(t.getScreenCTM()),\
p=s.createSVGPoint(),xs=[],ys=[];[[b.x,b.y],[b.x+b.width,b.y],[b.x,b.y+b.height],[b.x+b.width,b.y+b.height]]\
.forEach(function(c){p.x=c[0];p.y=c[1];var q=p.matrixTransform(m);xs.push(q.x);ys.push(q.y);});\
return [Math.min.apply(null,xs),Math.min.apply(null,ys),Math.max.apply(null,xs),Math.max.apply(null,ys)];}\
document.querySelectorAll('svg.chart').forEach(function(s){var n=0;\
s.querySelectorAll('.mark').forEach(function(m){var b=m.getBBox();if(b.width>0||b.height>0)n++;});\
s.setAttribute('data-drawn',n);var r=s.getBoundingClientRect();\
s.setAttribute('data-size',Math.round(r.width)+'x'+Math.round(r.height));\
var v=s.viewBox.baseVal,out=0;s.querySelectorAll('text').forEach(function(t){var b=sbox(t,s);\
if(b[0]<v.x-0.5||b[1]<v.y-0.5||b[2]>v.x+v.width+0.5||b[3]>v.y+v.height+0.5)out++;});\
s.setAttribute('data-overflow',out);});\
var clipped=0;document.querySelectorAll('td,th,blockquote,.meta,.period').forEach(function(e){\
if(e.scrollWidth>e.clientWidth+1||e.scrollHeight>e.clientHeight+1)clipped++;});\
document.body.setAttribute('data-clipped',clipped);var boxes=0;\
document.querySelectorAll('.rows').forEach(function(e){if(e.scrollHeight>e.clientHeight+1)boxes++;});\
document.body.setAttribute('data-scroll-boxes',boxes);\
document.body.setAttribute('data-charts',document.querySelectorAll('svg.chart').length);";

/// A chart in its figure, with its legend under it.
fn figure(chart: String, keys: &[(Swatch, String)]) -> String {
    format!("<figure>{chart}{}</figure>", svg::legend(keys))
}

/// A report's rows, concatenated, read by column name.
struct Rows {
    batch: RecordBatch,
}

impl Rows {
    fn new(batches: &[RecordBatch]) -> Result<Rows> {
        let batch = match batches.first() {
            None => RecordBatch::new_empty(std::sync::Arc::new(Schema::empty())),
            Some(first) => concat_batches(&first.schema(), batches)?,
        };
        Ok(Rows { batch })
    }

    fn len(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, name: &str, to: &DataType) -> Option<std::sync::Arc<dyn Array>> {
        let column = self.batch.column_by_name(name)?;
        cast(column, to).ok()
    }

    /// A column as text (null: None); missing column: all None.
    fn text(&self, name: &str) -> Vec<Option<String>> {
        match self.column(name, &DataType::Utf8) {
            Some(a) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
            None => vec![None; self.len()],
        }
    }

    /// A column as numbers (null, NaN: None).
    fn num(&self, name: &str) -> Vec<Option<f64>> {
        match self.column(name, &DataType::Float64) {
            Some(a) => a
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.filter(|f| f.is_finite()))
                .collect(),
            None => vec![None; self.len()],
        }
    }

    fn flag(&self, name: &str) -> Vec<bool> {
        match self.column(name, &DataType::Boolean) {
            Some(a) => a.as_boolean().iter().map(|v| v.unwrap_or(false)).collect(),
            None => vec![false; self.len()],
        }
    }

    /// The first `limit` rows of `report` as an HTML table, rates as percentages.
    fn table(&self, report: &str, limit: usize) -> Result<String> {
        let shown = self.batch.slice(0, self.len().min(limit));
        let cells = self.percentages(report);
        let schema = self.batch.schema();
        let column_of: HashMap<usize, &Vec<Option<String>>> = cells
            .iter()
            .filter_map(|(name, texts)| schema.index_of(name).ok().map(|i| (i, texts)))
            .collect();
        html::table_with(&schema, &[shown], self.len(), &|column, row| {
            column_of
                .get(&column)
                .and_then(|texts| texts.get(row).cloned().flatten())
        })
    }

    /// The cells shown as percentages, by column: the shares and rates (0..1) of every
    /// report; in `vs_baseline`, the values of its rate metrics (differences in percentage
    /// points).
    fn percentages(&self, report: &str) -> Vec<(String, Vec<Option<String>>)> {
        let percent = |v: Option<f64>| v.map(|v| format!("{:.1}%", 100.0 * v));
        let points = |v: Option<f64>, signed: bool| {
            v.map(|v| {
                if signed {
                    format!("{:+.1} pp", 100.0 * v)
                } else {
                    format!("{:.1} pp", 100.0 * v)
                }
            })
        };
        let mut out = Vec::new();
        for field in self.batch.schema().fields() {
            let name = field.name();
            let rate =
                name.starts_with("share_") || name.ends_with("_rate") || name.ends_with("_share");
            if rate && field.data_type().is_floating() {
                out.push((
                    name.clone(),
                    self.num(name).into_iter().map(percent).collect(),
                ));
            }
        }
        if report == "vs_baseline" {
            let metrics = self.text("metric");
            let is_rate: Vec<bool> = metrics
                .iter()
                .map(|m| matches!(m.as_deref(), Some("share_negative" | "response_rate")))
                .collect();
            for (column, kind) in [
                ("period_value", 0),
                ("baseline_mean", 0),
                ("baseline_sd", 1),
                ("delta", 2),
            ] {
                let values = self.num(column);
                let texts = values
                    .iter()
                    .zip(&is_rate)
                    .map(|(v, rate)| match (*rate, kind) {
                        (false, _) => None,
                        (true, 0) => percent(*v),
                        (true, 1) => points(*v, false),
                        (true, _) => points(*v, true),
                    })
                    .collect();
                out.push((column.to_string(), texts));
            }
        }
        out
    }
}

/// Per-day totals of a selection of baseline rows: customer posts and the posts-weighted
/// sum of mean sentiment.
#[derive(Default, Clone, Copy)]
struct Day {
    posts: f64,
    sentiment_sum: f64,
}

fn baseline_charts(rows: &Rows) -> Vec<String> {
    let days = rows.text("day");
    let brands = rows.text("brand");
    let posts = rows.num("customer_posts");
    let sentiment = rows.num("mean_sentiment");
    let mut overall: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut by_brand: BTreeMap<String, BTreeMap<NaiveDate, Day>> = BTreeMap::new();
    for i in 0..rows.len() {
        let (Some(day), Some(n)) = (days[i].as_deref(), posts[i]) else {
            continue;
        };
        let Ok(day) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            continue;
        };
        let s = sentiment[i].unwrap_or(0.0) * n;
        for target in [
            overall.entry(day).or_default(),
            by_brand
                .entry(brands[i].clone().unwrap_or_default())
                .or_default()
                .entry(day)
                .or_default(),
        ] {
            target.posts += n;
            target.sentiment_sum += s;
        }
    }
    let (Some(first), Some(last)) = (
        overall.keys().next().copied(),
        overall.keys().last().copied(),
    ) else {
        return Vec::new();
    };
    let calendar: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let mean = |d: &Day| (d.posts > 0.0).then(|| d.sentiment_sum / d.posts);
    let enough = |d: &Day| d.posts >= MIN_DAY_POSTS;
    let band_words = format!(
        "baseline band: mean ± {BAND_SIGMAS} standard deviations of the {BAND_DAYS} days before (from the {BAND_MIN_DAYS}th day on)"
    );
    let keys = |value: &str, thin: bool| {
        let mut keys = vec![
            (Swatch::Line(LINE.into()), value.to_string()),
            (Swatch::Fill(BAND.into()), band_words.clone()),
            (Swatch::Dot(BREACH.into()), "outside its band".to_string()),
        ];
        if thin {
            keys.push((
                Swatch::Hollow(LINE.into()),
                format!("fewer than {MIN_DAY_POSTS} posts that day: not judged"),
            ));
        }
        keys
    };
    let mut charts = vec![
        figure(
            trend(
                "Mean customer sentiment per day, all brands, against its trailing baseline",
                "mean sentiment",
                &calendar,
                &overall,
                mean,
                enough,
            ),
            &keys(
                "mean customer sentiment (cx_sentiment, -1..1) per UTC day",
                true,
            ),
        ),
        figure(
            trend(
                "Customer posts per day, all brands, against their trailing baseline",
                "posts",
                &calendar,
                &overall,
                |d| Some(d.posts),
                |_| true,
            ),
            &keys("customer posts per UTC day", false),
        ),
    ];
    if by_brand.len() > 1 {
        for (brand, series) in &by_brand {
            charts.push(figure(
                trend(
                    &format!("Mean customer sentiment per day: {brand}"),
                    "mean sentiment",
                    &calendar,
                    series,
                    mean,
                    enough,
                ),
                &keys(
                    &format!("{brand}'s mean customer sentiment per UTC day"),
                    true,
                ),
            ));
        }
    }
    charts
}

/// A daily trend over `calendar` with its trailing band (`value` of each day's totals; a
/// day without posts counts as 0 posts and no sentiment). Only days `judged` true are judged
/// against their band and make up the bands of the days after.
fn trend(
    title: &str,
    label: &str,
    calendar: &[NaiveDate],
    series: &BTreeMap<NaiveDate, Day>,
    value: impl Fn(&Day) -> Option<f64>,
    judged: impl Fn(&Day) -> bool,
) -> String {
    let days: Vec<Day> = calendar
        .iter()
        .map(|d| series.get(d).copied().unwrap_or_default())
        .collect();
    let values: Vec<Option<f64>> = days.iter().map(&value).collect();
    let judged: Vec<bool> = days.iter().map(&judged).collect();
    let counted: Vec<Option<f64>> = values
        .iter()
        .zip(&judged)
        .map(|(v, j)| v.filter(|_| *j))
        .collect();
    let points: Vec<TrendPoint> = calendar
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let band = trailing_band(&counted[i.saturating_sub(BAND_DAYS)..i]);
            let mut tip = format!("{day}: {}", values[i].map_or("no posts".into(), short));
            let _ = write!(tip, " ({} posts)", short(days[i].posts));
            if let Some((lo, hi)) = band {
                let _ = write!(tip, ", baseline band {} to {}", short(lo), short(hi));
            }
            if !judged[i] && values[i].is_some() {
                tip.push_str(", too few posts to judge");
            }
            TrendPoint {
                label: day.format("%Y-%m-%d").to_string(),
                value: values[i],
                band,
                judged: judged[i],
                tip,
            }
        })
        .collect();
    svg::trend_chart(title, label, &points)
}

/// mean +- BAND_SIGMAS standard deviations of the known values in `window`, if there are
/// enough of them.
fn trailing_band(window: &[Option<f64>]) -> Option<(f64, f64)> {
    let known: Vec<f64> = window.iter().flatten().copied().collect();
    if known.len() < BAND_MIN_DAYS {
        return None;
    }
    let n = known.len() as f64;
    let mean = known.iter().sum::<f64>() / n;
    let var = known.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    Some((mean - BAND_SIGMAS * sd, mean + BAND_SIGMAS * sd))
}

/// The colours of a diverging legend, red to green.
fn scale() -> Vec<String> {
    [-1.0, -0.5, 0.0, 0.5, 1.0]
        .iter()
        .map(|v| diverging(*v))
        .collect()
}

fn audit_charts(rows: &Rows, min_posts: f64) -> Vec<String> {
    let stages = rows.text("stage");
    let channels = rows.text("channel");
    let posts = rows.num("customer_posts");
    let net = rows.num("net_sentiment");
    let overlap = rows.num("overlap_authors");
    let response = rows.num("response_rate");
    let gap = rows.flag("gap");
    let mut stage_order: Vec<String> = Vec::new();
    for s in stages.iter().flatten() {
        if !stage_order.contains(s) {
            stage_order.push(s.clone());
        }
    }
    let channel_order: Vec<String> = channels
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if stage_order.is_empty() || channel_order.is_empty() {
        return Vec::new();
    }
    let scale_max = net
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(0.05);
    let mut cells: Vec<Vec<Cell>> = stage_order
        .iter()
        .map(|_| {
            channel_order
                .iter()
                .map(|_| Cell {
                    text: String::new(),
                    color: "#ffffff".into(),
                    gap: false,
                    tip: String::new(),
                })
                .collect()
        })
        .collect();
    for i in 0..rows.len() {
        let (Some(stage), Some(channel)) = (&stages[i], &channels[i]) else {
            continue;
        };
        let r = stage_order.iter().position(|s| s == stage).expect("listed");
        let c = channel_order
            .iter()
            .position(|s| s == channel)
            .expect("listed");
        let n = posts[i].unwrap_or(0.0);
        let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{:.0}%", v * 100.0));
        cells[r][c] = Cell {
            text: short(n),
            color: net[i].map_or("#ffffff".into(), |v| diverging(v / scale_max)),
            gap: gap[i],
            tip: format!(
                "{stage} on {channel}: {} posts{}, net sentiment {}, response rate {}, {} authors also heard on another channel",
                short(n),
                if gap[i] { " (a gap)" } else { "" },
                net[i].map_or("-".into(), |v| format!("{v:+.2}")),
                pct(response[i]),
                short(overlap[i].unwrap_or(0.0)),
            ),
        };
    }
    vec![figure(
        svg::heatmap(
            "Journey stage x channel: customer posts per cell",
            &stage_order,
            &channel_order,
            &cells,
        ),
        &[
            (
                Swatch::Scale(scale()),
                format!(
                    "net sentiment (share positive - share negative), {:+.2} to {:+.2}",
                    -scale_max, scale_max
                ),
            ),
            (
                Swatch::Hatch,
                format!("gap: fewer than {} customer posts", short(min_posts)),
            ),
        ],
    )]
}

fn influencer_charts(rows: &Rows) -> Vec<String> {
    let authors = rows.text("author_id");
    let percentile = rows.num("influence_percentile");
    let sentiment = rows.num("mean_sentiment");
    let stages = rows.text("stages");
    let channels = rows.text("channels");
    let messages = rows.num("messages");
    let pagerank = rows.num("pagerank");
    let followers = rows.num("followers");
    let examples = rows.text("example_post");
    let example_channel = rows.text("example_channel");
    let handle = |i: usize| format!("@{}", authors[i].as_deref().unwrap_or(""));
    let bars: Vec<Bar> = (0..rows.len().min(25))
        .map(|i| Bar {
            label: handle(i),
            value: 100.0 * pagerank[i].unwrap_or(0.0),
            color: diverging(sentiment[i].unwrap_or(0.0)),
            tip: format!(
                "{}: {:.2}% of all influence (PageRank), percentile {}, {} followers, {} messages, mean sentiment {}, stages: {}; channels: {}",
                handle(i),
                100.0 * pagerank[i].unwrap_or(0.0),
                short(percentile[i].unwrap_or(0.0)),
                followers[i].map_or("unknown".into(), count),
                short(messages[i].unwrap_or(0.0)),
                sentiment[i].map_or("-".into(), |v| format!("{v:+.2}")),
                stages[i].as_deref().unwrap_or("-"),
                channels[i].as_deref().unwrap_or("-"),
            ),
        })
        .collect();
    if bars.is_empty() {
        return Vec::new();
    }
    let mut people = String::from("<ol class=\"people\">");
    for i in 0..rows.len().min(PEOPLE_SHOWN) {
        let _ = write!(
            people,
            "<li><p class=\"meta\"><b>{}</b> · {} followers · influence percentile {} · {} messages · mean sentiment {} · {}</p>",
            escape(&handle(i)),
            followers[i].map_or("unknown".into(), count),
            short(percentile[i].unwrap_or(0.0)),
            count(messages[i].unwrap_or(0.0)),
            sentiment[i].map_or("-".into(), |v| format!("{v:+.2}")),
            escape(channels[i].as_deref().unwrap_or("-")),
        );
        if let Some(post) = &examples[i] {
            let _ = write!(
                people,
                "<blockquote title=\"their most engaged post{}\">{}</blockquote>",
                example_channel[i]
                    .as_deref()
                    .map(|c| format!(", on {}", escape(c)))
                    .unwrap_or_default(),
                escape(post)
            );
        }
        people.push_str("</li>");
    }
    people.push_str("</ol>");
    vec![
        figure(
            svg::bar_chart(
                "Influencer leaderboard: share of all influence (PageRank, %), coloured by mean sentiment",
                &bars,
                None,
            ),
            &[(
                Swatch::Scale(scale()),
                "the author's mean sentiment, -1 (red) to +1 (green)".to_string(),
            )],
        ),
        format!(
            "<h3>The first {} to reach out to, with their most engaged post</h3>{people}",
            rows.len().min(PEOPLE_SHOWN)
        ),
    ]
}

/// A stable colour per team.
fn team_color(team: &str) -> String {
    const PALETTE: [&str; 8] = [
        "#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#ff8800",
    ];
    let hash = team
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    PALETTE[hash as usize % PALETTE.len()].into()
}

fn triage_charts(rows: &Rows) -> Vec<String> {
    let threads = rows.text("thread_id");
    let teams = rows.text("team");
    let stages = rows.text("stage");
    let statuses = rows.text("status");
    let brands = rows.text("brand");
    let channels = rows.text("channel");
    let priority = rows.num("priority");
    let authors = rows.text("author_id");
    let percentile = rows.num("influence_percentile");
    let hours = rows.num("waiting_hours");
    let waiting = rows.num("waiting_messages");
    let since = rows.text("waiting_since");
    let texts = rows.text("text");
    let bars: Vec<Bar> = (0..rows.len().min(25))
        .map(|i| {
            let team = teams[i].clone().unwrap_or_default();
            Bar {
                label: format!("{} · {team}", threads[i].as_deref().unwrap_or("")),
                value: priority[i].unwrap_or(0.0),
                color: team_color(&team),
                tip: format!(
                    "priority {:.1}: {} ({}, waiting {} h) to {team}: {}",
                    priority[i].unwrap_or(0.0),
                    authors[i].as_deref().unwrap_or(""),
                    stages[i].as_deref().unwrap_or(""),
                    short(hours[i].unwrap_or(0.0)),
                    texts[i].as_deref().unwrap_or(""),
                ),
            }
        })
        .collect();
    if bars.is_empty() {
        return Vec::new();
    }
    let mut per_team: BTreeMap<String, usize> = BTreeMap::new();
    for t in teams.iter().flatten() {
        *per_team.entry(t.clone()).or_default() += 1;
    }
    let team_bars: Vec<Bar> = per_team
        .iter()
        .map(|(team, n)| Bar {
            label: team.clone(),
            value: *n as f64,
            color: team_color(team),
            tip: format!("{team}: {n} conversations waiting in this queue"),
        })
        .collect();
    let team_keys: Vec<(Swatch, String)> = per_team
        .keys()
        .map(|team| (Swatch::Fill(team_color(team)), team.clone()))
        .collect();
    let mut queue = String::from("<ol class=\"queue\">");
    for i in 0..rows.len().min(QUEUE_SHOWN) {
        let team = teams[i].clone().unwrap_or_default();
        let _ = write!(
            queue,
            "<li><p class=\"meta\"><b>priority {:.1}</b> · <span class=\"team\" style=\"border-color:{}\">{}</span> · {} · {} on {} · <b>@{}</b> (influence percentile {}) · waiting {} h since {} · {} message{} waiting · thread {}</p><blockquote>{}</blockquote></li>",
            priority[i].unwrap_or(0.0),
            escape(&team_color(&team)),
            escape(&team),
            escape(statuses[i].as_deref().unwrap_or("")),
            escape(brands[i].as_deref().unwrap_or("")),
            escape(channels[i].as_deref().unwrap_or("")),
            escape(authors[i].as_deref().unwrap_or("")),
            short(percentile[i].unwrap_or(0.0)),
            short(hours[i].unwrap_or(0.0)),
            escape(&since[i].as_deref().map(instant).unwrap_or_default()),
            count(waiting[i].unwrap_or(0.0)),
            if waiting[i] == Some(1.0) { "" } else { "s" },
            escape(threads[i].as_deref().unwrap_or("")),
            escape(texts[i].as_deref().unwrap_or("")),
        );
    }
    queue.push_str("</ol>");
    vec![
        figure(
            svg::bar_chart(
                "Triage queue: the conversations to answer first (thread · team), by priority",
                &bars,
                None,
            ),
            &team_keys,
        ),
        figure(
            svg::bar_chart("Waiting conversations per team", &team_bars, None),
            &team_keys,
        ),
        format!(
            "<h3>The first {} conversations to answer, with the message waiting</h3>{queue}",
            rows.len().min(QUEUE_SHOWN)
        ),
    ]
}

fn change_charts(rows: &Rows, threshold: f64) -> Vec<String> {
    let brands = rows.text("brand");
    let channels = rows.text("channel");
    let stages = rows.text("stage");
    let metrics = rows.text("metric");
    let z = rows.num("z_score");
    let flagged = rows.flag("flagged");
    let period = rows.num("period_value");
    let mean = rows.num("baseline_mean");
    let sample = rows.num("period_sample");
    let mut picked: Vec<usize> = (0..rows.len()).filter(|&i| flagged[i]).take(30).collect();
    let title = if picked.is_empty() {
        picked = (0..rows.len())
            .filter(|&i| z[i].is_some())
            .take(15)
            .collect();
        format!("No change is flagged at |z| >= {threshold}: the largest z-scores")
    } else {
        format!("Flagged changes against the trailing baseline (|z| >= {threshold})")
    };
    let bars: Vec<Bar> = picked
        .iter()
        .map(|&i| {
            let label = format!(
                "{} · {} · {} · {}",
                brands[i].as_deref().unwrap_or(""),
                channels[i].as_deref().unwrap_or(""),
                stages[i].as_deref().unwrap_or(""),
                metrics[i].as_deref().unwrap_or("")
            );
            let v = z[i].unwrap_or(0.0);
            let rate = matches!(
                metrics[i].as_deref(),
                Some("share_negative" | "response_rate")
            );
            let shown = |x: Option<f64>| match (x, rate) {
                (None, _) => "-".to_string(),
                (Some(x), true) => format!("{:.1}%", 100.0 * x),
                (Some(x), false) => short(x),
            };
            Bar {
                tip: format!(
                    "{label}: {} in the period against a baseline of {} (z = {v:+.2}; {} posts in the period{})",
                    shown(period[i]),
                    shown(mean[i]),
                    short(sample[i].unwrap_or(0.0)),
                    if flagged[i] { "" } else { ", not flagged" },
                ),
                label,
                value: v,
                color: if v >= 0.0 { "#4575b4" } else { "#d73027" }.into(),
            }
        })
        .collect();
    if bars.is_empty() {
        return Vec::new();
    }
    vec![figure(
        svg::bar_chart(&title, &bars, Some(&[-threshold, threshold])),
        &[
            (
                Swatch::Fill("#4575b4".into()),
                "above its baseline (z > 0)".to_string(),
            ),
            (
                Swatch::Fill("#d73027".into()),
                "below its baseline (z < 0)".to_string(),
            ),
            (
                Swatch::Dashed("#d73027".into()),
                format!("the threshold, |z| = {threshold}"),
            ),
        ],
    )]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};

    use super::*;

    /// Baseline rows: brand A, 50 posts a day at 0.1 but -0.9 on day 20; brand B, 2 posts a
    /// day swinging between -0.9 and +0.9.
    fn two_brands() -> Rows {
        let (mut day, mut brand, mut posts, mut mean) = (vec![], vec![], vec![], vec![]);
        for d in 1..=20 {
            let date = format!("2026-01-{d:02}");
            day.push(date.clone());
            brand.push("A".to_string());
            posts.push(50i64);
            mean.push(if d == 20 {
                -0.9
            } else {
                0.1 + 0.001 * (d % 3) as f64
            });
            day.push(date);
            brand.push("B".to_string());
            posts.push(2);
            mean.push(if d % 2 == 0 { 0.9 } else { -0.9 });
        }
        // B's last day: far out of its band, on 2 posts.
        *mean.last_mut().unwrap() = -0.99;
        let batch = RecordBatch::try_from_iter([
            ("brand", Arc::new(StringArray::from(brand)) as ArrayRef),
            ("day", Arc::new(StringArray::from(day)) as ArrayRef),
            (
                "customer_posts",
                Arc::new(Int64Array::from(posts)) as ArrayRef,
            ),
            (
                "mean_sentiment",
                Arc::new(Float64Array::from(mean)) as ArrayRef,
            ),
        ])
        .unwrap();
        Rows::new(&[batch]).unwrap()
    }

    #[test]
    fn a_day_on_a_handful_of_posts_is_drawn_but_never_a_breach() {
        let charts = baseline_charts(&two_brands());
        let chart = |brand: &str| {
            charts
                .iter()
                .find(|c| c.contains(&format!("Mean customer sentiment per day: {brand}")))
                .unwrap()
                .clone()
        };
        let (a, b) = (chart("A"), chart("B"));
        assert!(a.contains("class=\"mark breach\""), "A's day 20 is judged");
        assert!(!a.contains("class=\"mark thin\""));
        assert!(
            !b.contains("class=\"mark breach\""),
            "B rests on 2 posts a day"
        );
        assert_eq!(b.matches("class=\"mark thin\"").count(), 20);
        // Every chart has its legend, and the days their years.
        for c in &charts {
            assert!(c.contains("<figcaption class=\"legend\">") && c.contains("baseline band"));
            assert!(c.contains(">2026-01-01</text>"), "{c}");
        }
        assert!(b.contains("fewer than 10 posts that day: not judged"));
    }

    #[test]
    fn rates_are_percentages_and_rate_metrics_percentage_points() {
        let batch = RecordBatch::try_from_iter([
            (
                "metric",
                Arc::new(StringArray::from(vec!["response_rate", "customer_posts"])) as ArrayRef,
            ),
            (
                "period_value",
                Arc::new(Float64Array::from(vec![0.8421, 12.5])) as ArrayRef,
            ),
            (
                "delta",
                Arc::new(Float64Array::from(vec![-0.1372, 2.0])) as ArrayRef,
            ),
            (
                "share_negative",
                Arc::new(Float64Array::from(vec![0.25, 0.5])) as ArrayRef,
            ),
        ])
        .unwrap();
        let html = Rows::new(&[batch])
            .unwrap()
            .table("vs_baseline", 10)
            .unwrap();
        for shown in [">84.2%<", ">-13.7 pp<", ">25.0%<", ">50.0%<", ">12.5<"] {
            assert!(html.contains(shown), "{shown} in {html}");
        }
    }
}
