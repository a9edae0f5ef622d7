//! The scores stored with every message: the `conversations` columns `sentiment`,
//! `cx_sentiment`, `stage` and `stages`, computed from `text` by the same functions SQL
//! calls (`sentiment`, `cx_sentiment`, `moment_of_truth`, `moments_of_truth`).
//!
//! Ingest scores each message once and stores the columns with the [`Scoring::fingerprint`]
//! of what scored it: the VADER lexicon, the customer-care layer, the taxonomy, the user's
//! domain lexicon and taxonomy files, and [`SCORING_VERSION`]. An engine opened with another
//! configuration computes the columns again for the files whose fingerprint differs (see
//! [`crate::lake::table::DerivedColumns`]); `socialcx enrich` rewrites those files.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::DFSchema;
use datafusion::functions_nested::expr_fn::array_element;
use datafusion::logical_expr::{Expr, ScalarUDF};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::{col, lit};
use sha2::{Digest, Sha256};

use super::moments::{self, Tagger};
use super::sentiment::{Sentiment, UserLexicon};
use crate::lake::table::DerivedColumns;
use crate::model::{
    CX_SENTIMENT, SCORE_COLUMNS, SENTIMENT, STAGE, STAGES, conversation_schema, utf8_list,
};
use crate::{Error, Result};

/// The version of the scoring code. Raise it with any change to how the functions score
/// (the tokenizer, a rule, a threshold) so that lakes scored before are read as stale.
pub const SCORING_VERSION: u32 = 3;

/// The scoring functions of one configuration, and its fingerprint.
#[derive(Debug)]
pub struct Scoring {
    udfs: Vec<ScalarUDF>,
    columns: Vec<(String, Expr)>,
    fingerprint: String,
}

impl Scoring {
    /// The shipped lexicons and taxonomy, with the user's domain `lexicon` and `taxonomy`
    /// files on top when given.
    ///
    /// ```
    /// use socialcx::engine::scoring::{SCORING_VERSION, Scoring};
    /// use socialcx::lake::table::DerivedColumns;
    /// let scoring = Scoring::load(None, None).unwrap();
    /// assert!(scoring.fingerprint().starts_with(&format!("v{SCORING_VERSION}-")));
    /// assert_eq!(scoring.udfs().len(), 9);
    /// ```
    pub fn load(lexicon: Option<&Path>, taxonomy: Option<&Path>) -> Result<Scoring> {
        let sentiment = Sentiment::load(lexicon)?;
        let tagger = Tagger::load(taxonomy)?;
        let mut udfs = sentiment.udfs();
        udfs.extend(moments::udf::udfs(&tagger));
        let call = |function: &str| {
            let udf = udfs
                .iter()
                .find(|u| u.name() == function)
                .expect("a scoring function");
            udf.call(vec![col("text")])
        };
        let columns = vec![
            (SENTIMENT.to_string(), call("sentiment")),
            (CX_SENTIMENT.to_string(), call("cx_sentiment")),
            (STAGE.to_string(), call("moment_of_truth")),
            (STAGES.to_string(), call("moments_of_truth")),
        ];
        Ok(Scoring {
            fingerprint: fingerprint(lexicon, taxonomy)?,
            udfs,
            columns,
        })
    }

    /// The SQL functions of this configuration (sentiment and moments of truth).
    pub fn udfs(&self) -> &[ScalarUDF] {
        &self.udfs
    }

    /// The score columns' expressions planned by `state` (the engine's session) once, for
    /// `conversations` batches: what ingest and `enrich` score every batch with.
    ///
    /// ```
    /// # fn main() -> socialcx::Result<()> {
    /// use socialcx::model::{Conversation, ConversationBatchBuilder};
    /// let scoring = socialcx::engine::scoring::Scoring::load(None, None)?;
    /// let mut b = ConversationBatchBuilder::new("i1");
    /// b.append(&Conversation { conversation_id: "1".into(), thread_id: None, parent_id: None,
    ///     parent_author_id: None,
    ///     channel: "x".into(), brand: "Acme".into(), author_id: "a".into(),
    ///     author_followers: None, is_brand: false, created_at: 0,
    ///     text: "I love it".into(), lang: None, likes: 0, shares: 0, replies: 0,
    ///     mentions: vec![], hashtags: vec![], rating: None });
    /// let state = datafusion::prelude::SessionContext::new().state();
    /// let scored = scoring.scorer(&state)?.score(&b.finish()?)?;
    /// let sentiment = scored.column_by_name("sentiment").unwrap();
    /// assert_eq!(sentiment.null_count(), 0);
    /// # Ok(()) }
    /// ```
    pub fn scorer(&self, state: &datafusion::execution::SessionState) -> Result<Scorer> {
        // Planned over the columns they read: `text`, and `stages` for the primary stage,
        // which is the first of `stages` (`Tagger::primary`), taken from the column just
        // computed so that the tagger reads each text once, not twice.
        let input = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8, true),
            Field::new(STAGES, utf8_list(), true),
        ]));
        let df_schema = DFSchema::try_from(Arc::clone(&input))?;
        let primary = array_element(col(STAGES), lit(1i64));
        let mut ordered: Vec<(&str, &Expr)> = Vec::with_capacity(self.columns.len());
        ordered.extend(
            self.columns
                .iter()
                .filter(|(name, _)| name != STAGE)
                .map(|(name, expr)| (name.as_str(), expr)),
        );
        ordered.push((STAGE, &primary));
        let columns = ordered
            .into_iter()
            .map(|(name, expr)| {
                let position = SCORE_COLUMNS
                    .iter()
                    .position(|c| *c == name)
                    .expect("a score column");
                Ok((
                    position,
                    state.create_physical_expr(expr.clone(), &df_schema)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Scorer {
            input,
            columns,
            fingerprint: self.fingerprint.clone(),
        })
    }
}

/// The score columns planned once (see [`Scoring::scorer`]); shared by the threads that
/// score texts.
#[derive(Debug)]
pub struct Scorer {
    /// What the expressions read: `text` and `stages`.
    input: SchemaRef,
    /// Each score column's position in [`SCORE_COLUMNS`] and its expression, in the order
    /// they are computed.
    columns: Vec<(usize, Arc<dyn PhysicalExpr>)>,
    /// The [`Scoring::fingerprint`] of the configuration planned.
    fingerprint: String,
}

impl Scorer {
    /// The fingerprint of the configuration that scores (what a file it scored records).
    ///
    /// ```
    /// # fn main() -> socialcx::Result<()> {
    /// use socialcx::lake::table::DerivedColumns;
    /// let scoring = socialcx::engine::scoring::Scoring::load(None, None)?;
    /// let scorer = scoring.scorer(&datafusion::prelude::SessionContext::new().state())?;
    /// assert_eq!(scorer.fingerprint(), scoring.fingerprint());
    /// # Ok(()) }
    /// ```
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The score columns of `text` (a `Utf8` array), in [`SCORE_COLUMNS`] order:
    /// `sentiment`, `cx_sentiment`, `stage`, `stages`.
    ///
    /// ```
    /// # fn main() -> socialcx::Result<()> {
    /// use std::sync::Arc;
    /// use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
    /// use datafusion::arrow::datatypes::Float64Type;
    /// let scoring = socialcx::engine::scoring::Scoring::load(None, None)?;
    /// let state = datafusion::prelude::SessionContext::new().state();
    /// let text: ArrayRef = Arc::new(StringArray::from(vec!["I love it", "my bag is lost"]));
    /// let [sentiment, _, stage, _] = scoring.scorer(&state)?.score_texts(&text)?;
    /// let sentiment = sentiment.as_primitive::<Float64Type>();
    /// assert!(sentiment.value(0) > 0.0 && sentiment.value(1) < 0.0);
    /// assert_eq!(stage.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn score_texts(&self, text: &ArrayRef) -> Result<[ArrayRef; 4]> {
        let rows = text.len();
        let mut batch = RecordBatch::try_new(
            Arc::clone(&self.input),
            vec![Arc::clone(text), new_null_array(&utf8_list(), rows)],
        )?;
        let mut scores: [Option<ArrayRef>; 4] = Default::default();
        // Each column is computed with the ones before it in hand (the primary stage
        // reads `stages`).
        for (position, expr) in &self.columns {
            let column = expr.evaluate(&batch)?.into_array(rows)?;
            if SCORE_COLUMNS[*position] == STAGES {
                batch = RecordBatch::try_new(
                    Arc::clone(&self.input),
                    vec![Arc::clone(text), Arc::clone(&column)],
                )?;
            }
            scores[*position] = Some(column);
        }
        Ok(scores.map(|c| c.expect("every score column is planned")))
    }

    /// `batch` (of the `conversations` schema) with its score columns computed from `text`,
    /// the other columns as they are.
    pub fn score(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let same = |a: &Field, b: &Field| a.name() == b.name() && a.data_type() == b.data_type();
        let schema = batch.schema();
        let conversations = conversation_schema();
        if schema.fields().len() != conversations.fields().len()
            || !schema
                .fields()
                .iter()
                .zip(conversations.fields())
                .all(|(a, b)| same(a, b))
        {
            return Err(Error::Usage(
                "scoring: the batch is not in the conversations schema".into(),
            ));
        }
        let scores = self.score_texts(batch.column(schema.index_of("text")?))?;
        with_scores(batch, scores)
    }
}

/// `batch` (of the `conversations` schema) with its score columns replaced by `scores`
/// ([`SCORE_COLUMNS`] order, as [`Scorer::score_texts`] gives them).
pub(crate) fn with_scores(batch: &RecordBatch, scores: [ArrayRef; 4]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut columns = batch.columns().to_vec();
    for (name, column) in SCORE_COLUMNS.iter().zip(scores) {
        columns[schema.index_of(name)?] = column;
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

impl DerivedColumns for Scoring {
    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn columns(&self) -> &[(String, Expr)] {
        &self.columns
    }
}

/// `v<SCORING_VERSION>-` and 16 hex digits of the SHA-256 of everything that decides a
/// score: the shipped lexicons and taxonomy and the user's files (their bytes).
fn fingerprint(lexicon: Option<&Path>, taxonomy: Option<&Path>) -> Result<String> {
    let mut hash = Sha256::new();
    let mut part = |label: &str, bytes: &[u8]| {
        hash.update(label.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part("version", &SCORING_VERSION.to_le_bytes());
    part("vader", super::sentiment::lexicon::VADER_LEXICON.as_bytes());
    part("emoji", super::sentiment::lexicon::VADER_EMOJI.as_bytes());
    part("care", super::sentiment::CUSTOMER_CARE.as_bytes());
    part("care model", super::sentiment::model::CARE_MODEL.as_bytes());
    part("taxonomy", moments::TAXONOMY.as_bytes());
    part("stage model", moments::model::STAGE_MODEL.as_bytes());
    for (label, path) in [("user lexicon", lexicon), ("user taxonomy", taxonomy)] {
        if let Some(path) = path {
            let bytes =
                std::fs::read(path).map_err(|e| Error::io(path.display().to_string(), e))?;
            part(label, &bytes);
        }
    }
    // A lexicon's own learned layer decides the care scores too.
    if let Some(path) = lexicon
        && let Some(bytes) = UserLexicon::load(path)?.care_model.file_bytes()?
    {
        part("user care model", &bytes);
    }
    // And a taxonomy's.
    if let Some(path) = taxonomy
        && let Some(bytes) = (moments::Taxonomy::load(path)?.stage_model)
            .map(|choice| choice.file_bytes())
            .transpose()?
            .flatten()
    {
        part("user stage model", &bytes);
    }
    let digest = hex::encode(hash.finalize());
    Ok(format!("v{SCORING_VERSION}-{}", &digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let lexicon = dir.path().join("lexicon.toml");
        std::fs::write(&lexicon, "[words]\nrefund = -2.0\n").unwrap();
        let shipped = Scoring::load(None, None).unwrap();
        let again = Scoring::load(None, None).unwrap();
        let domain = Scoring::load(Some(&lexicon), None).unwrap();
        assert_eq!(shipped.fingerprint(), again.fingerprint());
        assert_ne!(shipped.fingerprint(), domain.fingerprint());
        std::fs::write(&lexicon, "[words]\nrefund = -3.0\n").unwrap();
        let edited = Scoring::load(Some(&lexicon), None).unwrap();
        assert_ne!(domain.fingerprint(), edited.fingerprint());
        // A lexicon naming its own learned layer: retraining that file (same lexicon
        // bytes) changes the fingerprint too.
        std::fs::write(&lexicon, "care_model = \"mine.tsv\"\n").unwrap();
        std::fs::write(dir.path().join("mine.tsv"), "bias\t0\t0\t0\n").unwrap();
        let mine = Scoring::load(Some(&lexicon), None).unwrap();
        std::fs::write(dir.path().join("mine.tsv"), "bias\t1\t0\t0\n").unwrap();
        let retrained = Scoring::load(Some(&lexicon), None).unwrap();
        assert_ne!(mine.fingerprint(), retrained.fingerprint());
        // The same for a taxonomy naming its own stage model.
        let taxonomy = dir.path().join("taxonomy.toml");
        std::fs::write(&taxonomy, "stage_model = \"stages.tsv\"\n").unwrap();
        std::fs::write(dir.path().join("stages.tsv"), "bias\t1\t0\t0\t0\t0\t0\t0\n").unwrap();
        let stages = Scoring::load(None, Some(&taxonomy)).unwrap();
        std::fs::write(dir.path().join("stages.tsv"), "bias\t2\t0\t0\t0\t0\t0\t0\n").unwrap();
        let restaged = Scoring::load(None, Some(&taxonomy)).unwrap();
        assert_ne!(stages.fingerprint(), restaged.fingerprint());
    }
}
