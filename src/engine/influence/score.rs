//! `influence(author_followers, likes, shares, replies)`: a per-message reach and
//! engagement score on 0..100.
//!
//! The score follows Avinash Kaushik's social-media metrics (conversation,
//! amplification and applause rates): engagement weighs a reply 3, a share 2 and a
//! like 1, because a reply starts a conversation, a share carries the message to a
//! new audience and a like only applauds. Reach and engagement are both
//! log-scaled (audiences and counts are heavy-tailed: 10x the followers should
//! add a step, not 10x the score) and saturate smoothly, each giving half the score:
//!
//! ```text
//! R = log10(1 + followers)                    r = R / (R + 4)   (0.5 at 10,000 followers)
//! E = log10(1 + likes + 2 shares + 3 replies) e = E / (E + 2)   (0.5 at 100 weighted engagements)
//! influence = 100 x (r + e) / 2
//! ```
//!
//! It is strictly increasing in every input and below 100; a null or negative input
//! counts as 0 (followers are often unknown).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};

/// The influence score of one message; see the module docs for the formula.
///
/// ```
/// use socialcx::engine::influence::score::influence;
/// assert_eq!(influence(0.0, 0.0, 0.0, 0.0), 0.0);
/// assert!((influence(9_999.0, 0.0, 0.0, 0.0) - 25.0).abs() < 1e-9); // log10(1 + 9,999) = 4
/// assert!(influence(500.0, 3.0, 1.0, 2.0) < influence(500.0, 3.0, 1.0, 3.0));
/// ```
pub fn influence(followers: f64, likes: f64, shares: f64, replies: f64) -> f64 {
    let count = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    let reach = (1.0 + count(followers)).log10();
    let engagement = (1.0 + count(likes) + 2.0 * count(shares) + 3.0 * count(replies)).log10();
    100.0 * (reach / (reach + 4.0) + engagement / (engagement + 2.0)) / 2.0
}

/// The `influence` SQL function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InfluenceUdf {
    signature: Signature,
}

impl Default for InfluenceUdf {
    fn default() -> Self {
        InfluenceUdf {
            signature: Signature::uniform(4, vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for InfluenceUdf {
    fn name(&self) -> &str {
        "influence"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [f, l, s, r] = arrays.as_slice() else {
            return exec_err!("influence takes 4 arguments, got {}", arrays.len());
        };
        let column = |a: &ArrayRef| a.as_primitive::<Float64Type>().clone();
        let (f, l, s, r) = (column(f), column(l), column(s), column(r));
        let value = |a: &Float64Array, i: usize| if a.is_null(i) { 0.0 } else { a.value(i) };
        let out: Float64Array = (0..n)
            .map(|i| {
                Some(influence(
                    value(&f, i),
                    value(&l, i),
                    value(&s, i),
                    value(&r, i),
                ))
            })
            .collect();
        let out: ArrayRef = Arc::new(out);
        Ok(
            if args
                .args
                .iter()
                .all(|a| matches!(a, ColumnarValue::Scalar(_)))
            {
                ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?)
            } else {
                ColumnarValue::Array(out)
            },
        )
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<Documentation> = LazyLock::new(|| {
            Documentation::builder(
                DocSection {
                    include: true,
                    label: "socialcx influence functions",
                    description: None,
                },
                "A message's reach and engagement on 0..100: log-scaled followers and log-scaled likes + 2 shares + 3 replies (Kaushik's applause, amplification and conversation), half each. Strictly increasing in every input; null counts as 0.",
                "influence(author_followers, likes, shares, replies)",
            )
            .with_argument("author_followers", "The author's audience.")
            .with_argument("likes", "Likes (applause).")
            .with_argument("shares", "Shares (amplification).")
            .with_argument("replies", "Replies (conversation).")
            .with_sql_example(
                "SELECT author_id, max(influence(author_followers, likes, shares, replies)) FROM conversations GROUP BY 1 ORDER BY 2 DESC LIMIT 10;",
            )
            .build()
        });
        Some(&DOCS)
    }
}
