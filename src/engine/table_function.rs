//! What the SQL-backed table functions share (the graph functions `author_influence(...)`
//! and `thread_centrality(...)`, the reports' `NAME(...)`):
//!
//! - [`CallArgs`]: a call's arguments evaluated as constants and coerced to typed values,
//!   with errors naming the function and the argument;
//! - [`SqlTable`]: a table whose rows are one SQL query's, planned in the session that
//!   scans it (so the lake prunes files for it and `EXPLAIN` shows it);
//! - [`session_state`]: the `SessionState` a scan plans its SQL in.

use std::fmt::Display;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableFunctionArgs, TableProvider};
use datafusion::common::{
    Column, DFSchema, DataFusionError, Result, ScalarValue, exec_err, plan_err,
};
use datafusion::datasource::TableType;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{ColumnarValue, Expr, LogicalPlanBuilder};
use datafusion::physical_plan::ExecutionPlan;

/// One argument of a call.
#[derive(Debug, Clone)]
enum Arg {
    /// A constant (NULL among them).
    Value(ScalarValue),
    /// A placeholder (`$1`) not bound yet, by its name.
    Placeholder(String),
}

/// The arguments of one table-function call, each evaluated as a constant
/// (`TIMESTAMP '2026-01-01'`, `'2026-01-01'`, `now() - INTERVAL '7 days'`). An argument is
/// read by its position and named for errors, which read `function: argument: problem`.
///
/// ```
/// use datafusion::catalog::TableFunctionArgs;
/// use datafusion::prelude::{SessionContext, lit};
/// use socialcx::engine::table_function::CallArgs;
///
/// let state = SessionContext::new().state();
/// let exprs = [lit("2026-01-01"), lit("acme"), lit(5i64)];
/// let args = CallArgs::evaluate("f", &TableFunctionArgs::new(&exprs, &state)).unwrap();
/// assert_eq!(args.timestamp(0, "from").unwrap(), Some(1_767_225_600_000_000));
/// assert_eq!(args.string(1, "brand").unwrap().as_deref(), Some("acme"));
/// assert_eq!(args.string(3, "other").unwrap(), None, "no such argument");
/// let err = args.string(2, "n").unwrap_err().to_string();
/// assert!(err.contains("f: n: 5 is not a string"), "{err}");
/// ```
#[derive(Debug, Clone)]
pub struct CallArgs {
    function: String,
    args: Vec<Arg>,
}

impl CallArgs {
    /// Evaluate every argument of a call to `function` (placeholders stay placeholders:
    /// see [`CallArgs::is_placeholder`]).
    pub fn evaluate(function: impl Into<String>, args: &TableFunctionArgs) -> Result<CallArgs> {
        let values = args
            .exprs()
            .iter()
            .map(|expr| match expr {
                Expr::Placeholder(p) => Ok(Arg::Placeholder(p.id.clone())),
                expr => constant(args.session(), expr).map(Arg::Value),
            })
            .collect::<Result<Vec<Arg>>>()?;
        Ok(CallArgs {
            function: function.into(),
            args: values,
        })
    }

    /// The function, as errors name it.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// How many arguments the call has.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether the call has no arguments.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Whether argument `i` is a placeholder not bound yet (`$1` in a prepared statement
    /// being described).
    pub fn is_placeholder(&self, i: usize) -> bool {
        matches!(self.args.get(i), Some(Arg::Placeholder(_)))
    }

    /// Argument `i` (`name` in errors): `None` when the call has no such argument or it is
    /// NULL; an error when it is a placeholder.
    pub fn value(&self, i: usize, name: &str) -> Result<Option<&ScalarValue>> {
        match self.args.get(i) {
            None => Ok(None),
            Some(Arg::Value(v)) if v.is_null() => Ok(None),
            Some(Arg::Value(v)) => Ok(Some(v)),
            Some(Arg::Placeholder(id)) => Err(self.error(
                name,
                format!("the placeholder {id} has no value here (a constant is needed)"),
            )),
        }
    }

    /// Argument `i` if it is a string that is not NULL.
    pub fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i) {
            Some(Arg::Value(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)),
            )) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Argument `i` cast to `to` (`None`: absent or NULL); `what` says in words what it
    /// must be (`an integer`).
    pub fn cast(
        &self,
        i: usize,
        name: &str,
        to: &DataType,
        what: &str,
    ) -> Result<Option<ScalarValue>> {
        let Some(value) = self.value(i, name)? else {
            return Ok(None);
        };
        match value.cast_to(to) {
            Ok(cast) => Ok(Some(cast)),
            Err(_) => Err(self.error(name, format!("{value} is not {what}"))),
        }
    }

    /// Argument `i` as an instant, µs since the epoch (UTC): a timestamp, a date or a string
    /// that casts to one (`None`: absent or NULL).
    pub fn timestamp(&self, i: usize, name: &str) -> Result<Option<i64>> {
        let what = "a timestamp, a date or NULL";
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        match self.cast(i, name, &utc, what)? {
            None => Ok(None),
            Some(ScalarValue::TimestampMicrosecond(Some(us), _)) => Ok(Some(us)),
            Some(other) => Err(self.error(name, format!("{other} is not {what}"))),
        }
    }

    /// Argument `i` as a string (`None`: absent or NULL); any other type is an error.
    pub fn string(&self, i: usize, name: &str) -> Result<Option<String>> {
        let Some(value) = self.value(i, name)? else {
            return Ok(None);
        };
        match self.text(i) {
            Some(text) => Ok(Some(text.to_string())),
            None => Err(self.error(name, format!("{value} is not a string"))),
        }
    }

    /// A planning error about argument `name`: `function: name: problem`.
    pub fn error(&self, name: &str, problem: impl Display) -> DataFusionError {
        DataFusionError::Plan(format!("{}: {name}: {problem}", self.function))
    }
}

/// Evaluate a constant argument of a table function (`'2026-01-01'`, `now() - INTERVAL '1 day'`).
fn constant(session: &dyn Session, expr: &Expr) -> Result<ScalarValue> {
    if let Expr::Literal(value, _) = expr {
        return Ok(value.clone());
    }
    let physical = session.create_physical_expr(expr.clone(), &DFSchema::empty())?;
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    match physical.evaluate(&one_row)? {
        ColumnarValue::Scalar(v) => Ok(v),
        ColumnarValue::Array(a) => ScalarValue::try_from_array(&a, 0),
    }
}

/// The `SessionState` behind `session`, which planning SQL needs; `what` (the function or
/// table) names the caller in the error.
pub fn session_state<'a>(session: &'a dyn Session, what: &str) -> Result<&'a SessionState> {
    match session.as_any().downcast_ref::<SessionState>() {
        Some(state) => Ok(state),
        None => exec_err!("{what} needs a DataFusion SessionState"),
    }
}

/// A table whose rows are one SQL query's, planned in the session that scans it;
/// `label` names it in errors.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::datatypes::{DataType, Field, Schema};
/// use datafusion::datasource::TableType;
/// use socialcx::engine::table_function::SqlTable;
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
/// let table = SqlTable::new("answer", "SELECT 42 AS n", schema, TableType::View);
/// assert_eq!(table.sql(), "SELECT 42 AS n");
/// ```
#[derive(Debug)]
pub struct SqlTable {
    label: String,
    sql: String,
    schema: SchemaRef,
    kind: TableType,
}

impl SqlTable {
    /// The table of `sql`, announcing `schema` (which must have as many columns as the
    /// query gives) as a table of `kind`.
    pub fn new(
        label: impl Into<String>,
        sql: impl Into<String>,
        schema: SchemaRef,
        kind: TableType,
    ) -> SqlTable {
        SqlTable {
            label: label.into(),
            sql: sql.into(),
            schema,
            kind,
        }
    }

    /// The SQL.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[async_trait]
impl TableProvider for SqlTable {
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
        let state = session_state(state, &self.label)?;
        // Planned as the Engine plans a statement, so the columns are the announced ones.
        let plan = super::plain::plain_plan(state.create_logical_plan(&self.sql).await?)?;
        let planned = plan.schema().fields().len();
        if planned != self.schema.fields().len() {
            return plan_err!(
                "{} now has {planned} columns, {} announced",
                self.label,
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
