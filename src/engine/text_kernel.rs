//! The loop every text function shares: each valid row of a string array, whatever
//! its layout (Utf8, LargeUtf8, Utf8View), as a `&str` borrowed from the buffer.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{DocSection, Documentation, Signature, Volatility};

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

/// The text of a scalar argument (`None` for a null), or an error naming `function`.
///
/// ```
/// use datafusion::common::ScalarValue;
/// let v = ScalarValue::Utf8(Some("hi".into()));
/// assert_eq!(socialcx::engine::text_kernel::scalar_text(&v, "f").unwrap(), Some("hi"));
/// ```
pub fn scalar_text<'a>(scalar: &'a ScalarValue, function: &str) -> Result<Option<&'a str>> {
    match scalar {
        ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => {
            Ok(s.as_deref())
        }
        ScalarValue::Null => Ok(None),
        other => exec_err!("{function} takes text, not {}", other.data_type()),
    }
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
