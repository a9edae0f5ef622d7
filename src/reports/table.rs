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
//! Omitted trailing arguments take their defaults; `NULL` means "no filter". A placeholder
//! argument plans with the default, so a prepared statement can be described before its
//! values are bound (the Flight SQL server binds them into the call when it runs).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Column, Result, ScalarValue, exec_err, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;

use super::{ParamType, Report};
use crate::engine::influence::table::constant;

/// Name of the schema holding one view per report.
pub const REPORTS_SCHEMA: &str = "reports";

/// A report with its parameter values, as a table; planned in the session that scans it.
#[derive(Debug)]
pub struct ReportTable {
    report: Arc<Report>,
    sql: String,
    schema: SchemaRef,
    kind: TableType,
}

impl ReportTable {
    /// `report` bound to `values` (name, value; `None` for NULL), announcing `schema`.
    pub fn new(
        report: Arc<Report>,
        values: &[(String, Option<String>)],
        schema: SchemaRef,
        kind: TableType,
    ) -> crate::Result<ReportTable> {
        let sql = report.bind_values(values)?;
        Ok(ReportTable {
            report,
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
        Some(&self.sql)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return exec_err!(
                "report {} needs a DataFusion SessionState",
                self.report.name
            );
        };
        let plan = state.create_logical_plan(&self.sql).await?;
        let planned = plan.schema().fields().len();
        if planned != self.schema.fields().len() {
            return plan_err!(
                "report {} now has {planned} columns, {} announced",
                self.report.name,
                self.schema.fields().len()
            );
        }
        let plan = match projection {
            None => plan,
            Some(indices) => {
                let columns: Vec<Expr> = indices
                    .iter()
                    .map(|&i| Expr::Column(Column::from(plan.schema().qualified_field(i))))
                    .collect();
                LogicalPlanBuilder::from(plan).project(columns)?.build()?
            }
        };
        state.create_physical_plan(&plan).await
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
        let exprs = args.exprs();
        if exprs.len() > self.report.params.len() {
            return plan_err!(
                "{} takes at most {} arguments, {} given",
                self.signature(),
                self.report.params.len(),
                exprs.len()
            );
        }
        let mut values = Vec::new();
        for (param, expr) in self.report.params.iter().zip(exprs) {
            if matches!(expr, Expr::Placeholder(_)) {
                // Described before binding: the default stands in (same schema).
                continue;
            }
            let value = constant(args.session(), expr)?;
            let text = argument_text(param.kind, &value).map_err(|e| {
                datafusion::error::DataFusionError::Plan(format!(
                    "{}: {}: {e}",
                    self.signature(),
                    param.name
                ))
            })?;
            values.push((param.name.clone(), text));
        }
        let table = ReportTable::new(
            Arc::clone(&self.report),
            &values,
            Arc::clone(&self.schema),
            TableType::Temporary,
        )
        .map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
        Ok(Arc::new(table))
    }
}

/// A call argument as the report parameter's text form (`None` for NULL).
fn argument_text(
    kind: ParamType,
    value: &ScalarValue,
) -> std::result::Result<Option<String>, String> {
    if value.is_null() {
        return Ok(None);
    }
    if let ScalarValue::Utf8(Some(s))
    | ScalarValue::LargeUtf8(Some(s))
    | ScalarValue::Utf8View(Some(s)) = value
    {
        return Ok(Some(s.clone()));
    }
    let cast = |to: &DataType| {
        value
            .cast_to(to)
            .map_err(|_| format!("{value} is not a {}", kind.name()))
    };
    let text = match kind {
        ParamType::Timestamp => {
            let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
            match cast(&utc)? {
                ScalarValue::TimestampMicrosecond(Some(us), _) => {
                    DateTime::from_timestamp_micros(us)
                        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                        .ok_or_else(|| format!("{value} is out of range"))
                }
                other => Err(format!("{other} is not a timestamp")),
            }
        }
        ParamType::Date => Ok(cast(&DataType::Date32)?.to_string()),
        ParamType::Int => Ok(cast(&DataType::Int64)?.to_string()),
        ParamType::Float => Ok(cast(&DataType::Float64)?.to_string()),
        ParamType::Bool => Ok(cast(&DataType::Boolean)?.to_string()),
        ParamType::String => Ok(value.to_string()),
    };
    text.map(Some)
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
