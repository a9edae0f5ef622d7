//! A lake table as a DataFusion [`TableProvider`]: the files the commit log names,
//! pruned by partition values and time ranges before a single file is opened.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, BooleanArray, TimestampMicrosecondArray, UInt64Array};
use datafusion::arrow::datatypes::SchemaRef;
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
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;

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

/// A table of the lake, read through the commit log.
#[derive(Debug)]
pub struct LakeTable {
    lake: Arc<Lake>,
    def: TableDef,
}

impl LakeTable {
    /// The table `def` of `lake`.
    pub fn new(lake: Arc<Lake>, def: TableDef) -> Self {
        Self { lake, def }
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
        let df_schema = DFSchema::try_from(Arc::clone(&self.def.schema))?;
        let expr = state.create_physical_expr(predicate, &df_schema)?;
        let Some(pruning) = PruningPredicateBuilder::new()
            .with_file_schema(Arc::clone(&self.def.schema))
            .build(expr)
        else {
            return Ok(files.to_vec());
        };
        let stats = FileStatistics {
            def: &self.def,
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
        Arc::clone(&self.def.schema)
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
                Some(p) => Arc::new(self.def.schema.project(p)?),
                None => Arc::clone(&self.def.schema),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let schema = &self.def.schema;
        let total_rows: u64 = files.iter().map(|f| f.rows).sum();
        let total_bytes: u64 = files.iter().map(|f| f.bytes).sum();
        let statistics = Statistics::new_unknown(schema)
            .with_num_rows(Precision::Exact(total_rows as usize))
            .with_total_byte_size(Precision::Inexact(total_bytes as usize));
        let groups = balance(&files, state.config().target_partitions(), schema);

        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let source = format.file_source(TableSchema::from(Arc::clone(schema)));
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::parse(super::OBJECT_STORE_URL)?, source)
                .with_file_groups(groups)
                .with_statistics(statistics)
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
        format.create_physical_plan(state, config).await
    }
}

/// The log's per-file facts, as DataFusion's pruning sees them.
struct FileStatistics<'a> {
    def: &'a TableDef,
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
        let data_type = self
            .def
            .schema
            .field_with_name(name)
            .ok()?
            .data_type()
            .clone();
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
