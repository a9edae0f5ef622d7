//! The customer-care mode's learned layer: a [`LinearModel`] over a post's tokens, token
//! pairs and the care lexicon's own scores, shipped as data (`data/care_model.tsv`, written
//! by `datasets/text_models/train.py`).
//!
//! The lexicon layer knows words; the learned layer weighs them the way labelled care
//! posts do: a failure ("2 hrs on hold", "bag still not here") outweighs the courtesy
//! around it, a question with no failure is a question. Its three class probabilities
//! replace the lexicon's `neg`/`neu`/`pos`, and its compound is `p(positive) −
//! p(negative)`, moved into or out of the neutral band (±0.05) so that
//! [`super::udf::label`] of the compound is always the most probable class.

use std::sync::Arc;

use super::vader::Scores;
use crate::Result;
use crate::engine::text_model::LinearModel;

/// The shipped weights.
pub const CARE_MODEL: &str = include_str!("data/care_model.tsv");

/// The classes, in the model's column order.
const CLASSES: [&str; 3] = ["negative", "neutral", "positive"];
const NEG: usize = 0;
const NEU: usize = 1;
const POS: usize = 2;

/// The dense inputs (`dense:` rows): the care lexicon's rounded scores of the text.
const DENSE: [&str; 3] = ["compound", "neg", "pos"];

/// The learned layer of the customer-care mode.
#[derive(Debug, Clone)]
pub struct CareModel {
    model: LinearModel,
}

impl CareModel {
    /// The shipped model, parsed once.
    ///
    /// ```
    /// let m = socialcx::engine::sentiment::model::CareModel::shipped();
    /// assert!(m.len() > 100);
    /// ```
    pub fn shipped() -> Arc<CareModel> {
        static SHIPPED: std::sync::OnceLock<Arc<CareModel>> = std::sync::OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                Arc::new(
                    CareModel::parse(CARE_MODEL, "care_model.tsv (shipped)")
                        .expect("the shipped care model parses"),
                )
            })
            .clone()
    }

    /// Parse a model file (format: [`crate::engine::text_model`]): classes `negative`,
    /// `neutral`, `positive`; dense inputs `compound`, `neg`, `pos`.
    ///
    /// ```
    /// use socialcx::engine::sentiment::model::CareModel;
    /// let m = CareModel::parse("bias\t0\t0\t0\nrefund\t1\t0\t-1\non hold\t2\t0\t-2\n", "m.tsv").unwrap();
    /// assert_eq!(m.len(), 2);
    /// assert!(CareModel::parse("refund\t1\t0\n", "m.tsv").is_err());
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<CareModel> {
        Ok(CareModel {
            model: LinearModel::parse(text, origin, &CLASSES, &DENSE)?,
        })
    }

    /// How many token and pair features the model weighs.
    pub fn len(&self) -> usize {
        self.model.len()
    }

    /// Whether the model weighs no token at all.
    pub fn is_empty(&self) -> bool {
        self.model.is_empty()
    }

    /// The care mode's scores of `text` given its care lexicon scores: the class
    /// probabilities as `neg`/`neu`/`pos` (3 places) and the compound (4 places).
    ///
    /// ```
    /// use socialcx::engine::sentiment::{model::CareModel, vader::Scores};
    /// let m = CareModel::parse("bias\t0\t0\t0\nhold\t3\t0\t0\n", "m.tsv").unwrap();
    /// let s = m.scores("on hold", &Scores::default());
    /// assert!(s.neg > 0.9 && s.compound <= -0.05);
    /// ```
    pub fn scores(&self, text: &str, lexicon: &Scores) -> Scores {
        let p = self
            .model
            .probabilities(text, &[lexicon.compound, lexicon.neg, lexicon.pos]);
        let spread = p[POS] - p[NEG];
        let compound = if p[NEU] >= p[NEG] && p[NEU] >= p[POS] {
            spread * 0.049
        } else if p[POS] > p[NEG] {
            spread.max(0.05)
        } else {
            spread.min(-0.05)
        };
        let round = super::vader::py_round;
        Scores {
            neg: round(p[NEG], 3),
            neu: round(p[NEU], 3),
            pos: round(p[POS], 3),
            compound: round(compound, 4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compound_labels_as_the_most_probable_class() {
        let m = CareModel::parse(
            "bias\t0\t0.5\t0\nthanks\t0\t0\t0.3\nlate\t0.7\t0\t0\n",
            "m.tsv",
        )
        .unwrap();
        let none = Scores::default();
        // Neutral most probable, though positive beats negative: still labelled neutral.
        let s = m.scores("thanks ok", &none);
        assert!(s.neu > s.pos && s.pos > s.neg, "{s:?}");
        assert_eq!(super::super::udf::label(s.compound), "neutral");
        // Positive most probable by a hair: labelled positive.
        let s = m.scores("thanks thanks", &none);
        assert!(s.pos > s.neu, "{s:?}");
        assert_eq!(super::super::udf::label(s.compound), "positive");
        let s = m.scores("late late", &none);
        assert_eq!(super::super::udf::label(s.compound), "negative");
    }

    #[test]
    fn the_shipped_model_parses() {
        assert!(!CareModel::shipped().is_empty());
    }
}
