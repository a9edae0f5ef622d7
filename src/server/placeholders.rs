//! Placeholders of prepared statements: numbering JDBC's `?`, the parameter schema a client
//! binds to, and binding the values.
//!
//! Most placeholders stay in the logical plan and are bound there
//! ([`LogicalPlan::with_param_values`]). Placeholders that are arguments of a table function
//! (`SELECT * FROM triage($1, $2)`) are different: DataFusion calls the function while it
//! plans, so they never reach the plan. They are found in the SQL instead, typed by the
//! report's parameter when the function is a shipped report, and bound by writing the values
//! into the call as literals before planning.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, TableFactor, Value, VisitMut, VisitorMut,
    visit_expressions_mut,
};
use datafusion::sql::unparser::Unparser;
use tonic::Status;

use super::status::from_datafusion;
use super::wire::wire_schema;

/// JDBC and ODBC send `?` placeholders; DataFusion numbers them (`$1`, `$2`, ...).
pub fn number_question_marks(statement: &mut DfStatement) {
    if let DfStatement::Statement(statement) = statement {
        let mut n = 0;
        let _ = visit_expressions_mut(statement.as_mut(), |expr| {
            if let SqlExpr::Value(v) = expr
                && let Value::Placeholder(p) = &mut v.value
                && p == "?"
            {
                n += 1;
                *p = format!("${n}");
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// The placeholders that are table-function arguments, `$n` -> the type the function takes
/// there (a shipped report's parameter type; `None` for other functions).
pub fn table_argument_placeholders(
    statement: &mut DfStatement,
) -> BTreeMap<String, Option<DataType>> {
    let mut found = BTreeMap::new();
    visit_table_arguments(statement, |function, position, expr| {
        let _ = visit_expressions_mut(expr, |e| {
            if let SqlExpr::Value(v) = e
                && let Value::Placeholder(p) = &v.value
            {
                let kind = crate::reports::find(function)
                    .ok()
                    .and_then(|r| r.params.get(position).map(|p| p.kind.data_type()));
                found.entry(p.clone()).or_insert(kind);
            }
            ControlFlow::<()>::Continue(())
        });
        Ok(())
    })
    .map(|_| found)
    .unwrap_or_default()
}

/// Write the bound `values` (`$1` is `values[0]`) into the table-function arguments of
/// `statement` as SQL literals. A placeholder with no value is an error.
pub fn bind_table_arguments(
    statement: &mut DfStatement,
    values: &[ScalarValue],
) -> Result<(), Status> {
    let unparser = Unparser::default();
    visit_table_arguments(statement, |_, _, expr| {
        let mut failure = None;
        let _ = visit_expressions_mut(expr, |e| {
            if let SqlExpr::Value(v) = e
                && let Value::Placeholder(p) = &v.value
            {
                let value = p
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| values.get(i));
                let Some(value) = value else {
                    failure = Some(Status::invalid_argument(format!(
                        "parameter {p} is not bound ({} values bound)",
                        values.len()
                    )));
                    return ControlFlow::Break(());
                };
                match unparser.expr_to_sql(&Expr::Literal(value.clone(), None)) {
                    Ok(literal) => *e = literal,
                    Err(err) => {
                        failure = Some(Status::invalid_argument(format!(
                            "parameter {p}: cannot pass {value} to a table function: {err}"
                        )));
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        failure.map_or(Ok(()), Err)
    })
}

/// Call `f(function name, argument position, argument)` for every table-function argument.
fn visit_table_arguments(
    statement: &mut DfStatement,
    f: impl FnMut(&str, usize, &mut SqlExpr) -> Result<(), Status>,
) -> Result<(), Status> {
    struct Arguments<F>(F);
    impl<F: FnMut(&str, usize, &mut SqlExpr) -> Result<(), Status>> VisitorMut for Arguments<F> {
        type Break = Box<Status>;
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Self::Break> {
            let (name, args) = match factor {
                TableFactor::Table {
                    name,
                    args: Some(args),
                    ..
                } => (name.to_string(), &mut args.args),
                TableFactor::Function { name, args, .. } => (name.to_string(), args),
                _ => return ControlFlow::Continue(()),
            };
            let function = name
                .rsplit('.')
                .next()
                .unwrap_or(&name)
                .to_ascii_lowercase();
            for (position, arg) in args.iter_mut().enumerate() {
                let (FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(expr),
                    ..
                }
                | FunctionArg::ExprNamed {
                    arg: FunctionArgExpr::Expr(expr),
                    ..
                }) = arg
                else {
                    continue;
                };
                if let Err(status) = (self.0)(&function, position, expr) {
                    return ControlFlow::Break(Box::new(status));
                }
            }
            ControlFlow::Continue(())
        }
    }
    let DfStatement::Statement(statement) = statement else {
        return Ok(());
    };
    match statement.visit(&mut Arguments(f)) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(status) => Err(*status),
    }
}

/// The bound row of parameters, in column order (`$1` is the first column).
///
/// A column may be a union: flightsql-dbapi (the DB-API driver behind Superset) sends every
/// value as a one-row dense union of int64, float64, utf8, binary and bool, so that each
/// parameter can have its own Python type. The value bound is the union's member, as if the
/// client had sent a column of that type.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, UnionArray};
/// use datafusion::arrow::datatypes::{DataType, Field, UnionFields};
/// use datafusion::common::ScalarValue;
/// use socialcx::server::placeholders::param_values;
///
/// let fields = UnionFields::try_new(
///     [0, 1],
///     [Field::new("0", DataType::Int64, true), Field::new("1", DataType::Utf8, true)],
/// )
/// .unwrap();
/// let children: Vec<ArrayRef> = vec![
///     Arc::new(Int64Array::from(Vec::<i64>::new())),
///     Arc::new(StringArray::from(vec!["Voltix"])),
/// ];
/// let union = UnionArray::try_new(fields, vec![1i8].into(), Some(vec![0i32].into()), children)
///     .unwrap();
/// let batch = RecordBatch::try_from_iter([
///     ("param_0", Arc::new(union) as ArrayRef),
///     ("param_1", Arc::new(Int64Array::from(vec![7])) as ArrayRef),
/// ])
/// .unwrap();
/// assert_eq!(
///     param_values(&batch).unwrap(),
///     [ScalarValue::Utf8(Some("Voltix".into())), ScalarValue::Int64(Some(7))]
/// );
/// ```
pub fn param_values(params: &RecordBatch) -> Result<Vec<ScalarValue>, Status> {
    if params.num_rows() != 1 {
        return Err(Status::invalid_argument(format!(
            "bind exactly one row of parameters per execution ({} rows bound)",
            params.num_rows()
        )));
    }
    params
        .columns()
        .iter()
        .map(|column| ScalarValue::try_from_array(column, 0).map(union_member))
        .collect::<Result<Vec<_>, _>>()
        .map_err(from_datafusion)
}

/// The value a union scalar holds (a union holding nothing is a NULL); other values as they
/// are.
fn union_member(value: ScalarValue) -> ScalarValue {
    match value {
        ScalarValue::Union(Some((_, member)), _, _) => union_member(*member),
        ScalarValue::Union(None, _, _) => ScalarValue::Null,
        other => other,
    }
}

/// The parameters a statement expects, as a schema (`$1`, `$2`, ... in order): those of the
/// plan and those of table-function arguments. A type nobody could infer is `Null`, which
/// accepts any value.
pub fn parameter_schema(
    plan: &LogicalPlan,
    table_arguments: &BTreeMap<String, Option<DataType>>,
) -> Result<Schema, Status> {
    let mut fields: BTreeMap<String, Option<Field>> = table_arguments
        .iter()
        .map(|(id, kind)| (id.clone(), kind.clone().map(|k| Field::new(id, k, true))))
        .collect();
    for (id, field) in plan.get_parameter_fields().map_err(from_datafusion)? {
        let field = field.map(|f| f.as_ref().clone().with_name(&id).with_nullable(true));
        let slot = fields.entry(id).or_default();
        if field.is_some() {
            *slot = field;
        }
    }
    let mut params: Vec<(usize, String, Field)> = fields
        .into_iter()
        .map(|(id, field)| {
            let index = id
                .trim_start_matches('$')
                .parse::<usize>()
                .unwrap_or(usize::MAX);
            let field = field.unwrap_or_else(|| Field::new(&id, DataType::Null, true));
            (index, id, field)
        })
        .collect();
    params.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let schema = Schema::new(params.into_iter().map(|(_, _, f)| f).collect::<Vec<_>>());
    Ok(wire_schema(&schema).as_ref().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn parse(sql: &str) -> DfStatement {
        DFParser::parse_sql(sql).unwrap().pop_front().unwrap()
    }

    #[test]
    fn question_marks_are_numbered_in_order() {
        let mut statement = parse("SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT 3");
        number_question_marks(&mut statement);
        let text = statement.to_string();
        assert!(text.contains("b = $1 AND c IN ($2, $3)"), "{text}");
    }

    #[test]
    fn report_arguments_are_typed_and_bound_as_literals() {
        let mut s = parse("SELECT * FROM triage(?, ?) t WHERE t.priority > ?");
        number_question_marks(&mut s);
        let found = table_argument_placeholders(&mut s);
        assert_eq!(found.len(), 2, "{found:?} in {s}");
        assert!(matches!(found["$1"], Some(DataType::Timestamp(_, _))));
        bind_table_arguments(
            &mut s,
            &[
                ScalarValue::Utf8(Some("2026-03-01".into())),
                ScalarValue::Null,
                ScalarValue::Float64(Some(1.0)),
            ],
        )
        .unwrap();
        let sql = s.to_string();
        assert!(sql.contains("triage('2026-03-01', NULL)"), "{sql}");
        assert!(sql.contains("t.priority > $3"), "{sql}");
        assert!(table_argument_placeholders(&mut s).is_empty());
    }

    #[test]
    fn a_union_binds_the_value_it_holds() {
        use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, UnionArray};
        use datafusion::arrow::datatypes::UnionFields;
        use std::sync::Arc;

        let fields = UnionFields::try_new(
            [0, 1],
            [
                Field::new("i", DataType::Int64, true),
                Field::new("s", DataType::Utf8, true),
            ],
        )
        .unwrap();
        // Sparse: every child as long as the union, the type id picks the member.
        let children: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![41])),
            Arc::new(StringArray::from(vec!["not this one"])),
        ];
        let sparse = UnionArray::try_new(fields.clone(), vec![0i8].into(), None, children).unwrap();
        // Dense, holding a null string: a typed NULL is bound.
        let children: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(Vec::<i64>::new())),
            Arc::new(StringArray::from(vec![None::<&str>])),
        ];
        let dense =
            UnionArray::try_new(fields, vec![1i8].into(), Some(vec![0i32].into()), children)
                .unwrap();
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(sparse) as ArrayRef),
            ("b", Arc::new(dense) as ArrayRef),
        ])
        .unwrap();
        assert_eq!(
            param_values(&batch).unwrap(),
            [ScalarValue::Int64(Some(41)), ScalarValue::Utf8(None)]
        );
    }

    #[test]
    fn a_missing_value_is_an_error() {
        let mut s = parse("SELECT * FROM influencers($1, $2)");
        let err = bind_table_arguments(&mut s, &[ScalarValue::Null]).unwrap_err();
        assert!(
            err.message().contains("$2 is not bound"),
            "{}",
            err.message()
        );
    }
}
