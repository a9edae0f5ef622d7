//! What a BI tool asks before its first query: catalogs, schemas, tables, table types, the
//! server's SQL dialect (GetSqlInfo), its types (GetXdbcTypeInfo) and keys.
//!
//! Everything is read from the Engine's live catalog, so tables, views and
//! `information_schema` appear as they are. Filters and the `include_schema` shape are
//! applied by arrow-flight's builders.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_flight::sql::metadata::{
    GetCatalogsBuilder, GetDbSchemasBuilder, GetTablesBuilder, SqlInfoData, SqlInfoDataBuilder,
    XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    Nullable, Searchable, SqlInfo, SqlNullOrdering, SqlSupportedCaseSensitivity,
    SupportedSqlGrammar, XdbcDataType, XdbcDatetimeSubcode,
};
use datafusion::arrow::array::{RecordBatch, new_empty_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::information_schema::{INFORMATION_SCHEMA, InformationSchemaProvider};
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::TableType;
use datafusion::execution::context::SessionContext;
use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;

use super::wire::wire_schema;

/// The table types this server reports, as JDBC names them.
pub const TABLE_TYPES: [&str; 4] = ["TABLE", "VIEW", "SYSTEM TABLE", "LOCAL TEMPORARY"];

/// The JDBC table type of `table` in schema `schema`.
fn table_type(schema: &str, table: &dyn TableProvider) -> &'static str {
    if schema == INFORMATION_SCHEMA {
        return "SYSTEM TABLE";
    }
    match table.table_type() {
        TableType::Base => "TABLE",
        TableType::View => "VIEW",
        TableType::Temporary => "LOCAL TEMPORARY",
    }
}

/// Fill a GetCatalogs answer.
pub fn catalogs(ctx: &SessionContext, mut builder: GetCatalogsBuilder) -> RecordBatch {
    let mut names = ctx.catalog_names();
    names.sort();
    for name in names {
        builder.append(name);
    }
    builder.build().expect("catalog names build")
}

/// Fill a GetDbSchemas answer (the builder applies the catalog and pattern filters).
pub fn db_schemas(
    ctx: &SessionContext,
    mut builder: GetDbSchemasBuilder,
) -> arrow_flight::error::Result<RecordBatch> {
    for (catalog, schema) in schema_pairs(ctx) {
        builder.append(catalog, schema);
    }
    builder.build()
}

/// Fill a GetTables answer (filters by catalog, schema and table pattern and table types;
/// schemas included when the client asked).
pub async fn tables(
    ctx: &SessionContext,
    mut builder: GetTablesBuilder,
) -> arrow_flight::error::Result<RecordBatch> {
    for (catalog_name, schema_name) in schema_pairs(ctx) {
        let Some(schema) = schema_provider(ctx, &catalog_name, &schema_name) else {
            continue;
        };
        let mut names = schema.table_names();
        names.sort();
        for name in names {
            // A table that fails to load (e.g. a view over a dropped table) is skipped
            // rather than failing the whole listing.
            let Ok(Some(table)) = schema.table(&name).await else {
                continue;
            };
            let kind = table_type(&schema_name, table.as_ref());
            builder.append(
                &catalog_name,
                &schema_name,
                &name,
                kind,
                &wire_schema(&table.schema()),
            )?;
        }
    }
    builder.build()
}

/// Every (catalog, schema) pair, sorted; `information_schema` is in every catalog (when the
/// session has it), as SQL sees it.
fn schema_pairs(ctx: &SessionContext) -> Vec<(String, String)> {
    let with_information_schema = ctx.state().config().information_schema();
    let mut pairs = Vec::new();
    for catalog_name in ctx.catalog_names() {
        if let Some(catalog) = ctx.catalog(&catalog_name) {
            let mut names = catalog.schema_names();
            if with_information_schema && !names.iter().any(|n| n == INFORMATION_SCHEMA) {
                names.push(INFORMATION_SCHEMA.to_string());
            }
            for schema_name in names {
                pairs.push((catalog_name.clone(), schema_name));
            }
        }
    }
    pairs.sort();
    pairs
}

/// The schema `catalog.schema`, including DataFusion's virtual `information_schema`.
fn schema_provider(
    ctx: &SessionContext,
    catalog: &str,
    schema: &str,
) -> Option<Arc<dyn SchemaProvider>> {
    if schema == INFORMATION_SCHEMA && ctx.state().config().information_schema() {
        let catalogs = Arc::clone(ctx.state().catalog_list());
        return Some(Arc::new(InformationSchemaProvider::new(catalogs)));
    }
    ctx.catalog(catalog).and_then(|c| c.schema(schema))
}

/// The schema of GetPrimaryKeys answers (Flight SQL's `CommandGetPrimaryKeys`).
pub fn primary_keys_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]))
}

/// The schema of GetExportedKeys, GetImportedKeys and GetCrossReference answers.
pub fn foreign_keys_schema() -> SchemaRef {
    let utf8 = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        utf8("pk_catalog_name", true),
        utf8("pk_db_schema_name", true),
        utf8("pk_table_name", false),
        utf8("pk_column_name", false),
        utf8("fk_catalog_name", true),
        utf8("fk_db_schema_name", true),
        utf8("fk_table_name", false),
        utf8("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        utf8("fk_key_name", true),
        utf8("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]))
}

/// An answer with no rows: the lake has no keys (Parquet tables declare none).
pub fn empty(schema: SchemaRef) -> RecordBatch {
    let columns = schema
        .fields()
        .iter()
        .map(|f| new_empty_array(f.data_type()))
        .collect();
    RecordBatch::try_new(schema, columns).expect("empty batch")
}

/// What GetSqlInfo answers: the server, its dialect and its limits, as JDBC's
/// `DatabaseMetaData` and ADBC's `GetInfo` read them.
pub fn sql_info(ctx: &SessionContext, read_only: bool, timeout_secs: i32) -> SqlInfoData {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "socialcx");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.5");
    b.append(SqlInfo::FlightSqlServerReadOnly, read_only);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(SqlInfo::FlightSqlServerTransaction, 0i32); // none
    b.append(SqlInfo::FlightSqlServerCancel, false);
    b.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    b.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
    b.append(SqlInfo::FlightSqlServerStatementTimeout, timeout_secs);
    b.append(SqlInfo::FlightSqlServerTransactionTimeout, 0i32);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, !read_only);
    b.append(SqlInfo::SqlDdlTable, !read_only);
    b.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityLowercase as i32,
    );
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityUnknown as i32,
    );
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    let keywords: Vec<String> = ALL_KEYWORDS.iter().map(|k| k.to_string()).collect();
    b.append(SqlInfo::SqlKeywords, keywords);
    let (numeric, string, datetime, system) = function_lists(ctx);
    b.append(SqlInfo::SqlNumericFunctions, numeric);
    b.append(SqlInfo::SqlStringFunctions, string);
    b.append(SqlInfo::SqlDatetimeFunctions, datetime);
    b.append(SqlInfo::SqlSystemFunctions, system);
    b.append(SqlInfo::SqlSearchStringEscape, "\\");
    b.append(SqlInfo::SqlExtraNameCharacters, "");
    b.append(SqlInfo::SqlSupportsColumnAliasing, true);
    b.append(SqlInfo::SqlNullPlusNullIsNull, true);
    b.append(
        SqlInfo::SqlSupportsConvert,
        BTreeMap::<i32, Vec<i32>>::new(),
    );
    b.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    b.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    b.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    b.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    b.append(SqlInfo::SqlSupportedGroupBy, 0b11i32); // unrelated and beyond select
    b.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    b.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    b.append(
        SqlInfo::SqlSupportedGrammar,
        1i32 << SupportedSqlGrammar::SqlCoreGrammar as i32,
    );
    b.append(SqlInfo::SqlAnsi92SupportedLevel, 0b11i32); // entry and intermediate
    b.append(SqlInfo::SqlSupportsIntegrityEnhancementFacility, false);
    b.append(SqlInfo::SqlOuterJoinsSupportLevel, 2i32); // full outer joins
    b.append(SqlInfo::SqlSchemaTerm, "schema");
    b.append(SqlInfo::SqlProcedureTerm, "procedure");
    b.append(SqlInfo::SqlCatalogTerm, "catalog");
    b.append(SqlInfo::SqlCatalogAtStart, true);
    b.append(SqlInfo::SqlSchemasSupportedActions, 0b111i32); // DML, procedure calls, index defs
    b.append(SqlInfo::SqlCatalogsSupportedActions, 0b111i32);
    b.append(SqlInfo::SqlSupportedPositionedCommands, 0i32);
    b.append(SqlInfo::SqlSelectForUpdateSupported, false);
    b.append(SqlInfo::SqlStoredProceduresSupported, false);
    b.append(SqlInfo::SqlSupportedSubqueries, 0b1111i32); // comparisons, EXISTS, IN, quantified
    b.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    b.append(SqlInfo::SqlSupportedUnions, 0b11i32); // UNION and UNION ALL
    for limit in [
        SqlInfo::SqlMaxBinaryLiteralLength,
        SqlInfo::SqlMaxCharLiteralLength,
        SqlInfo::SqlMaxColumnNameLength,
        SqlInfo::SqlMaxColumnsInGroupBy,
        SqlInfo::SqlMaxColumnsInIndex,
        SqlInfo::SqlMaxColumnsInOrderBy,
        SqlInfo::SqlMaxColumnsInSelect,
        SqlInfo::SqlMaxColumnsInTable,
        SqlInfo::SqlMaxConnections,
        SqlInfo::SqlMaxCursorNameLength,
        SqlInfo::SqlMaxIndexLength,
        SqlInfo::SqlDbSchemaNameLength,
        SqlInfo::SqlMaxProcedureNameLength,
        SqlInfo::SqlMaxCatalogNameLength,
        SqlInfo::SqlMaxRowSize,
        SqlInfo::SqlMaxStatementLength,
        SqlInfo::SqlMaxStatements,
        SqlInfo::SqlMaxTableNameLength,
        SqlInfo::SqlMaxTablesInSelect,
        SqlInfo::SqlMaxUsernameLength,
    ] {
        b.append(limit, 0i64); // 0: no limit known
    }
    b.append(SqlInfo::SqlMaxRowSizeIncludesBlobs, true);
    b.append(SqlInfo::SqlDefaultTransactionIsolation, 0i32); // none
    b.append(SqlInfo::SqlTransactionsSupported, false);
    b.append(SqlInfo::SqlSupportedTransactionsIsolationLevels, 0i32);
    b.append(SqlInfo::SqlDataDefinitionCausesTransactionCommit, false);
    b.append(SqlInfo::SqlDataDefinitionsInTransactionsIgnored, true);
    b.append(SqlInfo::SqlSupportedResultSetTypes, 0b10i32); // forward only
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetUnspecified,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetForwardOnly,
        0b10i32,
    ); // read only
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollSensitive,
        0i32,
    );
    b.append(
        SqlInfo::SqlSupportedConcurrenciesForResultSetScrollInsensitive,
        0i32,
    );
    b.append(SqlInfo::SqlBatchUpdatesSupported, false);
    b.append(SqlInfo::SqlSavepointsSupported, false);
    b.append(SqlInfo::SqlNamedParametersSupported, false);
    b.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    b.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);
    b.build().expect("static SqlInfo builds")
}

/// The registered scalar functions, sorted into JDBC's four lists (socialcx's own functions
/// are the "system" ones).
fn function_lists(ctx: &SessionContext) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
    const NUMERIC: &[&str] = &[
        "abs", "acos", "asin", "atan", "atan2", "cbrt", "ceil", "cos", "cot", "degrees", "exp",
        "floor", "ln", "log", "log10", "log2", "mod", "pi", "power", "radians", "random", "round",
        "signum", "sin", "sqrt", "tan", "trunc",
    ];
    const DATETIME: &[&str] = &[
        "current_date",
        "current_time",
        "date_bin",
        "date_part",
        "date_trunc",
        "extract",
        "from_unixtime",
        "make_date",
        "now",
        "to_char",
        "to_date",
        "to_timestamp",
        "to_unixtime",
    ];
    const OWN: &[&str] = &[
        "sentiment",
        "sentiment_label",
        "sentiment_scores",
        "cx_sentiment",
        "cx_sentiment_label",
        "cx_sentiment_scores",
        "moment_of_truth",
        "moments_of_truth",
        "moment_of_truth_scores",
        "influence",
    ];
    let state = ctx.state();
    let mut names: Vec<String> = state.scalar_functions().keys().cloned().collect();
    names.sort();
    let (mut numeric, mut string, mut datetime, mut system) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for name in names {
        let list = if OWN.contains(&name.as_str()) {
            &mut system
        } else if NUMERIC.contains(&name.as_str()) {
            &mut numeric
        } else if DATETIME.contains(&name.as_str()) {
            &mut datetime
        } else {
            &mut string
        };
        list.push(name);
    }
    (numeric, string, datetime, system)
}

/// What GetXdbcTypeInfo answers: the SQL types a client can use in casts and DDL, with the
/// Arrow type results of that type have.
pub fn xdbc_type_info() -> XdbcTypeInfoData {
    struct T {
        name: &'static str,
        xdbc: XdbcDataType,
        size: Option<i32>,
        prefix: Option<&'static str>,
        radix: Option<i32>,
        subcode: Option<XdbcDatetimeSubcode>,
        scale: Option<(i32, i32)>,
        case_sensitive: bool,
    }
    let t = |name, xdbc, size, radix| T {
        name,
        xdbc,
        size,
        prefix: None,
        radix,
        subcode: None,
        scale: None,
        case_sensitive: false,
    };
    let types = vec![
        t("BOOLEAN", XdbcDataType::XdbcBit, Some(1), None),
        t("TINYINT", XdbcDataType::XdbcTinyint, Some(3), Some(10)),
        t("SMALLINT", XdbcDataType::XdbcSmallint, Some(5), Some(10)),
        t("INTEGER", XdbcDataType::XdbcInteger, Some(10), Some(10)),
        t("BIGINT", XdbcDataType::XdbcBigint, Some(19), Some(10)),
        t("REAL", XdbcDataType::XdbcReal, Some(24), Some(2)),
        t("DOUBLE", XdbcDataType::XdbcDouble, Some(53), Some(2)),
        T {
            scale: Some((0, 38)),
            ..t("DECIMAL", XdbcDataType::XdbcDecimal, Some(38), Some(10))
        },
        T {
            prefix: Some("'"),
            case_sensitive: true,
            ..t("VARCHAR", XdbcDataType::XdbcVarchar, Some(i32::MAX), None)
        },
        t(
            "VARBINARY",
            XdbcDataType::XdbcVarbinary,
            Some(i32::MAX),
            None,
        ),
        T {
            prefix: Some("DATE '"),
            subcode: Some(XdbcDatetimeSubcode::XdbcSubcodeYear),
            ..t("DATE", XdbcDataType::XdbcDate, Some(10), None)
        },
        T {
            prefix: Some("TIME '"),
            subcode: Some(XdbcDatetimeSubcode::XdbcSubcodeTime),
            ..t("TIME", XdbcDataType::XdbcTime, Some(18), None)
        },
        T {
            prefix: Some("TIMESTAMP '"),
            subcode: Some(XdbcDatetimeSubcode::XdbcSubcodeTimestamp),
            ..t("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some(32), None)
        },
        t("INTERVAL", XdbcDataType::XdbcInterval, None, None),
    ];
    let mut builder = XdbcTypeInfoDataBuilder::new();
    for ty in types {
        builder.append(XdbcTypeInfo {
            type_name: ty.name.into(),
            data_type: ty.xdbc,
            column_size: ty.size,
            literal_prefix: ty.prefix.map(Into::into),
            literal_suffix: ty.prefix.map(|_| "'".into()),
            create_params: None,
            nullable: Nullable::NullabilityNullable,
            case_sensitive: ty.case_sensitive,
            searchable: Searchable::Full,
            unsigned_attribute: ty.radix.map(|_| false),
            fixed_prec_scale: false,
            auto_increment: Some(false),
            local_type_name: Some(ty.name.into()),
            minimum_scale: ty.scale.map(|s| s.0),
            maximum_scale: ty.scale.map(|s| s.1),
            sql_data_type: ty.xdbc,
            datetime_subcode: ty.subcode,
            num_prec_radix: ty.radix,
            interval_precision: None,
        });
    }
    builder.build().expect("static type info builds")
}
