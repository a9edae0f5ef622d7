//! `max_by(value, key)` and `min_by(value, key)` (aliases `arg_max`, `arg_min`): in each
//! group, the value of the row with the greatest (least) key, as in DuckDB and Spark.
//!
//! `first_value(v ORDER BY k DESC)` answers the same question, but DataFusion keeps each
//! group's ordering as `ScalarValue`s and builds one per candidate row, once per aggregate
//! (triage's three of them took 10.1-10.9 s, one `max_by` of a struct 8.2-8.4 s:
//! docs/functions.md, "Choosing a row"). Here the
//! key of a whole batch is converted once to Arrow's row format, whose bytes compare like the
//! key, and each group keeps the bytes of its best key and of its value. A composite key is a
//! struct (`max_by(text, struct(created_at, conversation_id))`): its fields compare in order,
//! so the second one breaks ties of the first.
//!
//! Rows whose key or value is null are skipped, as in DuckDB's `arg_max`; a group without
//! any other row gives null. Of rows with equal keys, the first one seen is kept (the order
//! is not defined across partitions: give a key that is unique, as above).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, UInt32Array, new_null_array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::{nullif, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, DocSection, Documentation, EmitTo,
    GroupsAccumulator, Signature, Volatility,
};

/// Which end of the key order a function keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Extreme {
    Greatest,
    Least,
}

impl Extreme {
    /// Whether a row with key `candidate` replaces the one with key `best` (both in row format).
    fn beats(self, candidate: &[u8], best: &[u8]) -> bool {
        match self {
            Extreme::Greatest => candidate > best,
            Extreme::Least => candidate < best,
        }
    }
}

/// `max_by` or `min_by`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ByKey {
    extreme: Extreme,
    signature: Signature,
}

/// The two functions, `max_by` then `min_by`.
///
/// ```
/// use datafusion::prelude::SessionContext;
/// let ctx = SessionContext::new();
/// for f in socialcx::engine::max_by::udafs() {
///     ctx.register_udaf(f);
/// }
/// let sql = "SELECT max_by(v, struct(k, id)) AS latest, arg_min(v, k) AS first \
///            FROM (VALUES ('a', 1, 'x'), ('b', 2, 'a'), ('c', 2, 'b')) t(v, k, id)";
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let rows = runtime.block_on(async { ctx.sql(sql).await?.collect().await }).unwrap();
/// let shown = datafusion::arrow::util::pretty::pretty_format_batches(&rows).unwrap();
/// assert!(shown.to_string().contains("| c      | a     |"), "{shown}");
/// ```
pub fn udafs() -> Vec<AggregateUDF> {
    [Extreme::Greatest, Extreme::Least]
        .into_iter()
        .map(|extreme| {
            AggregateUDF::new_from_impl(ByKey {
                extreme,
                signature: Signature::any(2, Volatility::Immutable),
            })
        })
        .collect()
}

const SECTION: DocSection = DocSection {
    include: true,
    label: "General Functions",
    description: None,
};

impl AggregateUDFImpl for ByKey {
    fn name(&self) -> &str {
        match self.extreme {
            Extreme::Greatest => "max_by",
            Extreme::Least => "min_by",
        }
    }

    fn aliases(&self) -> &[String] {
        static MAX: LazyLock<Vec<String>> = LazyLock::new(|| vec!["arg_max".to_string()]);
        static MIN: LazyLock<Vec<String>> = LazyLock::new(|| vec!["arg_min".to_string()]);
        match self.extreme {
            Extreme::Greatest => &MAX,
            Extreme::Least => &MIN,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup::new(ByKeyGroups::new(
            self.extreme,
            &args,
        )?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |what: &str, of: &FieldRef| {
            Arc::new(Field::new(
                format!("{}[{what}]", args.name),
                of.data_type().clone(),
                true,
            ))
        };
        Ok(vec![
            field("value", &args.input_fields[0]),
            field("key", &args.input_fields[1]),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ByKeyGroups::new(self.extreme, &args)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 2]> = LazyLock::new(|| {
            [("max_by", "greatest"), ("min_by", "least")].map(|(name, end)| {
                Documentation::builder(
                    SECTION,
                    format!(
                        "The value of the row with the {end} key (alias arg_{}). Rows whose \
                         key or value is null are skipped; a struct key compares field by field.",
                        &name[..3]
                    ),
                    format!("{name}(value, key)"),
                )
                .with_argument("value", "What to return: any type.")
                .with_argument(
                    "key",
                    "What to order by: any orderable type, or struct(k1, k2, ...) to break ties.",
                )
                .with_sql_example(format!(
                    "SELECT thread_id, {name}(text, struct(created_at, conversation_id)) \
                     FROM conversations GROUP BY thread_id"
                ))
                .build()
            })
        });
        Some(&DOCS[usize::from(self.extreme == Extreme::Least)])
    }
}

/// The chosen row of every group, as row-format bytes (empty: no row yet).
#[derive(Debug)]
struct ByKeyGroups {
    extreme: Extreme,
    key_format: RowConverter,
    value_format: RowConverter,
    /// The row-format bytes of a null key and a null value, for groups without a row.
    null_key: Vec<u8>,
    null_value: Vec<u8>,
    keys: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
    /// Bytes held in `keys` and `values`.
    held: usize,
    /// Scratch of one batch: per group, its row that beats the stored one (`NONE`: none).
    batch_best: Vec<usize>,
    touched: Vec<usize>,
}

const NONE: usize = usize::MAX;

impl ByKeyGroups {
    fn new(extreme: Extreme, args: &AccumulatorArgs) -> Result<ByKeyGroups> {
        let format = |field: &FieldRef| -> Result<(RowConverter, Vec<u8>)> {
            let format = RowConverter::new(vec![SortField::new(field.data_type().clone())])?;
            let null = format.convert_columns(&[new_null_array(field.data_type(), 1)])?;
            let null = null.row(0).as_ref().to_vec();
            Ok((format, null))
        };
        let (value_format, null_value) = format(&args.expr_fields[0])?;
        let (key_format, null_key) = format(&args.expr_fields[1])?;
        Ok(ByKeyGroups {
            extreme,
            key_format,
            value_format,
            null_key,
            null_value,
            keys: Vec::new(),
            values: Vec::new(),
            held: 0,
            batch_best: Vec::new(),
            touched: Vec::new(),
        })
    }

    /// Offer every row of a batch (`[value, key]`) to its group.
    fn offer(
        &mut self,
        columns: &[ArrayRef],
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let (value, key) = (&columns[0], &columns[1]);
        self.keys.resize_with(total_num_groups, Vec::new);
        self.values.resize_with(total_num_groups, Vec::new);
        self.batch_best.resize(total_num_groups, NONE);
        let key_rows = self.key_format.convert_columns(&[Arc::clone(key)])?;
        // The rows offered: a key, a value, and the filter true (one mask for the batch).
        let filtered = filter.map(|f| NullBuffer::new(passing(f)));
        let offered = NullBuffer::union_many([
            key.logical_nulls().as_ref(),
            value.logical_nulls().as_ref(),
            filtered.as_ref(),
        ]);
        for (row, &group) in group_indices.iter().enumerate() {
            if offered.as_ref().is_some_and(|n| n.is_null(row)) {
                continue;
            }
            let candidate = key_rows.row(row);
            let best = self.batch_best[group];
            let beats = if best != NONE {
                self.extreme
                    .beats(candidate.as_ref(), key_rows.row(best).as_ref())
            } else {
                let stored = &self.keys[group];
                stored.is_empty() || self.extreme.beats(candidate.as_ref(), stored)
            };
            if beats {
                if best == NONE {
                    self.touched.push(group);
                }
                self.batch_best[group] = row;
            }
        }
        if self.touched.is_empty() {
            return Ok(());
        }
        let winners: UInt32Array = self
            .touched
            .iter()
            .map(|&group| self.batch_best[group] as u32)
            .collect();
        let value_rows =
            self.value_format
                .convert_columns(&[take(value.as_ref(), &winners, None)?])?;
        for (i, &group) in self.touched.iter().enumerate() {
            let row = self.batch_best[group];
            self.batch_best[group] = NONE;
            for (stored, bytes) in [
                (&mut self.keys[group], key_rows.row(row)),
                (&mut self.values[group], value_rows.row(i)),
            ] {
                self.held -= stored.len();
                stored.clear();
                stored.extend_from_slice(bytes.as_ref());
                self.held += stored.len();
            }
        }
        self.touched.clear();
        Ok(())
    }

    /// The column of `rows` (row-format bytes, empty for null) in `format`.
    fn column(format: &RowConverter, null: &[u8], rows: &[Vec<u8>]) -> Result<ArrayRef> {
        let parser = format.parser();
        let rows = rows
            .iter()
            .map(|bytes| parser.parse(if bytes.is_empty() { null } else { bytes }));
        Ok(format.convert_rows(rows)?.remove(0))
    }

    /// Remove the groups `emit_to` asks for: their values and keys.
    fn take(&mut self, emit_to: EmitTo) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let values = emit_to.take_needed(&mut self.values);
        let keys = emit_to.take_needed(&mut self.keys);
        self.held -= values.iter().chain(&keys).map(Vec::len).sum::<usize>();
        self.batch_best.truncate(self.keys.len());
        (values, keys)
    }
}

impl GroupsAccumulator for ByKeyGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.offer(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (values, _) = self.take(emit_to);
        Self::column(&self.value_format, &self.null_value, &values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (values, keys) = self.take(emit_to);
        Ok(vec![
            Self::column(&self.value_format, &self.null_value, &values)?,
            Self::column(&self.key_format, &self.null_key, &keys)?,
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.offer(values, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // Each row is its own state; a row the filter drops gets a null key, so merging skips it.
        let key = match opt_filter {
            None => Arc::clone(&values[1]),
            Some(filter) => nullif(
                values[1].as_ref(),
                &BooleanArray::new(!&passing(filter), None),
            )?,
        };
        Ok(vec![Arc::clone(&values[0]), key])
    }

    fn size(&self) -> usize {
        self.held
            + (self.keys.capacity() + self.values.capacity()) * size_of::<Vec<u8>>()
            + (self.batch_best.capacity() + self.touched.capacity()) * size_of::<usize>()
            + self.key_format.size()
            + self.value_format.size()
    }
}

/// The accumulator of an aggregate without groups (or of a window): one group.
#[derive(Debug)]
struct OneGroup(ByKeyGroups);

impl OneGroup {
    fn offer(&mut self, columns: &[ArrayRef]) -> Result<()> {
        self.0.offer(columns, &vec![0; columns[0].len()], None, 1)
    }

    /// The accumulator of `groups`, its one group there from the start (no row yet).
    fn new(mut groups: ByKeyGroups) -> OneGroup {
        groups.keys.push(Vec::new());
        groups.values.push(Vec::new());
        OneGroup(groups)
    }

    /// The chosen row's value and key, without removing them (a window evaluates often).
    fn scalars(&self) -> Result<[ScalarValue; 2]> {
        let g = &self.0;
        let value = ByKeyGroups::column(&g.value_format, &g.null_value, &g.values)?;
        let key = ByKeyGroups::column(&g.key_format, &g.null_key, &g.keys)?;
        Ok([
            ScalarValue::try_from_array(&value, 0)?,
            ScalarValue::try_from_array(&key, 0)?,
        ])
    }
}

impl Accumulator for OneGroup {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.offer(values)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let [value, _] = self.scalars()?;
        Ok(value)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self.scalars()?.into())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.offer(states)
    }
}

/// The rows where `filter` is true (a null counts as false).
fn passing(filter: &BooleanArray) -> BooleanBuffer {
    match filter.nulls() {
        Some(nulls) => filter.values() & nulls.inner(),
        None => filter.values().clone(),
    }
}
