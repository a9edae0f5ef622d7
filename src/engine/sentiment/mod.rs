//! Sentiment: VADER exactly as the reference Python package scores it, and a
//! customer-care mode on the same machinery.
//!
//! - [`pytext`]: the Python string semantics VADER depends on.
//! - [`lexicon`]: the compiled word and emoji tables, and the layers over them.
//! - [`vader`]: the scorer.
//! - [`model`]: the customer-care mode's learned layer.
//! - [`udf`]: the SQL functions.
//!
//! The customer-care mode is data: a lexicon layer, `data/customer_care.toml` (shipped,
//! documented in place), and a learned layer over it, `data/care_model.tsv` (weights
//! written by `datasets/text_models/train.py`). Users add or override words and phrases,
//! for both modes, with a lexicon file given to [`crate::EngineConfig::lexicon`]:
//!
//! ```toml
//! [words]            # both modes; VADER's scale, -4..4
//! "glitchy" = -1.8
//! [phrases]          # both modes; a phrase's valence replaces its words
//! "price match" = 1.5
//! [cx.words]         # customer-care mode only
//! "escalate" = -1.0
//! [cx.phrases]
//! "still no tracking" = -2.0
//! ```
//!
//! `care_model = false` at the top of the file turns the learned layer off: the care
//! mode is then the lexicon layer alone (what the training script learns from).

pub mod lexicon;
pub mod model;
pub mod pytext;
pub mod udf;
pub mod vader;

use std::path::Path;
use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use crate::config::{load_toml, parse_toml};
use crate::engine::text_model::ModelChoice;
use crate::{Error, Result};
use lexicon::{Lexicon, LexiconLayer};
use model::CareModel;
use udf::{Output, SentimentUdf};
use vader::Analyzer;

/// The shipped customer-care layer.
pub const CUSTOMER_CARE: &str = include_str!("data/customer_care.toml");

/// A user's domain lexicon file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLexicon {
    /// Words for both modes.
    #[serde(default)]
    pub words: std::collections::BTreeMap<String, f64>,
    /// Phrases for both modes.
    #[serde(default)]
    pub phrases: std::collections::BTreeMap<String, f64>,
    /// Words, phrases and the courtesy rule for the customer-care mode only.
    #[serde(default)]
    pub cx: LexiconLayer,
    /// The customer-care mode's learned layer: the shipped one (default), none, or a file.
    #[serde(default)]
    pub care_model: ModelChoice,
}

impl UserLexicon {
    /// Parse a lexicon file's text; `origin` names it in errors.
    ///
    /// ```
    /// let lex = socialcx::engine::sentiment::UserLexicon::parse("[words]\nmeh = -0.5\n", "x.toml").unwrap();
    /// assert_eq!(lex.words["meh"], -0.5);
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<UserLexicon> {
        parse_toml::<UserLexicon>(text, origin)?.checked(origin)
    }

    /// Read and parse a lexicon file.
    pub fn load(path: &Path) -> Result<UserLexicon> {
        let mut lexicon = load_toml::<UserLexicon>(path)?.checked(&path.display().to_string())?;
        lexicon.care_model.resolve(path);
        Ok(lexicon)
    }

    /// The learned layer this file asks for, read (`None`: the lexicon layer alone).
    ///
    /// ```
    /// use socialcx::engine::sentiment::UserLexicon;
    /// assert!(UserLexicon::parse("care_model = false\n", "x.toml").unwrap().care_model().unwrap().is_none());
    /// assert!(UserLexicon::parse("", "x.toml").unwrap().care_model().unwrap().is_some());
    /// ```
    pub fn care_model(&self) -> Result<Option<Arc<CareModel>>> {
        self.care_model.load(CareModel::shipped, CareModel::parse)
    }

    /// `self` if every valence is on VADER's scale.
    fn checked(self, origin: &str) -> Result<UserLexicon> {
        let values = self
            .words
            .iter()
            .chain(&self.phrases)
            .chain(&self.cx.words)
            .chain(&self.cx.phrases);
        for (term, &v) in values {
            if !v.is_finite() || !(-4.0..=4.0).contains(&v) {
                return Err(Error::config(
                    origin,
                    format!("{term:?} = {v}: valences are on VADER's scale, -4 to 4"),
                ));
            }
        }
        Ok(self)
    }
}

/// The two analyzers every engine registers.
#[derive(Debug, Clone)]
pub struct Sentiment {
    /// Reference VADER (plus the user's words and phrases, if any).
    pub vader: Analyzer,
    /// Customer-care mode: VADER + the shipped customer-care layer + the user's.
    pub customer_care: Analyzer,
}

impl Sentiment {
    /// The analyzers, with `user`'s lexicon on top when given.
    ///
    /// ```
    /// let s = socialcx::engine::sentiment::Sentiment::new(None).unwrap();
    /// let mut scratch = Default::default();
    /// assert!(s.customer_care.compound("thanks for nothing", &mut scratch) < 0.0);
    /// ```
    pub fn new(user: Option<&UserLexicon>) -> Result<Sentiment> {
        let shipped: LexiconLayer = parse_toml(CUSTOMER_CARE, "customer_care.toml (shipped)")?;
        let Some(user) = user else {
            return Ok(Sentiment {
                vader: Analyzer::vader(),
                customer_care: Analyzer::new(Lexicon::vader().with_layer(&shipped))
                    .with_model(CareModel::shipped()),
            });
        };
        let both = LexiconLayer {
            words: user.words.clone(),
            phrases: user.phrases.clone(),
            ..Default::default()
        };
        let customer_care = Analyzer::new(
            Lexicon::vader()
                .with_layer(&shipped)
                .with_layer(&both)
                .with_layer(&user.cx),
        );
        Ok(Sentiment {
            vader: Analyzer::new(Lexicon::vader().with_layer(&both)),
            customer_care: match user.care_model()? {
                Some(model) => customer_care.with_model(model),
                None => customer_care,
            },
        })
    }

    /// The analyzers with the lexicon file at `path`, if any.
    pub fn load(path: Option<&Path>) -> Result<Sentiment> {
        match path {
            Some(p) => Self::new(Some(&UserLexicon::load(p)?)),
            None => Self::new(None),
        }
    }

    /// The six SQL functions over these analyzers.
    pub fn udfs(&self) -> Vec<ScalarUDF> {
        let v = &self.vader;
        let c = &self.customer_care;
        [
            ("sentiment", v, Output::Compound),
            ("sentiment_scores", v, Output::Scores),
            ("sentiment_label", v, Output::Label),
            ("cx_sentiment", c, Output::Compound),
            ("cx_sentiment_scores", c, Output::Scores),
            ("cx_sentiment_label", c, Output::Label),
        ]
        .into_iter()
        .map(|(name, a, out)| ScalarUDF::new_from_impl(SentimentUdf::new(name, a.clone(), out)))
        .collect()
    }
}
