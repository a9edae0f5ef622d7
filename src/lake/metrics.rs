//! The `metrics` schema: one table per metrics table the lake's jobs have written
//! (`metrics.baseline_daily`), found in the commit log, so a table appears in SQL, the shell
//! and Flight SQL as soon as a job's first run commits, with no restart. A table's schema is
//! that of its newest file (read from the Parquet footer, once per file); older files with
//! fewer columns read those as null.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use datafusion::error::{DataFusionError, Result as DfResult};
use object_store::ObjectMeta;
use object_store::path::Path;

use super::Lake;
use super::table::{LakeTable, TableDef};
use crate::Result;

/// The schema name, and the prefix of its tables' names in the commit log.
pub const METRICS: &str = "metrics";

/// The partition column of metrics tables.
pub const AS_OF: &str = "as_of";

#[derive(Debug)]
struct Known {
    /// The newest file when the schema was read.
    newest: String,
    table: Arc<dyn TableProvider>,
}

/// The `metrics` schema of a lake.
#[derive(Debug)]
pub struct MetricsSchema {
    lake: Arc<Lake>,
    tables: RwLock<BTreeMap<String, Known>>,
}

impl MetricsSchema {
    /// The schema over `lake` (empty until [`MetricsSchema::refresh`]).
    pub fn new(lake: Arc<Lake>) -> MetricsSchema {
        MetricsSchema {
            lake,
            tables: RwLock::new(BTreeMap::new()),
        }
    }

    /// Read the commit log and (re)build the tables whose newest file changed.
    pub async fn refresh(&self) -> Result<()> {
        let snapshot = self.lake.snapshot().await?;
        let prefix = format!("{METRICS}.");
        let mut found = BTreeMap::new();
        for name in snapshot.table_names() {
            let Some(short) = name.strip_prefix(&prefix) else {
                continue;
            };
            let Some(newest) = snapshot.files(&name).last() else {
                continue;
            };
            found.insert(
                short.to_string(),
                (name.clone(), newest.path.clone(), newest.bytes),
            );
        }
        let stale: Vec<(String, String, String, u64)> = {
            let tables = self.tables.read().expect("not poisoned");
            found
                .iter()
                .filter(|(short, (_, newest, _))| {
                    tables.get(*short).is_none_or(|k| &k.newest != newest)
                })
                .map(|(short, (name, newest, bytes))| {
                    (short.clone(), name.clone(), newest.clone(), *bytes)
                })
                .collect()
        };
        let mut built = Vec::new();
        for (short, name, newest, bytes) in stale {
            let schema = self.file_schema(&newest, bytes).await?;
            let def = TableDef {
                name: name.clone(),
                schema,
                partition_column: Some(AS_OF),
                time_column: None,
            };
            let table: Arc<dyn TableProvider> =
                Arc::new(LakeTable::new(Arc::clone(&self.lake), def));
            built.push((short, Known { newest, table }));
        }
        let mut tables = self.tables.write().expect("not poisoned");
        tables.retain(|short, _| found.contains_key(short));
        tables.extend(built);
        Ok(())
    }

    /// The schema in the footer of the file at `path`, `bytes` long (as the log says).
    async fn file_schema(&self, path: &str, bytes: u64) -> Result<SchemaRef> {
        let store = self.lake.store();
        let meta = ObjectMeta {
            location: Path::from(path),
            last_modified: chrono::Utc::now(),
            size: bytes,
            e_tag: None,
            version: None,
        };
        let schema = DFParquetMetadata::new(store.as_ref(), &meta)
            .fetch_schema()
            .await?;
        Ok(Arc::new(schema))
    }
}

#[async_trait]
impl SchemaProvider for MetricsSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables
            .read()
            .expect("not poisoned")
            .keys()
            .cloned()
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.refresh()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(self
            .tables
            .read()
            .expect("not poisoned")
            .get(name)
            .map(|k| Arc::clone(&k.table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.read().expect("not poisoned").contains_key(name)
    }
}
