//! Strings inside the engine, strings that leave it.
//!
//! The lake's tables are read with their strings as `Utf8View` (see
//! [`LakeTable`](crate::lake::table::LakeTable)): Parquet
//! pages decode into views without copying each value into a fresh buffer, and grouping,
//! joining and comparing short strings is faster on views. What leaves the engine is plain
//! `Utf8` ([`plain_plan`] on every statement the [`Engine`](super::Engine) plans), because
//! many Arrow clients, our own readers of results and the files we write expect it.
//! [`DistinctCountOfPlainStrings`] counts distinct views as plain strings, which DataFusion
//! 55 does faster and in less memory.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Column, Result as DfResult};
use datafusion::logical_expr::dml::CopyTo;
use datafusion::logical_expr::{
    Expr, ExprSchemable, Limit, LogicalPlan, LogicalPlanBuilder, Projection, Sort,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::prelude::DataFrame;

/// `data_type` with its view types made plain (`Utf8View` -> `Utf8`, `BinaryView` ->
/// `Binary`, list views -> lists), inside lists, structs and maps too.
///
/// ```
/// use datafusion::arrow::datatypes::DataType;
/// use socialcx::engine::plain::plain_type;
/// assert_eq!(plain_type(&DataType::Utf8View), DataType::Utf8);
/// let list = DataType::new_list(DataType::Utf8View, true);
/// assert_eq!(plain_type(&list), DataType::new_list(DataType::Utf8, true));
/// assert_eq!(plain_type(&DataType::Int64), DataType::Int64);
/// ```
pub fn plain_type(data_type: &DataType) -> DataType {
    map_nested(data_type, &|leaf| match leaf {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        other => other.clone(),
    })
}

/// `data_type` with `leaf` applied to it or, for a nested type, to every type inside it
/// (list items, struct fields, map entries), list views made lists; names, nullability and
/// metadata kept.
///
/// ```
/// use datafusion::arrow::datatypes::DataType;
/// use socialcx::engine::plain::map_nested;
/// let list = DataType::new_list(DataType::Int32, true);
/// let wider = |t: &DataType| if t == &DataType::Int32 { DataType::Int64 } else { t.clone() };
/// assert_eq!(map_nested(&list, &wider), DataType::new_list(DataType::Int64, true));
/// ```
pub fn map_nested(data_type: &DataType, leaf: &dyn Fn(&DataType) -> DataType) -> DataType {
    match data_type {
        DataType::List(f) | DataType::ListView(f) => DataType::List(map_field(f, leaf)),
        DataType::LargeList(f) | DataType::LargeListView(f) => {
            DataType::LargeList(map_field(f, leaf))
        }
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(map_field(f, leaf), *n),
        DataType::Struct(fields) => DataType::Struct(map_fields(fields, leaf)),
        DataType::Map(f, sorted) => DataType::Map(map_field(f, leaf), *sorted),
        other => leaf(other),
    }
}

/// `field` with [`map_nested`] applied to its type.
pub fn map_field(field: &FieldRef, leaf: &dyn Fn(&DataType) -> DataType) -> FieldRef {
    let data_type = map_nested(field.data_type(), leaf);
    if &data_type == field.data_type() {
        Arc::clone(field)
    } else {
        Arc::new(field.as_ref().clone().with_data_type(data_type))
    }
}

/// `fields` with [`map_nested`] applied to each one's type.
pub fn map_fields(fields: &Fields, leaf: &dyn Fn(&DataType) -> DataType) -> Fields {
    fields.iter().map(|f| map_field(f, leaf)).collect()
}

/// `plan` with a last projection that casts its view-typed columns to [`plain_type`]s (names
/// and qualifiers kept), so its results leave the engine in the types every client reads.
/// A `COPY ... TO` writes its query's plain columns and `EXPLAIN` shows the query with its
/// casts. Other statements (DDL, DML) and plans without view types are returned as they are.
///
/// ```
/// # async fn f() -> datafusion::error::Result<()> {
/// use datafusion::arrow::datatypes::DataType;
/// use datafusion::prelude::SessionContext;
/// use socialcx::engine::plain::plain_plan;
/// let ctx = SessionContext::new();
/// let plan = ctx.state().create_logical_plan("SELECT arrow_cast('a', 'Utf8View') AS s").await?;
/// let plan = plain_plan(plan)?;
/// assert_eq!(plan.schema().field(0).data_type(), &DataType::Utf8);
/// # Ok(()) }
/// ```
pub fn plain_plan(plan: LogicalPlan) -> DfResult<LogicalPlan> {
    let plain_input = |input: Arc<LogicalPlan>| -> DfResult<Arc<LogicalPlan>> {
        Ok(Arc::new(plain_plan(Arc::unwrap_or_clone(input))?))
    };
    match plan {
        // EXPLAIN shows the plan that runs: the query's, with the casts.
        LogicalPlan::Explain(mut explain) => {
            explain.plan = plain_input(explain.plan)?;
            return Ok(LogicalPlan::Explain(explain));
        }
        LogicalPlan::Analyze(mut analyze) => {
            analyze.input = plain_input(analyze.input)?;
            return Ok(LogicalPlan::Analyze(analyze));
        }
        LogicalPlan::Copy(copy) => {
            return Ok(LogicalPlan::Copy(CopyTo::new(
                plain_input(copy.input)?,
                copy.output_url,
                copy.partition_by,
                copy.file_type,
                copy.options,
            )));
        }
        // Other statements are left as they are: a `CREATE VIEW`'s schema is its query's,
        // but it returns no rows.
        LogicalPlan::Ddl(_)
        | LogicalPlan::Dml(_)
        | LogicalPlan::Statement(_)
        | LogicalPlan::DescribeTable(_) => return Ok(plan),
        _ => {}
    }
    if !has_views(&plan) {
        return Ok(plan);
    }
    // The casts go below a final ORDER BY or LIMIT (and the projection naming the columns
    // above them): a projection of casts above a sort lets DataFusion 55 spread it over
    // partitions by round robin, and the sort order is lost when they are merged.
    let plan = match plan {
        LogicalPlan::Sort(sort) => LogicalPlan::Sort(Sort {
            input: plain_input(sort.input)?,
            ..sort
        }),
        LogicalPlan::Limit(limit) => LogicalPlan::Limit(Limit {
            input: plain_input(limit.input)?,
            ..limit
        }),
        LogicalPlan::Projection(projection)
            if matches!(
                *projection.input,
                LogicalPlan::Sort(_) | LogicalPlan::Limit(_)
            ) =>
        {
            let input = plain_plan(Arc::unwrap_or_clone(projection.input))?;
            LogicalPlan::Projection(Projection::try_new(projection.expr, Arc::new(input))?)
        }
        other => other,
    };
    if !has_views(&plan) {
        return Ok(plan);
    }
    let schema = Arc::clone(plan.schema());
    let columns: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            if !needs_cast(field) {
                return Ok(column);
            }
            let cast = column.cast_to(&plain_type(field.data_type()), &schema)?;
            Ok(cast.alias_qualified(qualifier.cloned(), field.name()))
        })
        .collect::<DfResult<_>>()?;
    LogicalPlanBuilder::from(plan).project(columns)?.build()
}

fn needs_cast(field: &Field) -> bool {
    &plain_type(field.data_type()) != field.data_type()
}

fn has_views(plan: &LogicalPlan) -> bool {
    plan.schema().fields().iter().any(|f| needs_cast(f))
}

/// `frame` with [`plain_plan`]'s last projection: for the DataFrames built by hand (a
/// `ctx.table(...)` joined, say) whose results are read as plain `Utf8`.
///
/// ```
/// # async fn f() -> datafusion::error::Result<()> {
/// use datafusion::arrow::datatypes::DataType;
/// use datafusion::prelude::SessionContext;
/// use socialcx::engine::plain::plain_frame;
/// let ctx = SessionContext::new();
/// let frame = plain_frame(ctx.sql("SELECT arrow_cast('a', 'Utf8View') AS s").await?)?;
/// assert_eq!(frame.collect().await?[0].column(0).data_type(), &DataType::Utf8);
/// # Ok(()) }
/// ```
pub fn plain_frame(frame: DataFrame) -> DfResult<DataFrame> {
    let (state, plan) = frame.into_parts();
    Ok(DataFrame::new(state, plain_plan(plan)?))
}

/// An analyzer rule: `count(DISTINCT x)` of a `Utf8View` column counts `x` cast to `Utf8`.
/// DataFusion 55's distinct set over views is slower and keeps the pages alive: on 10M
/// messages, `baseline`'s `count(DISTINCT author_id)` took 6.2-6.5 s and 2.9 GiB over views
/// against 5.5 s and 1.3-1.4 GiB over the cast (docs/reports.md). The answer is the same; the
/// column keeps its name.
///
/// ```
/// # async fn f() -> datafusion::error::Result<()> {
/// use std::sync::Arc;
/// use datafusion::prelude::SessionContext;
/// use socialcx::engine::plain::DistinctCountOfPlainStrings;
/// let ctx = SessionContext::new();
/// ctx.add_analyzer_rule(Arc::new(DistinctCountOfPlainStrings));
/// let sql = "SELECT count(DISTINCT s) AS n FROM (VALUES (arrow_cast('a', 'Utf8View'))) t(s)";
/// let plan = ctx.sql(sql).await?.into_optimized_plan()?;
/// assert!(plan.display_indent().to_string().contains("CAST(t.s AS Utf8)"));
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct DistinctCountOfPlainStrings;

impl AnalyzerRule for DistinctCountOfPlainStrings {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> DfResult<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            let LogicalPlan::Aggregate(aggregate) = &plan else {
                return Ok(Transformed::no(plan));
            };
            let input = Arc::clone(aggregate.input.schema());
            plan.map_expressions(|expr| {
                let name = expr.schema_name().to_string();
                let named = matches!(expr, Expr::Alias(_));
                let rewritten = expr.transform_up(|e| match e {
                    Expr::AggregateFunction(mut f)
                        if f.params.distinct && f.func.name() == "count" =>
                    {
                        let mut changed = false;
                        for arg in f.params.args.iter_mut() {
                            if arg.get_type(&input)? == DataType::Utf8View {
                                *arg = arg.clone().cast_to(&DataType::Utf8, &input)?;
                                changed = true;
                            }
                        }
                        let e = Expr::AggregateFunction(f);
                        Ok(if changed {
                            Transformed::yes(e)
                        } else {
                            Transformed::no(e)
                        })
                    }
                    other => Ok(Transformed::no(other)),
                })?;
                // Keep the output column's name (`count(DISTINCT t.author_id)`).
                Ok(if rewritten.transformed && !named {
                    Transformed::yes(rewritten.data.alias(name))
                } else {
                    rewritten
                })
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "distinct_count_of_plain_strings"
    }
}
