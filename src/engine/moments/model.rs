//! The moment-of-truth tagger's learned layer: a [`LinearModel`] over a post's tokens,
//! token pairs, the taxonomy's six stage scores and which stage the taxonomy alone makes
//! primary, shipped as data
//! (`data/stage_model.tsv`, written by `datasets/text_models/train.py --layer stage`).
//!
//! The taxonomy knows cue phrases; the learned layer weighs them the way labelled posts
//! do. It decides the primary stage, and whether there is one at all: a review sentence
//! that mentions a price in passing is not a purchase, and a post about nothing in the
//! journey stays null even when a weak cue matched.

use std::sync::Arc;

use super::STAGES;
use crate::Result;
use crate::engine::text_model::LinearModel;

/// The shipped weights.
pub const STAGE_MODEL: &str = include_str!("data/stage_model.tsv");

/// The classes, in the model's column order: no stage (`none`), then [`STAGES`].
fn classes() -> Vec<&'static str> {
    std::iter::once("none").chain(STAGES).collect()
}

/// The dense inputs (`dense:` rows): each stage's taxonomy score (named as in
/// [`STAGES`]), then for each stage whether it is the taxonomy's own primary stage
/// (`top:<stage>`, 1 or 0).
fn dense_inputs() -> Vec<String> {
    STAGES
        .iter()
        .map(|s| s.to_string())
        .chain(STAGES.iter().map(|s| format!("top:{s}")))
        .collect()
}

/// The learned layer of the moment-of-truth tagger.
#[derive(Debug, Clone)]
pub struct StageModel {
    model: LinearModel,
}

impl StageModel {
    /// The shipped model, parsed once.
    ///
    /// ```
    /// let m = socialcx::engine::moments::model::StageModel::shipped();
    /// assert!(m.len() > 100);
    /// ```
    pub fn shipped() -> Arc<StageModel> {
        static SHIPPED: std::sync::OnceLock<Arc<StageModel>> = std::sync::OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                Arc::new(
                    StageModel::parse(STAGE_MODEL, "stage_model.tsv (shipped)")
                        .expect("the shipped stage model parses"),
                )
            })
            .clone()
    }

    /// Parse a model file (format: [`crate::engine::text_model`]): classes `none` and the
    /// six stages; dense inputs the six stages' taxonomy scores (`awareness`, ...) and
    /// whether each is the taxonomy's primary stage (`top:awareness`, ...).
    ///
    /// ```
    /// use socialcx::engine::moments::model::StageModel;
    /// let m = StageModel::parse("bias\t1\t0\t0\t0\t0\t0\t0\nrefund\t0\t0\t0\t0\t0\t3\t0\n", "m.tsv").unwrap();
    /// assert_eq!(m.len(), 1);
    /// assert!(StageModel::parse("refund\t1\t0\n", "m.tsv").is_err());
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<StageModel> {
        let dense = dense_inputs();
        let dense: Vec<&str> = dense.iter().map(String::as_str).collect();
        Ok(StageModel {
            model: LinearModel::parse(text, origin, &classes(), &dense)?,
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

    /// The primary stage of `text` (an index into [`STAGES`]), given its taxonomy scores
    /// and the taxonomy's own primary stage, or `None` when "no stage" is the most
    /// probable class.
    ///
    /// ```
    /// use socialcx::engine::moments::model::StageModel;
    /// let m = StageModel::parse("bias\t1\t0\t0\t0\t0\t0\t0\nrefund\t0\t0\t0\t0\t0\t3\t0\n", "m.tsv").unwrap();
    /// assert_eq!(m.primary("where is my refund", &[0.0; 6], None), Some(4)); // service
    /// assert_eq!(m.primary("nice weather", &[0.0; 6], None), None);
    /// ```
    pub fn primary(&self, text: &str, scores: &[f64; 6], taxonomy: Option<usize>) -> Option<usize> {
        let mut dense = [0.0; 12];
        dense[..6].copy_from_slice(scores);
        if let Some(top) = taxonomy {
            dense[6 + top] = 1.0;
        }
        // The most probable class is the one with the highest logit.
        let p = self.model.logits(text, &dense);
        let mut best = 0;
        for c in 1..=STAGES.len() {
            if p[c] > p[best] {
                best = c;
            }
        }
        best.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_scores_and_tokens_both_move_the_primary_stage() {
        // "none" by default; an advocacy score of 2 outweighs it, and so does the
        // taxonomy's primary stage (purchase here); a service token too.
        let m = StageModel::parse(
            "bias\t1\t0\t0\t0\t0\t0\t0\ndense:advocacy\t0\t0\t0\t0\t0\t0\t1\n\
             dense:top:purchase\t0\t0\t0\t2\t0\t0\t0\nagent\t0\t0\t0\t0\t0\t2\t0\n",
            "m.tsv",
        )
        .unwrap();
        assert_eq!(m.primary("hello", &[0.0; 6], None), None);
        assert_eq!(
            m.primary("hello", &[0.0, 0.0, 0.0, 0.0, 0.0, 2.0], None),
            Some(5)
        );
        assert_eq!(m.primary("hello", &[0.0; 6], Some(2)), Some(2));
        assert_eq!(m.primary("an agent called", &[0.0; 6], None), Some(4));
    }
}
