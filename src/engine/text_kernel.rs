//! The loop every text function shares: each valid row of a string array, whatever
//! its layout (Utf8, LargeUtf8, Utf8View), as a `&str` borrowed from the buffer.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Fields};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, DocSection, Documentation, Signature, Volatility};

/// Call `f(row, text)` for every non-null row of a string array of any layout.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{ArrayRef, StringArray};
/// let array: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("bc")]));
/// let mut seen = Vec::new();
/// socialcx::engine::text_kernel::for_each_text(&array, |i, t| seen.push((i, t.len()))).unwrap();
/// assert_eq!(seen, vec![(0, 1), (2, 2)]);
/// ```
pub fn for_each_text(array: &ArrayRef, mut f: impl FnMut(usize, &str)) -> Result<()> {
    macro_rules! walk {
        ($arr:expr) => {{
            let arr = $arr;
            for i in 0..arr.len() {
                if arr.is_valid(i) {
                    f(i, arr.value(i));
                }
            }
        }};
    }
    match array.data_type() {
        DataType::Utf8 => walk!(array.as_string::<i32>()),
        DataType::LargeUtf8 => walk!(array.as_string::<i64>()),
        DataType::Utf8View => walk!(array.as_string_view()),
        DataType::Null => {}
        other => return exec_err!("expected text, not {other}"),
    }
    Ok(())
}

/// Run a one-text-argument function: an array argument through `kernel`, a scalar
/// as a one-row array through the same kernel.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::array::{ArrayRef, Int64Array};
/// use datafusion::common::ScalarValue;
/// use datafusion::logical_expr::ColumnarValue;
/// let len = |a: &ArrayRef| -> datafusion::common::Result<ArrayRef> { Ok(Arc::new(Int64Array::from(vec![a.len() as i64]))) };
/// let arg = ColumnarValue::Scalar(ScalarValue::Utf8(Some("hi".into())));
/// let out = socialcx::engine::text_kernel::invoke_on_text(&[arg], "f", len).unwrap();
/// assert!(matches!(out, ColumnarValue::Scalar(ScalarValue::Int64(Some(1)))));
/// ```
pub fn invoke_on_text(
    args: &[ColumnarValue],
    function: &str,
    kernel: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let [arg] = args else {
        return exec_err!("{function} takes one argument");
    };
    let text = match arg {
        ColumnarValue::Array(array) => return Ok(ColumnarValue::Array(kernel(array)?)),
        ColumnarValue::Scalar(
            ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s),
        ) => s.as_deref(),
        ColumnarValue::Scalar(ScalarValue::Null) => None,
        ColumnarValue::Scalar(other) => {
            return exec_err!("{function} takes text, not {}", other.data_type());
        }
    };
    let array: ArrayRef = Arc::new(StringArray::from(vec![text]));
    Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
        &kernel(&array)?,
        0,
    )?))
}

/// A struct array of Float64 columns whose children carry the parent's nulls (so
/// `s['field']` of a null row is null).
///
/// ```
/// use datafusion::arrow::datatypes::{DataType, Field, Fields};
/// let fields = Fields::from(vec![Field::new("a", DataType::Float64, true)]);
/// let s = socialcx::engine::text_kernel::float_struct(fields, vec![vec![1.0, 2.0]], None).unwrap();
/// assert_eq!(s.len(), 2);
/// ```
pub fn float_struct(
    fields: Fields,
    columns: Vec<Vec<f64>>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let children: Vec<ArrayRef> = columns
        .into_iter()
        .map(|c| Arc::new(Float64Array::new(c.into(), nulls.clone())) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::try_new(fields, children, nulls)?))
}

/// The signature of a one-text-argument function: any string layout.
///
/// ```
/// assert_eq!(socialcx::engine::text_kernel::text_signature().volatility,
///            datafusion::logical_expr::Volatility::Immutable);
/// ```
pub fn text_signature() -> Signature {
    Signature::uniform(
        1,
        vec![DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View],
        Volatility::Immutable,
    )
}

/// Documentation for one-text-argument functions: `(name, description, example)`.
///
/// ```
/// use datafusion::logical_expr::DocSection;
/// let s = DocSection { include: true, label: "X", description: None };
/// let docs = socialcx::engine::text_kernel::text_docs(s, &[("f", "Does f.", "SELECT f('a')")]);
/// assert_eq!(docs[0].1.syntax_example, "f(text)");
/// ```
pub fn text_docs(
    section: DocSection,
    entries: &[(&'static str, &str, &str)],
) -> Vec<(&'static str, Documentation)> {
    entries
        .iter()
        .map(|&(name, what, example)| {
            let doc =
                Documentation::builder(section.clone(), what.to_string(), format!("{name}(text)"))
                    .with_argument("text", "The text (Utf8, LargeUtf8 or Utf8View).")
                    .with_sql_example(example.to_string())
                    .build();
            (name, doc)
        })
        .collect()
}
