//! Shipped reports: the SQL files under `queries/`, embedded in the binary, runnable by name
//! with typed parameters.
//!
//! Each file starts with a header of `--` comment lines:
//!
//! ```sql
//! -- name: baseline
//! -- title: Customer-experience baseline
//! -- description: What question it answers (may continue on
//! --   indented lines).
//! -- param: from timestamp 2026-01-01T00:00:00Z  First instant of the window (UTC)
//! -- param: brand string null  Only this brand (null: every brand)
//! ```
//!
//! A parameter is `name type default description`; types are `timestamp`, `date`, `string`,
//! `int`, `float` and `bool`; `null` is a default meaning "no filter". In the SQL, `$name`
//! stands for the value, rendered as a typed SQL literal (so it works anywhere, table
//! function arguments and `LIMIT` included). Every shipped report is planned against the
//! lake's schema when an [`Engine`] opens and in the tests: a broken query fails there,
//! not in a user's dashboard.
//!
//! A report with a `-- window: to=last_complete_day from=7d` line (see [`period`]) has its
//! null `from` and `to` resolved from the lake before it is bound: its period ends at the
//! last complete day, as literal timestamps the lake prunes its files by.

pub mod page;
pub mod period;
pub mod routing;
pub mod stored;
pub mod svg;
pub mod table;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::TableType;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::engine::{EngineExtension, sql_literal};
use crate::{Engine, EngineConfig, Error, Result};
use period::{Calendar, End, EndReason, Period, Start, Window, instant_text, midnight};

/// The shipped report files, embedded at build time.
const SHIPPED: &[(&str, &str)] = &[
    (
        "queries/baseline.sql",
        include_str!("../../queries/baseline.sql"),
    ),
    (
        "queries/channel_audit.sql",
        include_str!("../../queries/channel_audit.sql"),
    ),
    (
        "queries/influencers.sql",
        include_str!("../../queries/influencers.sql"),
    ),
    (
        "queries/triage.sql",
        include_str!("../../queries/triage.sql"),
    ),
    (
        "queries/vs_baseline.sql",
        include_str!("../../queries/vs_baseline.sql"),
    ),
];

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// An instant, `2026-01-15T00:00:00Z` or `2026-01-15` (midnight UTC).
    Timestamp,
    /// A calendar day, `2026-01-15`.
    Date,
    /// Text.
    String,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// `true` or `false`.
    Bool,
}

impl ParamType {
    fn parse(text: &str) -> Option<ParamType> {
        Some(match text {
            "timestamp" => ParamType::Timestamp,
            "date" => ParamType::Date,
            "string" => ParamType::String,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            _ => return None,
        })
    }

    /// The type's name in report headers.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Timestamp => "timestamp",
            ParamType::Date => "date",
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
        }
    }

    /// The Arrow type a value of this type has in SQL (what a client binds).
    ///
    /// ```
    /// use socialcx::reports::ParamType;
    /// assert_eq!(ParamType::Int.data_type(), datafusion::arrow::datatypes::DataType::Int64);
    /// ```
    pub fn data_type(self) -> DataType {
        match self {
            ParamType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ParamType::Date => DataType::Date32,
            ParamType::String => DataType::Utf8,
            ParamType::Int => DataType::Int64,
            ParamType::Float => DataType::Float64,
            ParamType::Bool => DataType::Boolean,
        }
    }

    /// `value` as a SQL literal of this type (`None`: a typed NULL), or why it is not one.
    ///
    /// ```
    /// use socialcx::reports::ParamType;
    /// assert_eq!(ParamType::String.literal(Some("O'Hara")).unwrap(), "'O''Hara'");
    /// assert_eq!(ParamType::Int.literal(None).unwrap(), "CAST(NULL AS BIGINT)");
    /// assert!(ParamType::Timestamp.literal(Some("last week")).is_err());
    /// ```
    pub fn literal(self, value: Option<&str>) -> std::result::Result<String, String> {
        let Some(value) = value else {
            return Ok(match self {
                ParamType::Timestamp => "arrow_cast(NULL, 'Timestamp(µs, \"UTC\")')".into(),
                ParamType::Date => "CAST(NULL AS DATE)".into(),
                ParamType::String => "CAST(NULL AS VARCHAR)".into(),
                ParamType::Int => "CAST(NULL AS BIGINT)".into(),
                ParamType::Float => "CAST(NULL AS DOUBLE)".into(),
                ParamType::Bool => "CAST(NULL AS BOOLEAN)".into(),
            });
        };
        let bad = |what: &str| format!("{value:?} is not {what}");
        Ok(match self {
            ParamType::Timestamp => {
                let instant = parse_timestamp(value)
                    .ok_or_else(|| bad("a timestamp (2026-01-15T00:00:00Z or 2026-01-15)"))?;
                format!(
                    "arrow_cast({}, 'Timestamp(µs, \"UTC\")')",
                    instant.timestamp_micros()
                )
            }
            ParamType::Date => {
                let day = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| bad("a date (2026-01-15)"))?;
                format!("DATE '{day}'")
            }
            ParamType::String => sql_literal(value),
            ParamType::Int => value
                .parse::<i64>()
                .map_err(|_| bad("an integer"))?
                .to_string(),
            ParamType::Float => {
                let f = value.parse::<f64>().map_err(|_| bad("a number"))?;
                if !f.is_finite() {
                    return Err(bad("a finite number"));
                }
                format!("CAST({f:?} AS DOUBLE)")
            }
            ParamType::Bool => match value.to_ascii_lowercase().as_str() {
                "true" => "TRUE".into(),
                "false" => "FALSE".into(),
                _ => return Err(bad("true or false")),
            },
        })
    }
}

/// A timestamp parameter's text as an instant: RFC 3339 (`2026-01-15T00:00:00Z`) or a day
/// (`2026-01-15`, midnight UTC).
///
/// ```
/// let t = socialcx::reports::parse_timestamp("2026-01-15").unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-01-15T00:00:00+00:00");
/// assert!(socialcx::reports::parse_timestamp("last week").is_none());
/// ```
pub fn parse_timestamp(value: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .map(midnight),
    }
}

/// Parameter values by name; `None` is SQL null (no filter).
pub type ParamValues = Vec<(String, Option<String>)>;

/// Values as the command line writes them (`null` for NULL) as text or NULL (`None`).
///
/// ```
/// let v = socialcx::reports::text_values(&[("brand".into(), "null".into()), ("n".into(), "3".into())]);
/// assert_eq!(v, [("brand".to_string(), None), ("n".to_string(), Some("3".to_string()))]);
/// ```
pub fn text_values(values: &[(String, String)]) -> ParamValues {
    values
        .iter()
        .map(|(name, v)| (name.clone(), (v != "null").then(|| v.clone())))
        .collect()
}

/// One declared parameter of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name (`$name` in the SQL).
    pub name: String,
    /// Its type.
    pub kind: ParamType,
    /// Its default (`None`: null, meaning "no filter").
    pub default: Option<String>,
    /// What it means.
    pub description: String,
}

/// A report: header and SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The name it runs by.
    pub name: String,
    /// A short title.
    pub title: String,
    /// The question it answers.
    pub description: String,
    /// Its parameters, in header order.
    pub params: Vec<Param>,
    /// How its null `from` and `to` are resolved (the `-- window:` line; see [`period`]).
    pub window: Option<Window>,
    /// The SQL (with the header).
    pub sql: String,
    /// Where it came from (for messages).
    pub source: String,
}

impl Report {
    /// Read a report file's header.
    ///
    /// ```
    /// let r = socialcx::reports::Report::parse("x.sql",
    ///     "-- name: x\n-- title: X\n-- description: counts\n-- param: n int 3  how many\nSELECT $n").unwrap();
    /// assert_eq!(r.params[0].default.as_deref(), Some("3"));
    /// ```
    pub fn parse(source: &str, sql: &str) -> Result<Report> {
        let err = |message: String| Error::config(source, message);
        let mut fields: BTreeMap<&str, String> = BTreeMap::new();
        let mut params = Vec::new();
        let mut window = None;
        let mut last: Option<&str> = None;
        for line in sql.lines() {
            let Some(comment) = line.trim_start().strip_prefix("--") else {
                break;
            };
            if let Some(rest) = comment.strip_prefix("   ").or(comment.strip_prefix("\t")) {
                // A continuation line of the previous field.
                if let Some(key) = last
                    && key != "param"
                {
                    let v = fields.entry(key).or_default();
                    v.push(' ');
                    v.push_str(rest.trim());
                }
                continue;
            }
            let comment = comment.trim();
            let Some((key, value)) = comment.split_once(':') else {
                last = None;
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "name" | "title" | "description" => {
                    fields.insert(key, value.to_string());
                    last = Some(key);
                }
                "param" => {
                    let mut parts = value.splitn(3, char::is_whitespace);
                    let name = parts.next().unwrap_or_default().to_string();
                    let kind = parts.next().unwrap_or_default();
                    let rest = parts.next().unwrap_or_default().trim_start();
                    let (default, description) =
                        rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    let kind = ParamType::parse(kind).ok_or_else(|| {
                        err(format!(
                            "parameter {name}: unknown type {kind:?} (timestamp, date, string, int, float, bool)"
                        ))
                    })?;
                    if name.is_empty() || default.is_empty() {
                        return Err(err(format!(
                            "bad parameter line {value:?}: name type default description"
                        )));
                    }
                    let default = (default != "null").then(|| default.to_string());
                    kind.literal(default.as_deref())
                        .map_err(|e| err(format!("parameter {name}: default {e}")))?;
                    params.push(Param {
                        name,
                        kind,
                        default,
                        description: description.trim().to_string(),
                    });
                    last = Some("param");
                }
                "window" => {
                    window = Some(Window::parse(value).map_err(err)?);
                    last = None;
                }
                _ => last = None,
            }
        }
        let take = |key: &str| {
            fields
                .get(key)
                .cloned()
                .ok_or_else(|| err(format!("the header has no `-- {key}:` line")))
        };
        if window.is_some() {
            for bound in ["from", "to"] {
                if !params
                    .iter()
                    .any(|p| p.name == bound && p.kind == ParamType::Timestamp)
                {
                    return Err(err(format!(
                        "a `-- window:` line needs a timestamp parameter `{bound}`"
                    )));
                }
            }
        }
        Ok(Report {
            name: take("name")?,
            title: take("title")?,
            description: take("description")?,
            params,
            window,
            sql: sql.to_string(),
            source: source.to_string(),
        })
    }

    /// The SQL with every `$param` replaced by its value (from `values`, else the default),
    /// as a typed literal. Unknown names in `values` are refused.
    ///
    /// ```
    /// let r = socialcx::reports::Report::parse("x.sql",
    ///     "-- name: x\n-- title: X\n-- description: d\n-- param: who string null  who\nSELECT $who AS w").unwrap();
    /// let sql = r.bind(&[("who".into(), "ana".into())]).unwrap();
    /// assert!(sql.ends_with("SELECT 'ana' AS w"));
    /// ```
    pub fn bind(&self, values: &[(String, String)]) -> Result<String> {
        self.bind_values(&text_values(values))
    }

    /// [`Report::bind`] with values that are text or NULL (`None`): what SQL and Flight SQL
    /// calls bind, where the string `'null'` is a string like any other.
    ///
    /// ```
    /// let r = socialcx::reports::Report::parse("x.sql",
    ///     "-- name: x\n-- title: X\n-- description: d\n-- param: who string ana  who\nSELECT $who AS w").unwrap();
    /// assert!(r.bind_values(&[("who".into(), Some("null".into()))]).unwrap().ends_with("SELECT 'null' AS w"));
    /// assert!(r.bind_values(&[("who".into(), None)]).unwrap().ends_with("SELECT CAST(NULL AS VARCHAR) AS w"));
    /// ```
    pub fn bind_values(&self, values: &[(String, Option<String>)]) -> Result<String> {
        let usage = |m: String| Error::Usage(format!("report {}: {m}", self.name));
        let literals = self.literals(values)?;
        let tokens = Tokenizer::new(&GenericDialect {}, &self.sql)
            .tokenize()
            .map_err(|e| usage(format!("cannot read the SQL: {e}")))?;
        let mut out = String::with_capacity(self.sql.len());
        for token in tokens {
            match &token {
                Token::Placeholder(p) => match literals.get(p) {
                    Some(literal) => out.push_str(literal),
                    None => {
                        return Err(usage(format!(
                            "the SQL uses {p}, which the header does not declare"
                        )));
                    }
                },
                other => out.push_str(&other.to_string()),
            }
        }
        Ok(out)
    }

    /// Every parameter's literal (`$name` -> SQL), from `values` else the default; unknown
    /// names and values of the wrong type are refused.
    fn literals(&self, values: &[(String, Option<String>)]) -> Result<BTreeMap<String, String>> {
        let usage = |m: String| Error::Usage(format!("report {}: {m}", self.name));
        for (name, _) in values {
            if !self.params.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(usage(format!(
                    "no parameter {name:?} (it takes {})",
                    known.join(", ")
                )));
            }
        }
        let mut literals = BTreeMap::new();
        for p in &self.params {
            let given = values.iter().rev().find(|(n, _)| n == &p.name);
            let value = match given {
                Some((_, v)) => v.as_deref(),
                None => p.default.as_deref(),
            };
            let literal = p
                .kind
                .literal(value)
                .map_err(|e| usage(format!("parameter {}: {e}", p.name)))?;
            literals.insert(format!("${}", p.name), literal);
        }
        Ok(literals)
    }

    /// The value parameter `name` runs with: the last one given, else its default (`None`:
    /// NULL).
    fn effective(&self, values: &[(String, Option<String>)], name: &str) -> Option<String> {
        match values.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => self
                .params
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.default.clone()),
        }
    }

    /// Whether running with `values` needs the lake's [`Calendar`]: the report's window ends
    /// at the last complete day and `to` is null.
    ///
    /// ```
    /// let vs = socialcx::reports::find("vs_baseline").unwrap();
    /// assert!(vs.needs_calendar(&[]));
    /// assert!(!vs.needs_calendar(&[("to".into(), Some("2026-03-01".into()))]));
    /// assert!(!socialcx::reports::find("triage").unwrap().needs_calendar(&[]));
    /// ```
    pub fn needs_calendar(&self, values: &[(String, Option<String>)]) -> bool {
        self.window.is_some_and(|w| w.end == End::LastCompleteDay)
            && self.effective(values, "to").is_none()
    }

    /// `values` with the report's null `from` and `to` resolved by its window against
    /// `calendar` (the lake's days; `None`: nothing is read, nothing resolved that needs
    /// it), and the [`Period`] the report then covers. The values are checked as
    /// [`Report::bind_values`] checks them.
    ///
    /// ```
    /// use socialcx::reports::period::{Calendar, DayCount};
    /// let d = |s: &str| s.parse().unwrap();
    /// let calendar = Calendar::new(vec![DayCount::new(d("2026-03-01"), 10, 8),
    ///     DayCount::new(d("2026-03-02"), 10, 8), DayCount::new(d("2026-03-03"), 1, 0)]);
    /// let vs = socialcx::reports::find("vs_baseline").unwrap();
    /// let (values, period) = vs.resolve_with(Some(&calendar), &[]).unwrap();
    /// assert_eq!(period.to.unwrap().to_rfc3339(), "2026-03-03T00:00:00+00:00");
    /// assert_eq!(period.from.unwrap().to_rfc3339(), "2026-02-24T00:00:00+00:00");
    /// assert!(vs.bind_values(&values).unwrap().contains("arrow_cast(1772496000000000"));
    /// ```
    pub fn resolve_with(
        &self,
        calendar: Option<&Calendar>,
        values: &[(String, Option<String>)],
    ) -> Result<(ParamValues, Period)> {
        self.literals(values)?;
        let instant = |name: &str| -> Option<DateTime<Utc>> {
            self.params
                .iter()
                .find(|p| p.name == name && p.kind == ParamType::Timestamp)
                .and_then(|_| self.effective(values, name))
                .and_then(|v| parse_timestamp(&v))
        };
        let mut period = Period::given(instant("from"), instant("to"));
        period.baseline_days = self
            .params
            .iter()
            .find(|p| p.name == "baseline_days" && p.kind == ParamType::Int)
            .and_then(|_| self.effective(values, "baseline_days"))
            .and_then(|v| v.parse().ok());
        let mut resolved = values.to_vec();
        let Some(window) = self.window else {
            return Ok((resolved, period));
        };
        if period.to.is_none() {
            match window.end {
                End::LastMessage => period.end = EndReason::LastMessage,
                End::LastCompleteDay => {
                    if let Some(calendar) = calendar {
                        period.first_day = calendar.first_day();
                        period.last_day = calendar.last_day();
                        period.last_complete_day = calendar.last_complete_day();
                        let through_last = period
                            .last_day
                            .map(|d| midnight(d + chrono::Duration::days(1)));
                        let (to, reason) = match (period.last_complete_day, through_last) {
                            (_, None) => (None, EndReason::EmptyLake),
                            (None, Some(t)) => (Some(t), EndReason::NoCompleteDay),
                            (Some(day), Some(t)) => {
                                let end = midnight(day + chrono::Duration::days(1));
                                if period.from.is_some_and(|f| f >= end) {
                                    (Some(t), EndReason::FromAfterComplete)
                                } else {
                                    (Some(end), EndReason::LastCompleteDay)
                                }
                            }
                        };
                        period.to = to;
                        period.end = reason;
                        if let Some(to) = to {
                            resolved.push(("to".into(), Some(instant_text(to))));
                        }
                    }
                }
            }
        }
        if period.from.is_none()
            && let Start::DaysBefore(n) = window.start
            && let Some(to) = period.to
        {
            let from = to - chrono::Duration::days(i64::from(n));
            period.from = Some(from);
            period.from_resolved = true;
            resolved.push(("from".into(), Some(instant_text(from))));
        }
        Ok((resolved, period))
    }

    /// [`Report::resolve_with`] against `engine`'s lake: its calendar is read (one small
    /// query over the `date` and `is_brand` columns) only when a bound needs it.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let report = socialcx::reports::find("vs_baseline")?;
    /// let (values, period) = report.resolve(&engine, &[]).await?;
    /// eprintln!("{}", period.describe());
    /// let batches = report.plan_bound(&engine, &values).await?.collect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn resolve(
        &self,
        engine: &Engine,
        values: &[(String, Option<String>)],
    ) -> Result<(ParamValues, Period)> {
        let calendar = if self.needs_calendar(values) {
            let state = engine.context().state();
            Some(Calendar::read(&state).await?)
        } else {
            None
        };
        self.resolve_with(calendar.as_ref(), values)
    }

    /// Plan the report with `values` (`null` for NULL), its window resolved from the lake
    /// first ([`Report::resolve`]); lazy: nothing runs until the result is consumed.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let report = socialcx::reports::find("baseline")?;
    /// let rows = report.plan(&engine, &[("brand".into(), "Voltix".into())]).await?.collect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn plan(&self, engine: &Engine, values: &[(String, String)]) -> Result<DataFrame> {
        let (values, _) = self.resolve(engine, &text_values(values)).await?;
        self.plan_bound(engine, &values).await
    }

    /// Plan the report with `values` exactly as given (text or NULL): nothing resolved.
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
    /// let report = socialcx::reports::find("channel_audit")?;
    /// let schema_only = report.plan_bound(&engine, &[]).await?;   // `to` null: no bound
    /// # Ok(()) }
    /// ```
    pub async fn plan_bound(
        &self,
        engine: &Engine,
        values: &[(String, Option<String>)],
    ) -> Result<DataFrame> {
        let sql = self.bind_values(values)?;
        engine.sql(&sql).await.map_err(|e| {
            Error::config(
                &self.source,
                format!("report {} does not plan: {e}", self.name),
            )
        })
    }
}

/// The shipped reports, sorted by name.
///
/// ```
/// let names: Vec<String> = socialcx::reports::shipped().into_iter().map(|r| r.name).collect();
/// assert!(names.contains(&"baseline".to_string()));
/// ```
pub fn shipped() -> Vec<Report> {
    let mut reports: Vec<Report> = SHIPPED
        .iter()
        .map(|(source, sql)| Report::parse(source, sql).expect("shipped report headers parse"))
        .collect();
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    reports
}

/// The shipped report called `name`.
pub fn find(name: &str) -> Result<Report> {
    let reports = shipped();
    reports
        .iter()
        .find(|r| r.name == name)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
            Error::Usage(format!(
                "no report {name:?}; the reports are {} (socialcx report --list)",
                names.join(", ")
            ))
        })
}

/// Plan every shipped report with its defaults against `engine`'s schema and expose each as
/// the view `reports.NAME` and the table function `NAME(...)` (see [`table`]); register the
/// triage routing table (`routing`, from `routing_file` or the shipped one). The Engine does
/// this when it opens, so a report that no longer plans fails there.
pub async fn register_all(engine: &Engine, routing_file: Option<&Path>) -> Result<()> {
    let ctx = engine.context();
    ctx.register_table(
        routing::ROUTING,
        Arc::new(routing::Routing::load(routing_file)?.table()?),
    )?;
    let views = Arc::new(MemorySchemaProvider::new());
    for report in shipped() {
        // The schema only: the defaults unresolved, so opening reads no data.
        let planned = report.plan_bound(engine, &[]).await?;
        let schema = table::nullable(planned.schema().as_arrow());
        let report = Arc::new(report);
        ctx.register_udtf(
            &report.name,
            Arc::new(table::ReportFunction::new(
                Arc::clone(&report),
                Arc::clone(&schema),
            )),
        );
        let params: Vec<&str> = report.params.iter().map(|p| p.name.as_str()).collect();
        let example = format!("SELECT * FROM {}()", report.name);
        crate::engine::catalog::describe(
            ctx,
            &report.name,
            &format!("{}({})", report.name, params.join(", ")),
            &format!("{}: {}", report.title, report.description),
            Some(example.as_str()),
        );
        let view =
            table::ReportTable::new(Arc::clone(&report), Vec::new(), schema, TableType::View)?;
        views.register_table(report.name.clone(), Arc::new(view))?;
    }
    ctx.catalog(crate::engine::CATALOG)
        .ok_or_else(|| Error::Usage("the engine has no socialcx catalog".into()))?
        .register_schema(table::REPORTS_SCHEMA, views)?;
    Ok(())
}

/// The shipped reports and the routing table as an [`EngineExtension`]: what
/// [`crate::open_with`] adds to every engine (see [`register_all`]).
///
/// ```
/// let cfg = socialcx::EngineConfig::new("memory://")
///     .with_extension(std::sync::Arc::new(socialcx::reports::Reports));
/// assert_eq!(cfg.extensions.len(), 1);
/// ```
#[derive(Debug)]
pub struct Reports;

#[async_trait::async_trait]
impl EngineExtension for Reports {
    async fn register(&self, engine: &Engine, config: &EngineConfig) -> Result<()> {
        // Every shipped report is planned here (one that no longer plans against the
        // schema fails loudly), then exposed as a view and a table function.
        register_all(engine, config.routing.as_deref()).await
    }
}
