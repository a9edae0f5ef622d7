//! A lake table as a DataFusion [`TableProvider`]: the files the commit log names,
//! pruned by partition values and time ranges before a single file is opened.
//!
//! A table may have derived columns ([`DerivedColumns`]: the conversations' scores), stored
//! in each file with the fingerprint of what computed them. A scan reads them from the
//! files whose fingerprint is the current one and computes them from the other columns for
//! the rest, so every answer is the current configuration's; `EXPLAIN` shows both paths.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, BooleanArray, TimestampMicrosecondArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Fields, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::stats::Precision;
use datafusion::common::{Column, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result as DfResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, ExprSchemable, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column as ColumnExpr;
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::union::UnionExec;

use super::Lake;
use super::log::DataFile;
use crate::model::UTC;

/// What a lake table is: its name, schema and how its files are laid out.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    pub schema: SchemaRef,
    /// Hive partition column (its value is in the path and in the file).
    pub partition_column: Option<&'static str>,
    /// Timestamp column whose min/max per file the log records.
    pub time_column: Option<&'static str>,
}

impl TableDef {
    /// The table's directory under the lake root (`metrics.daily` -> `metrics/daily`).
    ///
    /// ```
    /// assert_eq!(socialcx::lake::table("conversations").unwrap().dir(), "conversations");
    /// ```
    pub fn dir(&self) -> String {
        self.name.replace('.', "/")
    }
}

/// Columns a table stores that are computed from its other columns (the conversations'
/// scores, from `text`). Writers store them with the [`fingerprint`](Self::fingerprint) of
/// what computed them (see [`super::log::DataFile::fingerprint`]); a [`LakeTable`] computes
/// them again for the files whose fingerprint differs.
///
/// ```
/// use datafusion::prelude::{col, lit};
/// use socialcx::lake::table::DerivedColumns;
/// #[derive(Debug)]
/// struct Doubled(Vec<(String, datafusion::logical_expr::Expr)>);
/// impl DerivedColumns for Doubled {
///     fn fingerprint(&self) -> &str { "doubled-v1" }
///     fn columns(&self) -> &[(String, datafusion::logical_expr::Expr)] { &self.0 }
/// }
/// let d = Doubled(vec![("likes2".into(), col("likes") * lit(2))]);
/// assert_eq!(d.columns()[0].0, "likes2");
/// ```
pub trait DerivedColumns: std::fmt::Debug + Send + Sync {
    /// What computes the columns now (for the scores: the lexicon, the taxonomy and the
    /// scoring code's version).
    fn fingerprint(&self) -> &str;
    /// Each derived column's name and the expression computing it from the other columns.
    fn columns(&self) -> &[(String, Expr)];
}

/// A table of the lake, read through the commit log.
#[derive(Debug)]
pub struct LakeTable {
    lake: Arc<Lake>,
    def: TableDef,
    /// The table's schema as queries see it: [`TableDef::schema`] with its strings as
    /// `Utf8View` (see [`view_schema`]).
    schema: SchemaRef,
    derived: Option<Arc<dyn DerivedColumns>>,
}

impl LakeTable {
    /// The table `def` of `lake`.
    pub fn new(lake: Arc<Lake>, def: TableDef) -> Self {
        Self {
            lake,
            schema: view_schema(&def.schema),
            def,
            derived: None,
        }
    }

    /// The same table, whose `derived` columns are read from the files that `derived`'s
    /// fingerprint computed and computed from the other columns for the others.
    pub fn with_derived(mut self, derived: Arc<dyn DerivedColumns>) -> Self {
        self.derived = Some(derived);
        self
    }

    /// A Parquet scan of `files`, with the table's columns `projection`.
    async fn parquet_scan(
        &self,
        state: &dyn Session,
        files: &[DataFile],
        projection: Option<Vec<usize>>,
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = &self.schema;
        let total_rows: u64 = files.iter().map(|f| f.rows).sum();
        let total_bytes: u64 = files.iter().map(|f| f.bytes).sum();
        let statistics = Statistics::new_unknown(schema)
            .with_num_rows(Precision::Exact(total_rows as usize))
            .with_total_byte_size(Precision::Inexact(total_bytes as usize));
        let groups = balance(files, state.config().target_partitions(), schema);

        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let source = format.file_source(TableSchema::from(Arc::clone(schema)));
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::parse(super::OBJECT_STORE_URL)?, source)
                .with_file_groups(groups)
                .with_statistics(statistics)
                .with_projection_indices(projection)?
                .with_limit(limit)
                .build();
        format.create_physical_plan(state, config).await
    }

    /// A scan of `files` whose derived columns are stale: the other columns it needs are
    /// read and the derived ones computed from them (a projection over the scan).
    async fn derived_scan(
        &self,
        state: &dyn Session,
        files: &[DataFile],
        projection: &[usize],
        derived: &dyn DerivedColumns,
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = &self.schema;
        let computed = |name: &str| derived.columns().iter().find(|(n, _)| n == name);
        let mut read: Vec<usize> = Vec::new();
        for &i in projection {
            match computed(schema.field(i).name()) {
                None => read.push(i),
                Some((_, expr)) => {
                    for column in expr.column_refs() {
                        read.push(schema.index_of(&column.name)?);
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        read.retain(|i| seen.insert(*i));
        let scan = self.parquet_scan(state, files, Some(read), limit).await?;
        let scanned = scan.schema();
        let df_schema = DFSchema::try_from(Arc::clone(&scanned))?;
        let mut exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = Vec::with_capacity(projection.len());
        for &i in projection {
            let name = schema.field(i).name();
            let expr: Arc<dyn PhysicalExpr> = match computed(name) {
                Some((_, expr)) => {
                    // A string column is scanned as a view; its function gives plain Utf8.
                    let expr = expr
                        .clone()
                        .cast_to(schema.field(i).data_type(), &df_schema)?;
                    state.create_physical_expr(expr, &df_schema)?
                }
                None => Arc::new(ColumnExpr::new_with_schema(name, &scanned)?),
            };
            exprs.push((expr, name.clone()));
        }
        Ok(Arc::new(ProjectionExec::try_new(exprs, scan)?))
    }

    /// The files of the current snapshot that `filters` cannot rule out.
    async fn pruned_files(&self, state: &dyn Session, filters: &[Expr]) -> DfResult<Vec<DataFile>> {
        let snapshot = self
            .lake
            .snapshot()
            .await
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        let files = snapshot.files(&self.def.name);
        let Some(predicate) = conjunction(filters.iter().cloned()) else {
            return Ok(files.to_vec());
        };
        let df_schema = DFSchema::try_from(Arc::clone(&self.schema))?;
        let expr = state.create_physical_expr(predicate, &df_schema)?;
        let Some(pruning) = PruningPredicateBuilder::new()
            .with_file_schema(Arc::clone(&self.schema))
            .build(expr)
        else {
            return Ok(files.to_vec());
        };
        let stats = FileStatistics {
            def: &self.def,
            schema: &self.schema,
            files,
        };
        match pruning.prune(&stats) {
            Ok(keep) => Ok(files
                .iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(f, _)| f.clone())
                .collect()),
            Err(e) => {
                tracing::debug!("no file pruning for {}: {e}", self.def.name);
                Ok(files.to_vec())
            }
        }
    }
}

/// `schema` as a lake table is scanned: its top-level `Utf8` columns as `Utf8View`, which
/// the Parquet reader then decodes into views directly (no copy of each value into a fresh
/// buffer; grouping and comparing are faster on views). Names, nullability and metadata are
/// kept. Results leave the engine as `Utf8` again (`engine::plain`).
fn view_schema(schema: &Schema) -> SchemaRef {
    let fields: Fields = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
            _ => Arc::clone(f),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Spread files over `n` groups of about equal bytes (largest first).
fn balance(files: &[DataFile], n: usize, schema: &SchemaRef) -> Vec<FileGroup> {
    let mut order: Vec<&DataFile> = files.iter().collect();
    order.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    let n = n.clamp(1, order.len().max(1));
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = vec![(0, Vec::new()); n];
    for f in order {
        let slot = groups
            .iter_mut()
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one group");
        slot.0 += f.bytes;
        let stats =
            Statistics::new_unknown(schema).with_num_rows(Precision::Exact(f.rows as usize));
        slot.1
            .push(PartitionedFile::new(f.path.clone(), f.bytes).with_statistics(Arc::new(stats)));
    }
    groups
        .into_iter()
        .filter(|(_, files)| !files.is_empty())
        .map(|(_, files)| FileGroup::new(files))
        .collect()
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Files are pruned by the log's statistics and row groups by Parquet's, but a
        // kept file may still hold rows that fail the filter: DataFusion re-applies it.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let files = self.pruned_files(state, filters).await?;
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        let projection = projection.cloned().unwrap_or(all);
        let derived = self.derived.as_ref().filter(|d| {
            projection.iter().any(|&i| {
                let name = self.schema.field(i).name();
                d.columns().iter().any(|(n, _)| n == name)
            })
        });
        let Some(derived) = derived else {
            return self
                .parquet_scan(state, &files, Some(projection), limit)
                .await;
        };
        let (current, stale): (Vec<DataFile>, Vec<DataFile>) = files
            .into_iter()
            .partition(|f| f.fingerprint.as_deref() == Some(derived.fingerprint()));
        let mut inputs = Vec::with_capacity(2);
        if !current.is_empty() {
            let scan = self.parquet_scan(state, &current, Some(projection.clone()), limit);
            inputs.push(scan.await?);
        }
        if !stale.is_empty() {
            let scan = self.derived_scan(state, &stale, &projection, derived.as_ref(), limit);
            inputs.push(scan.await?);
        }
        UnionExec::try_new(inputs)
    }
}

/// The log's per-file facts, as DataFusion's pruning sees them.
struct FileStatistics<'a> {
    def: &'a TableDef,
    /// The schema queries see (strings as views).
    schema: &'a SchemaRef,
    files: &'a [DataFile],
}

impl FileStatistics<'_> {
    /// The lowest (or highest, with `max`) value of the partition column in each file: its
    /// partition value, or the end of its span for a file holding several days.
    fn partition_values(&self, column: &Column, max: bool) -> Option<ArrayRef> {
        let name = self.def.partition_column?;
        if column.name != name {
            return None;
        }
        let data_type = self.schema.field_with_name(name).ok()?.data_type().clone();
        let values = self.files.iter().map(|f| {
            let value = match &f.partition_span {
                Some([lo, hi]) => Some(if max { hi } else { lo }),
                None => f.partition.get(name),
            };
            value
                .and_then(|v| ScalarValue::try_from_string(v.clone(), &data_type).ok())
                .unwrap_or_else(|| ScalarValue::try_from(&data_type).expect("null of type"))
        });
        ScalarValue::iter_to_array(values).ok()
    }

    fn time_bound(&self, column: &Column, max: bool) -> Option<ArrayRef> {
        if Some(column.name.as_str()) != self.def.time_column {
            return None;
        }
        let values: TimestampMicrosecondArray = self
            .files
            .iter()
            .map(|f| f.time_range.map(|[lo, hi]| if max { hi } else { lo }))
            .collect();
        Some(Arc::new(values.with_timezone(UTC)))
    }
}

impl PruningStatistics for FileStatistics<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.partition_values(column, false)
            .or_else(|| self.time_bound(column, false))
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.partition_values(column, true)
            .or_else(|| self.time_bound(column, true))
    }

    fn num_containers(&self) -> usize {
        self.files.len()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        // Partition and time columns are never null in lake files.
        let known = self.def.partition_column == Some(column.name.as_str())
            || self.def.time_column == Some(column.name.as_str());
        known.then(|| Arc::new(UInt64Array::from(vec![0u64; self.files.len()])) as ArrayRef)
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from_iter_values(
            self.files.iter().map(|f| f.rows),
        )))
    }

    fn contained(&self, _column: &Column, _values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}
