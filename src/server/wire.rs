//! The types that leave the server: what Flight SQL clients can read.
//!
//! DataFusion may produce view types (`Utf8View`, `BinaryView`, `ListView`), dictionaries and
//! run-end encoded arrays; many clients (the Flight SQL JDBC driver among them) cannot read
//! them. Timestamps with a time zone are sent as UTC. The same [`wire_schema`] is announced by
//! `GetFlightInfo` and streamed by `DoGet`, so the two never differ.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatchOptions;

use crate::engine::plain::{map_fields, map_nested, plain_type};

/// The type a client receives for a column of type `data_type`.
///
/// ```
/// use datafusion::arrow::datatypes::{DataType, TimeUnit};
/// use socialcx::server::wire::wire_type;
/// assert_eq!(wire_type(&DataType::Utf8View), DataType::Utf8);
/// let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
/// assert_eq!(wire_type(&dict), DataType::Utf8);
/// let paris = DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Paris".into()));
/// assert_eq!(wire_type(&paris), DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())));
/// ```
pub fn wire_type(data_type: &DataType) -> DataType {
    map_nested(data_type, &|leaf| match leaf {
        DataType::Dictionary(_, value) => wire_type(value),
        DataType::RunEndEncoded(_, value) => wire_type(value.data_type()),
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, Some("UTC".into())),
        other => plain_type(other),
    })
}

/// The schema a client receives for results of `schema` (field names, nullability and
/// metadata kept; only types change).
///
/// ```
/// use datafusion::arrow::datatypes::{DataType, Field, Schema};
/// use socialcx::server::wire::wire_schema;
/// let schema = Schema::new(vec![Field::new("text", DataType::Utf8View, false)]);
/// let wire = wire_schema(&schema);
/// assert_eq!(wire.field(0), &Field::new("text", DataType::Utf8, false));
/// ```
pub fn wire_schema(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new_with_metadata(
        map_fields(schema.fields(), &wire_type),
        schema.metadata().clone(),
    ))
}

/// `batch` with its columns cast to `wire` (a schema made by [`wire_schema`] from the batch's
/// own schema, possibly with different nullability flags, which the data must satisfy).
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{RecordBatch, StringViewArray};
/// use datafusion::arrow::datatypes::{DataType, Field, Schema};
/// use socialcx::server::wire::{to_wire, wire_schema};
/// let schema = Arc::new(Schema::new(vec![Field::new("t", DataType::Utf8View, true)]));
/// let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringViewArray::from(vec!["a"]))])?;
/// let wire = to_wire(&batch, &wire_schema(&schema))?;
/// assert_eq!(wire.column(0).data_type(), &DataType::Utf8);
/// # Ok::<(), datafusion::arrow::error::ArrowError>(())
/// ```
pub fn to_wire(batch: &RecordBatch, wire: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.num_columns() != wire.fields().len() {
        return Err(ArrowError::SchemaError(format!(
            "result has {} columns, {} were announced",
            batch.num_columns(),
            wire.fields().len()
        )));
    }
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let columns = batch
        .columns()
        .iter()
        .zip(wire.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                cast_with_options(column, field.data_type(), &options)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(
        Arc::clone(wire),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}
