//! Reports as one self-contained HTML page that people read: each report's charts (inline
//! SVG, see [`super::svg`]) above its rows. No script, font or style is fetched: the page
//! opens the same with no network, in a browser or attached to a mail.
//!
//! The charts, by report:
//!
//! * `baseline`: daily mean sentiment and customer volume against a trailing baseline band
//!   (the mean +- 2 standard deviations of the 28 days before; from the 7th day on), days
//!   outside the band in red, overall and per brand;
//! * `channel_audit`: the journey stage x channel heatmap, coloured by net sentiment, with
//!   the gaps hatched and outlined in red;
//! * `influencers`: the leaderboard of shares of influence (PageRank), coloured by mean
//!   sentiment;
//! * `triage`: the queue by priority, coloured by team, and the waiting count per team;
//! * `vs_baseline`: the z-scores of the flagged changes, with the threshold marked.
//!
//! A report this module does not know gets its table only.
//!
//! ```
//! use socialcx::reports::page::{Section, render};
//! let report = socialcx::reports::find("triage").unwrap();
//! let html = render("CX", "./lake", &[Section::new(report, vec![], vec![])]).unwrap();
//! assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Triage queue"));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use chrono::{NaiveDate, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};

use super::Report;
use super::svg::{self, Bar, Cell, TrendPoint, diverging, short};
use crate::Result;
use crate::output::html::{self, escape};

/// Rows shown under each report's charts (the page says how many it left out).
pub const TABLE_ROWS: usize = 200;

/// Days of the trailing baseline band, the days it needs, and its width in standard
/// deviations.
const BAND_DAYS: usize = 28;
const BAND_MIN_DAYS: usize = 7;
const BAND_SIGMAS: f64 = 2.0;

/// One report's part of a page: the report, the parameter values it ran with, its rows.
#[derive(Debug, Clone)]
pub struct Section {
    report: Report,
    values: Vec<(String, String)>,
    batches: Vec<RecordBatch>,
}

impl Section {
    /// `report` run with `values` (name, value) gave `batches`.
    pub fn new(report: Report, values: Vec<(String, String)>, batches: Vec<RecordBatch>) -> Self {
        Section {
            report,
            values,
            batches,
        }
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
            "<section id=\"{}\"><h2>{}</h2><p class=\"question\">{}</p><p class=\"params\">",
            escape(&r.name),
            escape(&r.title),
            escape(&r.description)
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
        let charts = match r.name.as_str() {
            "baseline" => baseline_charts(&rows),
            "channel_audit" => audit_charts(&rows),
            "influencers" => influencer_charts(&rows),
            "triage" => triage_charts(&rows),
            "vs_baseline" => {
                let threshold = section
                    .value("threshold")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(2.0);
                change_charts(&rows, threshold)
            }
            _ => Vec::new(),
        };
        if rows.len() == 0 {
            body.push_str("<p class=\"empty\">No rows for these parameters.</p>");
        }
        for chart in charts {
            let _ = write!(body, "<figure>{chart}</figure>");
        }
        body.push_str(&rows.table(TABLE_ROWS)?);
        body.push_str("</section>");
    }
    let generated = Utc::now().format("%Y-%m-%d %H:%M UTC");
    let header = format!(
        "<p>socialcx, lake <code>{}</code>, {generated}</p><nav>{contents}</nav>",
        escape(lake)
    );
    body.push_str("<script>");
    body.push_str(CHECK);
    body.push_str("</script>");
    Ok(html::page(title, &header, &body, STYLE))
}

/// What report pages add to the shared style: the contents, the sections, the parameters,
/// the charts.
const STYLE: &str = "nav a{margin-right:14px}section{border-top:1px solid #ddd;margin-top:24px;\
padding-top:8px}.question{max-width:80ch}.params span{display:inline-block;background:#f4f4f4;\
border-radius:4px;padding:1px 6px;margin:2px 4px 2px 0;font-size:12px}figure{margin:12px 0;overflow-x:auto}";

/// A self-check, for tests and curious readers: counts the marks each chart drew (the page
/// does not need it).
const CHECK: &str = "document.querySelectorAll('svg.chart').forEach(function(s){var n=0;\
s.querySelectorAll('.mark').forEach(function(m){var b=m.getBBox();if(b.width>0||b.height>0)n++;});\
s.setAttribute('data-drawn',n);var r=s.getBoundingClientRect();\
s.setAttribute('data-size',Math.round(r.width)+'x'+Math.round(r.height));});\
document.body.setAttribute('data-charts',document.querySelectorAll('svg.chart').length);";

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

    /// The first `limit` rows as an HTML table.
    fn table(&self, limit: usize) -> Result<String> {
        let shown = self.batch.slice(0, self.len().min(limit));
        html::table(&self.batch.schema(), &[shown], self.len())
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
    let mut charts = vec![
        trend(
            "Mean customer sentiment per day, all brands, against its trailing baseline",
            "mean sentiment",
            &calendar,
            &overall,
            mean,
        ),
        trend(
            "Customer posts per day, all brands, against their trailing baseline",
            "posts",
            &calendar,
            &overall,
            |d| Some(d.posts),
        ),
    ];
    if by_brand.len() > 1 {
        for (brand, series) in &by_brand {
            charts.push(trend(
                &format!("Mean customer sentiment per day: {brand}"),
                "mean sentiment",
                &calendar,
                series,
                mean,
            ));
        }
    }
    charts
}

/// A daily trend over `calendar` with its trailing band (`value` of each day's totals; a
/// day without posts counts as 0 posts and no sentiment).
fn trend(
    title: &str,
    label: &str,
    calendar: &[NaiveDate],
    series: &BTreeMap<NaiveDate, Day>,
    value: impl Fn(&Day) -> Option<f64>,
) -> String {
    let values: Vec<Option<f64>> = calendar
        .iter()
        .map(|d| value(&series.get(d).copied().unwrap_or_default()))
        .collect();
    let points: Vec<TrendPoint> = calendar
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let band = trailing_band(&values[i.saturating_sub(BAND_DAYS)..i]);
            let mut tip = format!("{day}: {}", values[i].map_or("no posts".into(), short));
            if let Some((lo, hi)) = band {
                let _ = write!(tip, " (baseline band {} to {})", short(lo), short(hi));
            }
            TrendPoint {
                label: day.format("%b %d").to_string(),
                value: values[i],
                band,
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

fn audit_charts(rows: &Rows) -> Vec<String> {
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
    let scale = net
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
            color: net[i].map_or("#ffffff".into(), |v| diverging(v / scale)),
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
    vec![svg::heatmap(
        &format!(
            "Journey stage x channel: customer posts, coloured by net sentiment (±{scale:.2}); gaps hatched"
        ),
        &stage_order,
        &channel_order,
        &cells,
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
    let bars: Vec<Bar> = (0..rows.len().min(25))
        .map(|i| Bar {
            label: authors[i].clone().unwrap_or_default(),
            value: 100.0 * pagerank[i].unwrap_or(0.0),
            color: diverging(sentiment[i].unwrap_or(0.0)),
            tip: format!(
                "{}: {:.2}% of all influence (PageRank), percentile {}, {} messages, mean sentiment {}, stages: {}; channels: {}",
                authors[i].as_deref().unwrap_or(""),
                100.0 * pagerank[i].unwrap_or(0.0),
                short(percentile[i].unwrap_or(0.0)),
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
    vec![svg::bar_chart(
        "Influencer leaderboard: share of all influence (PageRank, %), coloured by mean sentiment",
        &bars,
        None,
    )]
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
    let priority = rows.num("priority");
    let authors = rows.text("author_id");
    let hours = rows.num("waiting_hours");
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
    vec![
        svg::bar_chart(
            "Triage queue: the conversations to answer first (thread · team), by priority",
            &bars,
            None,
        ),
        svg::bar_chart("Waiting conversations per team", &team_bars, None),
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
    let mut picked: Vec<usize> = (0..rows.len()).filter(|&i| flagged[i]).take(30).collect();
    let title = if picked.is_empty() {
        picked = (0..rows.len())
            .filter(|&i| z[i].is_some())
            .take(15)
            .collect();
        format!("No change reaches |z| >= {threshold}: the largest z-scores")
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
            Bar {
                tip: format!(
                    "{label}: {} in the period against a baseline of {} (z = {v:+.2})",
                    period[i].map_or("-".into(), short),
                    mean[i].map_or("-".into(), short),
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
    vec![svg::bar_chart(
        &title,
        &bars,
        Some(&[-threshold, threshold]),
    )]
}
