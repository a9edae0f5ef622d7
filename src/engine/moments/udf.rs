//! The moment-of-truth SQL functions: `moment_of_truth(text)` (the primary stage or
//! null), `moments_of_truth(text)` (the primary stage, then the other stages at or above
//! the threshold, strongest first) and
//! `moment_of_truth_scores(text)` (a struct of the six per-stage scores).

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

use super::{STAGES, Tagger};
use crate::engine::text_kernel::{
    float_struct, for_each_text, invoke_on_text, text_docs, text_signature,
};

/// What a moment-of-truth function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    Primary,
    All,
    Scores,
}

/// A moment-of-truth function over a compiled taxonomy.
#[derive(Debug, Clone)]
pub struct MomentUdf {
    name: &'static str,
    tagger: Arc<Tagger>,
    output: Output,
    signature: Signature,
}

impl PartialEq for MomentUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.tagger, &other.tagger)
    }
}
impl Eq for MomentUdf {}
impl Hash for MomentUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The three functions over `tagger`.
///
/// ```
/// use socialcx::engine::moments::{Tagger, Taxonomy, udf::udfs};
/// let fs = udfs(&Tagger::new(&Taxonomy::shipped()).unwrap());
/// assert_eq!(fs.iter().map(|f| f.name().to_string()).collect::<Vec<_>>(),
///            ["moment_of_truth", "moments_of_truth", "moment_of_truth_scores"]);
/// ```
pub fn udfs(tagger: &Tagger) -> Vec<ScalarUDF> {
    let tagger = Arc::new(tagger.clone());
    [
        ("moment_of_truth", Output::Primary),
        ("moments_of_truth", Output::All),
        ("moment_of_truth_scores", Output::Scores),
    ]
    .into_iter()
    .map(|(name, output)| {
        ScalarUDF::new_from_impl(MomentUdf {
            name,
            tagger: Arc::clone(&tagger),
            output,
            signature: text_signature(),
        })
    })
    .collect()
}

fn score_fields() -> Fields {
    Fields::from(
        STAGES
            .map(|s| Field::new(s, DataType::Float64, true))
            .to_vec(),
    )
}

fn item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Utf8, true))
}

const SECTION: DocSection = DocSection {
    include: true,
    label: "Moment-of-truth Functions",
    description: Some("Customer-journey stage tagging from a data-driven taxonomy"),
};

impl MomentUdf {
    fn run(&self, array: &ArrayRef) -> Result<ArrayRef> {
        let n = array.len();
        let nulls = array.logical_nulls();
        match self.output {
            Output::Primary => {
                let mut out: Vec<Option<&'static str>> = vec![None; n];
                for_each_text(array, |i, t| out[i] = self.tagger.primary(t))?;
                Ok(Arc::new(StringArray::from(out)))
            }
            Output::All => {
                let mut lists: Vec<Option<Vec<&'static str>>> = vec![None; n];
                for_each_text(array, |i, t| lists[i] = Some(self.tagger.stages(t)))?;
                let mut builder = ListBuilder::new(StringBuilder::new()).with_field(item_field());
                for list in lists {
                    match list {
                        Some(stages) => {
                            for s in stages {
                                builder.values().append_value(s);
                            }
                            builder.append(true);
                        }
                        None => builder.append(false),
                    }
                }
                Ok(Arc::new(builder.finish()))
            }
            Output::Scores => {
                let mut cols = vec![vec![0.0; n]; 6];
                for_each_text(array, |i, t| {
                    for (c, v) in cols.iter_mut().zip(self.tagger.scores(t)) {
                        c[i] = v;
                    }
                })?;
                float_struct(score_fields(), cols, nulls)
            }
        }
    }
}

impl ScalarUDFImpl for MomentUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Primary => DataType::Utf8,
            Output::All => DataType::List(item_field()),
            Output::Scores => DataType::Struct(score_fields()),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_on_text(&args.args, self.name, |array| self.run(array))
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<Vec<(&'static str, Documentation)>> = LazyLock::new(|| {
            text_docs(
                SECTION,
                &[
                    (
                        "moment_of_truth",
                        "The primary journey stage (awareness, consideration, purchase, experience, service, advocacy), or null when none applies.",
                        "SELECT moment_of_truth('just booked Porto!!!');  -- purchase",
                    ),
                    (
                        "moments_of_truth",
                        "Every stage the text speaks to: the primary stage, then the others at or above the threshold, strongest first.",
                        "SELECT moments_of_truth('ordered last week, still waiting and support won''t answer');",
                    ),
                    (
                        "moment_of_truth_scores",
                        "Per-stage scores, for analysts who set their own thresholds.",
                        "SELECT moment_of_truth_scores(text)['advocacy'] FROM conversations;",
                    ),
                ],
            )
        });
        DOCS.iter().find(|(n, _)| *n == self.name).map(|(_, d)| d)
    }
}
