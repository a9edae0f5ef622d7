//! The sentiment SQL functions: `sentiment`, `sentiment_scores`, `sentiment_label`
//! and their customer-care twins `cx_sentiment`, `cx_sentiment_scores`,
//! `cx_sentiment_label`.
//!
//! One [`ScalarUDFImpl`] serves all six: what differs is the analyzer (reference
//! VADER or customer-care) and the output (compound, the four scores, or a label).
//! The kernel walks the Arrow string array once, scoring each valid row with one
//! reused [`Scratch`]; nulls pass through.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use super::vader::{Analyzer, Scratch};
use crate::engine::text_kernel::{
    float_struct, for_each_text, invoke_on_text, text_docs, text_signature,
};

/// What a sentiment function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    /// The compound score, -1..1 (Float64).
    Compound,
    /// `{neg, neu, pos, compound}` (Struct of Float64).
    Scores,
    /// 'positive', 'negative' or 'neutral' (Utf8).
    Label,
}

/// A sentiment function: an analyzer and an output shape.
#[derive(Debug, Clone)]
pub struct SentimentUdf {
    name: &'static str,
    analyzer: Analyzer,
    output: Output,
    signature: Signature,
}

impl PartialEq for SentimentUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && std::ptr::eq(self.analyzer.lexicon(), other.analyzer.lexicon())
    }
}
impl Eq for SentimentUdf {}
impl Hash for SentimentUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The label VADER's authors recommend: positive at compound >= 0.05, negative at
/// <= -0.05, else neutral.
///
/// ```
/// assert_eq!(socialcx::engine::sentiment::udf::label(0.05), "positive");
/// assert_eq!(socialcx::engine::sentiment::udf::label(0.0), "neutral");
/// ```
pub fn label(compound: f64) -> &'static str {
    if compound >= 0.05 {
        "positive"
    } else if compound <= -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

fn scores_fields() -> Fields {
    Fields::from(
        ["neg", "neu", "pos", "compound"]
            .map(|n| Field::new(n, DataType::Float64, true))
            .to_vec(),
    )
}

const SECTION: DocSection = DocSection {
    include: true,
    label: "Sentiment Functions",
    description: Some("VADER sentiment, exact to vaderSentiment 3.3.2, and a customer-care mode"),
};

impl SentimentUdf {
    /// The function `name` (see the module docs for the six names).
    ///
    /// ```
    /// use socialcx::engine::sentiment::{udf::{Output, SentimentUdf}, vader::Analyzer};
    /// let udf = datafusion::logical_expr::ScalarUDF::new_from_impl(
    ///     SentimentUdf::new("sentiment", Analyzer::vader(), Output::Compound));
    /// assert_eq!(udf.name(), "sentiment");
    /// ```
    pub fn new(name: &'static str, analyzer: Analyzer, output: Output) -> Self {
        let signature = text_signature();
        SentimentUdf {
            name,
            analyzer,
            output,
            signature,
        }
    }

    fn score_array(&self, array: &ArrayRef) -> Result<ArrayRef> {
        let mut scratch = Scratch::default();
        let nulls = array.logical_nulls();
        let n = array.len();
        match self.output {
            Output::Compound => {
                let mut values = vec![0.0; n];
                for_each_text(array, |i, text| {
                    values[i] = self.analyzer.compound(text, &mut scratch)
                })?;
                Ok(Arc::new(Float64Array::new(values.into(), nulls)))
            }
            Output::Label => {
                let mut labels: Vec<Option<&'static str>> = vec![None; n];
                for_each_text(array, |i, text| {
                    labels[i] = Some(label(self.analyzer.compound(text, &mut scratch)))
                })?;
                Ok(Arc::new(StringArray::from(labels)))
            }
            Output::Scores => {
                let mut cols = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
                for_each_text(array, |i, text| {
                    let s = self.analyzer.scores(text, &mut scratch);
                    cols[0][i] = s.neg;
                    cols[1][i] = s.neu;
                    cols[2][i] = s.pos;
                    cols[3][i] = s.compound;
                })?;
                float_struct(scores_fields(), Vec::from(cols), nulls)
            }
        }
    }
}

impl ScalarUDFImpl for SentimentUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Compound => DataType::Float64,
            Output::Label => DataType::Utf8,
            Output::Scores => DataType::Struct(scores_fields()),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_on_text(&args.args, self.name, |array| self.score_array(array))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<Vec<(&'static str, Documentation)>> = LazyLock::new(|| {
            text_docs(
                SECTION,
                &[
                    (
                        "sentiment",
                        "VADER compound score in -1..1, exactly as vaderSentiment 3.3.2's polarity_scores(text)['compound'].",
                        "SELECT sentiment('The book was good.');  -- 0.4404",
                    ),
                    (
                        "sentiment_scores",
                        "VADER's neg, neu, pos (3 decimals) and compound (4 decimals), as a struct.",
                        "SELECT sentiment_scores(text)['neg'] FROM conversations;",
                    ),
                    (
                        "sentiment_label",
                        "'positive' (compound >= 0.05), 'negative' (<= -0.05) or 'neutral'.",
                        "SELECT sentiment_label(text), count(*) FROM conversations GROUP BY 1;",
                    ),
                    (
                        "cx_sentiment",
                        "Customer-care score in -1..1: p(positive) - p(negative) of a learned layer over VADER with service-failure phrases and the courtesy-in-complaint rule (in the ±0.05 neutral band exactly when neutral is the most probable class).",
                        "SELECT cx_sentiment('thanks for nothing, still waiting on my refund');",
                    ),
                    (
                        "cx_sentiment_scores",
                        "Customer-care class probabilities neg, neu, pos (3 decimals) and compound (4 decimals), as a struct.",
                        "SELECT cx_sentiment_scores(text) FROM conversations LIMIT 5;",
                    ),
                    (
                        "cx_sentiment_label",
                        "Customer-care label: the most probable of 'positive', 'negative' and 'neutral'.",
                        "SELECT cx_sentiment_label(text), count(*) FROM conversations GROUP BY 1;",
                    ),
                ],
            )
        });
        DOCS.iter().find(|(n, _)| *n == self.name).map(|(_, d)| d)
    }
}
