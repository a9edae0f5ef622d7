//! Reports as SQL objects, for BI tools and prepared statements: every shipped report is a
//! view `reports.NAME` (its defaults) and a table function `NAME(arg, ...)` taking its
//! parameters in header order.
//!
//! ```sql
//! SELECT * FROM reports.channel_audit;                        -- defaults
//! SELECT * FROM triage('2026-03-01', '2026-03-08', 'acme');   -- from, to, brand
//! SELECT * FROM triage($1, $2);                               -- prepared (Flight SQL)
//! ```
//!
//! Omitted trailing arguments take their defaults; `NULL` means "no filter", except for a
//! window's `from` and `to`, where it means the report's default window: the view and the
//! function resolve it from the lake each time they are scanned, as the command line does
//! (see [`super::period`]), so a BI tool's `vs_baseline()` reads the files of its five weeks
//! only. A placeholder argument plans with the default, so a prepared statement can be
//! described before its values are bound (the Flight SQL server binds them into the call
//! when it runs).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::period::Calendar;
use super::{Param, ParamType, Report};
use crate::engine::table_function::{CallArgs, SqlTable, session_state};

/// Name of the schema holding one view per report.
pub const REPORTS_SCHEMA: &str = "reports";

/// `report` with `values` (name, value; `None` for NULL) as a table announcing `schema`.
/// Each scan resolves the report's window against the lake as it is then
/// ([`Report::resolve_with`]), binds the values and plans the SQL in the scanning session,
/// so the lake prunes its files by the resolved bounds.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::datasource::TableType;
/// use socialcx::reports::{find, table::ReportTable};
/// let schema = Arc::new(datafusion::arrow::datatypes::Schema::empty());
/// let report = Arc::new(find("triage").unwrap());
/// assert!(ReportTable::new(report.clone(), vec![("limit".into(), Some("10".into()))], schema.clone(), TableType::View).is_ok());
/// assert!(ReportTable::new(report, vec![("limit".into(), Some("ten".into()))], schema, TableType::View).is_err());
/// ```
#[derive(Debug)]
pub struct ReportTable {
    report: Arc<Report>,
    values: Vec<(String, Option<String>)>,
    sql: String,
    schema: SchemaRef,
    kind: TableType,
}

impl ReportTable {
    /// The table of `report` run with `values` (checked now: a wrong name or value is an
    /// error here, not at the scan); see the example on [`ReportTable`].
    pub fn new(
        report: Arc<Report>,
        values: Vec<(String, Option<String>)>,
        schema: SchemaRef,
        kind: TableType,
    ) -> crate::Result<ReportTable> {
        let sql = report.bind_values(&values)?;
        Ok(ReportTable {
            report,
            values,
            sql,
            schema,
            kind,
        })
    }
}

#[async_trait]
impl TableProvider for ReportTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        self.kind
    }

    fn get_table_definition(&self) -> Option<&str> {
        // The SQL with the values as given (the window is resolved at each scan).
        Some(&self.sql)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let label = format!("report {}", self.report.name);
        let calendar = if self.report.needs_calendar(&self.values) {
            Some(Calendar::read(session_state(state, &label)?).await?)
        } else {
            None
        };
        let plain = |e: crate::Error| DataFusionError::Plan(e.to_string());
        let (values, _) = self
            .report
            .resolve_with(calendar.as_ref(), &self.values)
            .map_err(plain)?;
        let sql = self.report.bind_values(&values).map_err(plain)?;
        let table = SqlTable::new(label, sql, Arc::clone(&self.schema), self.kind);
        table.scan(state, projection, filters, limit).await
    }
}

/// `NAME(arg, ...)`: the report called with positional arguments.
#[derive(Debug)]
pub struct ReportFunction {
    report: Arc<Report>,
    schema: SchemaRef,
}

impl ReportFunction {
    /// The table function for `report`, whose result has `schema`.
    pub fn new(report: Arc<Report>, schema: SchemaRef) -> ReportFunction {
        ReportFunction { report, schema }
    }

    fn signature(&self) -> String {
        let params: Vec<&str> = self.report.params.iter().map(|p| p.name.as_str()).collect();
        format!("{}({})", self.report.name, params.join(", "))
    }
}

impl TableFunctionImpl for ReportFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let given = args.exprs().len();
        if given > self.report.params.len() {
            return plan_err!(
                "{} takes at most {} arguments, {given} given",
                self.signature(),
                self.report.params.len()
            );
        }
        let args = CallArgs::evaluate(self.signature(), &args)?;
        let mut values = Vec::new();
        for (i, param) in self.report.params.iter().enumerate().take(args.len()) {
            if args.is_placeholder(i) {
                // Described before binding: the default stands in (same schema).
                continue;
            }
            values.push((param.name.clone(), argument_text(&args, i, param)?));
        }
        let table = ReportTable::new(
            Arc::clone(&self.report),
            values,
            Arc::clone(&self.schema),
            TableType::Temporary,
        )
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(Arc::new(table))
    }
}

/// Argument `i` of a call as `param`'s text form (`None` for NULL): a string as it is (the
/// report checks it as it binds), any other value cast to the parameter's type.
fn argument_text(args: &CallArgs, i: usize, param: &Param) -> Result<Option<String>> {
    let name = param.name.as_str();
    let Some(value) = args.value(i, name)? else {
        return Ok(None);
    };
    if let Some(text) = args.text(i) {
        return Ok(Some(text.to_string()));
    }
    Ok(match param.kind {
        ParamType::Timestamp => match args.timestamp(i, name)? {
            None => None,
            Some(us) => Some(
                DateTime::from_timestamp_micros(us)
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                    .ok_or_else(|| args.error(name, format!("{value} is out of range")))?,
            ),
        },
        ParamType::String => Some(value.to_string()),
        kind => args
            .cast(i, name, &kind.data_type(), noun(kind))?
            .map(|v| v.to_string()),
    })
}

/// What a value of `kind` is, in words (for errors).
fn noun(kind: ParamType) -> &'static str {
    match kind {
        ParamType::Timestamp => "a timestamp",
        ParamType::Date => "a date",
        ParamType::String => "a string",
        ParamType::Int => "an integer",
        ParamType::Float => "a number",
        ParamType::Bool => "a boolean",
    }
}

/// `schema` with every field nullable: a report's columns may be null for some arguments.
pub(crate) fn nullable(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ))
}
