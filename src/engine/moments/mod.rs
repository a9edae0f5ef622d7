//! Moments of truth: where in the customer journey a text happens.
//!
//! The six stages are fixed ([`STAGES`]); which words mark them is data, the
//! taxonomy file (`data/taxonomy.toml`, documented in place), which users extend or
//! replace with [`crate::EngineConfig::taxonomy`]. A [`Tagger`] compiles every cue
//! of every stage into one Aho-Corasick automaton, so a text is scored in a single
//! case-insensitive pass, whatever the number of cues.
//!
//! A learned layer ([`model`], `data/stage_model.tsv`) then decides the primary stage, and
//! whether there is one, from the post's words and the six stage scores. `stage_model =
//! false` in a taxonomy file turns it off (the taxonomy alone: the highest stage at or
//! above the threshold); `stage_model = "mine.tsv"` loads another. A file with `replace =
//! true` has no learned layer unless it names one: the shipped one was trained on the
//! shipped cues. A file that extends the shipped taxonomy keeps the shipped layer, which
//! weighs a new cue through its stage's score (it may still answer none: train your own
//! layer with `datasets/text_models` on posts that use the new cues).

pub mod model;
pub mod udf;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::config::{load_toml, parse_toml};
use crate::engine::text_model::ModelChoice;
use crate::{Error, Result};
use model::StageModel;

/// The journey stages, in the order of [`Tagger::scores`].
pub const STAGES: [&str; 6] = [
    "awareness",
    "consideration",
    "purchase",
    "experience",
    "service",
    "advocacy",
];

/// The shipped taxonomy.
pub const TAXONOMY: &str = include_str!("data/taxonomy.toml");

/// One stage in a taxonomy file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// What the stage means (documentation).
    #[serde(default)]
    pub description: String,
    /// Weight multiplier for a negated cue (advocacy: 1, "not recommending" is advocacy).
    pub negated: Option<f64>,
    /// Cue phrase -> weight.
    #[serde(default)]
    pub cues: BTreeMap<String, f64>,
}

/// A taxonomy file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// A user file with `replace = true` replaces the shipped taxonomy instead of extending it.
    #[serde(default)]
    pub replace: bool,
    /// Score at which a stage counts: it is listed after the primary stage, and (without
    /// the learned layer) the highest such stage is primary.
    pub threshold: Option<f64>,
    /// Words before a cue in which a negation is looked for.
    pub negation_window: Option<usize>,
    /// Negation words.
    pub negations: Option<Vec<String>>,
    /// Stage name -> definition.
    #[serde(default)]
    pub stages: BTreeMap<String, StageDef>,
    /// The learned layer: the shipped one, none (`false`), or a file. Unset: the shipped
    /// one, unless the file replaces the shipped taxonomy.
    pub stage_model: Option<ModelChoice>,
}

impl Taxonomy {
    /// Parse a taxonomy; `origin` names it in errors.
    ///
    /// ```
    /// let t = socialcx::engine::moments::Taxonomy::parse("[stages.advocacy.cues]\n\"rave about\" = 2.0\n", "x").unwrap();
    /// assert_eq!(t.stages["advocacy"].cues["rave about"], 2.0);
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Taxonomy> {
        parse_toml::<Taxonomy>(text, origin)?.checked(origin)
    }

    /// Read and parse a taxonomy file.
    pub fn load(path: &Path) -> Result<Taxonomy> {
        let mut taxonomy = load_toml::<Taxonomy>(path)?.checked(&path.display().to_string())?;
        if let Some(choice) = &mut taxonomy.stage_model {
            choice.resolve(path);
        }
        Ok(taxonomy)
    }

    /// The learned layer this taxonomy asks for, read (`None`: the taxonomy alone).
    ///
    /// ```
    /// use socialcx::engine::moments::Taxonomy;
    /// assert!(Taxonomy::shipped().stage_model().unwrap().is_some());
    /// assert!(Taxonomy::parse("stage_model = false\n", "x").unwrap().stage_model().unwrap().is_none());
    /// assert!(Taxonomy::parse("replace = true\n", "x").unwrap().stage_model().unwrap().is_none());
    /// ```
    pub fn stage_model(&self) -> Result<Option<Arc<StageModel>>> {
        match &self.stage_model {
            Some(choice) => choice.load(StageModel::shipped, StageModel::parse),
            None if self.replace => Ok(None),
            None => Ok(Some(StageModel::shipped())),
        }
    }

    /// `self` if it names only journey stages and every cue is a phrase with a finite weight.
    fn checked(self, origin: &str) -> Result<Taxonomy> {
        for (name, stage) in &self.stages {
            if !STAGES.contains(&name.as_str()) {
                return Err(Error::config(
                    origin,
                    format!(
                        "unknown stage {name:?}; the stages are {}",
                        STAGES.join(", ")
                    ),
                ));
            }
            for (cue, &w) in &stage.cues {
                if cue.trim().is_empty() || !w.is_finite() {
                    return Err(Error::config(
                        origin,
                        format!(
                            "stage {name}: cue {cue:?} = {w} is not a phrase with a finite weight"
                        ),
                    ));
                }
            }
        }
        Ok(self)
    }

    /// The shipped taxonomy.
    pub fn shipped() -> Taxonomy {
        Self::parse(TAXONOMY, "taxonomy.toml (shipped)").expect("the shipped taxonomy parses")
    }

    /// `self` with `user` on top: its cues added or re-weighted, its settings
    /// replacing ours; or `user` alone when it says `replace = true`.
    pub fn with(mut self, user: Taxonomy) -> Taxonomy {
        if user.replace {
            return user;
        }
        self.threshold = user.threshold.or(self.threshold);
        self.negation_window = user.negation_window.or(self.negation_window);
        self.negations = user.negations.or(self.negations);
        self.stage_model = user.stage_model.or(self.stage_model);
        for (name, def) in user.stages {
            let stage = self.stages.entry(name).or_default();
            stage.negated = def.negated.or(stage.negated);
            stage.cues.extend(def.cues);
        }
        self
    }
}

/// A stage a cue pattern scores for.
#[derive(Debug, Clone, Copy)]
struct Target {
    stage: usize,
    weight: f64,
    stem: bool,
}

/// A compiled taxonomy.
#[derive(Debug, Clone)]
pub struct Tagger {
    automaton: AhoCorasick,
    /// For each pattern: every stage that lists it, with its weight and whether it was
    /// written as a stem (`refund*`: any word ending may follow).
    targets: Vec<Vec<Target>>,
    negated: [f64; 6],
    negations: Vec<String>,
    window: usize,
    threshold: f64,
    /// The learned layer deciding the primary stage, if any.
    model: Option<Arc<StageModel>>,
}

impl Tagger {
    /// Compile `taxonomy`.
    ///
    /// ```
    /// use socialcx::engine::moments::{Tagger, Taxonomy};
    /// let tagger = Tagger::new(&Taxonomy::shipped()).unwrap();
    /// assert_eq!(tagger.primary("Just booked Porto with @SkyHopAir!!!"), Some("purchase"));
    /// ```
    pub fn new(taxonomy: &Taxonomy) -> Result<Tagger> {
        let mut patterns: Vec<String> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut targets: Vec<Vec<Target>> = Vec::new();
        let mut negated = [0.5; 6];
        for (s, stage) in STAGES.iter().enumerate() {
            let Some(def) = taxonomy.stages.get(*stage) else {
                continue;
            };
            negated[s] = def.negated.unwrap_or(0.5);
            for (cue, &w) in &def.cues {
                let cue = cue.trim().to_lowercase();
                // "don't" also matches the typographic "don’t".
                let curly = cue.contains('\'').then(|| cue.replace('\'', "\u{2019}"));
                for cue in std::iter::once(cue).chain(curly) {
                    let stem = cue.len() > 1 && cue.ends_with('*');
                    let text = if stem {
                        &cue[..cue.len() - 1]
                    } else {
                        &cue[..]
                    };
                    let id = *index.entry(text.to_string()).or_insert_with(|| {
                        patterns.push(text.to_string());
                        targets.push(Vec::new());
                        patterns.len() - 1
                    });
                    // `refund` and `refund*` in one stage are one cue: the stem, its weight.
                    match targets[id].iter_mut().find(|t| t.stage == s) {
                        Some(t) if stem => {
                            *t = Target {
                                stage: s,
                                weight: w,
                                stem,
                            }
                        }
                        Some(_) => {}
                        None => targets[id].push(Target {
                            stage: s,
                            weight: w,
                            stem,
                        }),
                    }
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A full DFA: one table lookup per byte (a few MB for a thousand cues).
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| Error::config("taxonomy", e.to_string()))?;
        Ok(Tagger {
            automaton,
            targets,
            negated,
            negations: (taxonomy.negations.iter().flatten())
                .map(|n| n.trim().to_lowercase())
                .collect(),
            window: taxonomy.negation_window.unwrap_or(3),
            threshold: taxonomy.threshold.unwrap_or(1.0),
            model: taxonomy.stage_model()?,
        })
    }

    /// The shipped taxonomy, extended or replaced by the file at `path`, compiled.
    pub fn load(path: Option<&Path>) -> Result<Tagger> {
        let taxonomy = match path {
            Some(p) => Taxonomy::shipped().with(Taxonomy::load(p)?),
            None => Taxonomy::shipped(),
        };
        Tagger::new(&taxonomy)
    }

    /// Per-stage scores, in [`STAGES`] order.
    ///
    /// ```
    /// use socialcx::engine::moments::{Tagger, Taxonomy};
    /// let s = Tagger::new(&Taxonomy::shipped()).unwrap().scores("would NOT recommend, avoid");
    /// assert!(s[5] >= 2.0); // advocacy, negated or not
    /// ```
    pub fn scores(&self, text: &str) -> [f64; 6] {
        let mut scores = [0.0; 6];
        let bytes = text.as_bytes();
        for m in self.automaton.find_iter(bytes) {
            let (start, end) = (m.start(), m.end());
            // Whole words only: no letter or digit glued to the start, nor to the end
            // unless the cue is a stem (`refund*`: refunds, refunded).
            let glued = |i: Option<&u8>| i.is_some_and(|b| b.is_ascii_alphanumeric());
            if bytes[start].is_ascii_alphanumeric() && start > 0 && glued(bytes.get(start - 1)) {
                continue;
            }
            let open_end = bytes[end - 1].is_ascii_alphanumeric() && glued(bytes.get(end));
            let mut negated = None;
            for target in &self.targets[m.pattern().as_usize()] {
                if open_end && !target.stem {
                    continue;
                }
                let negated = self.negated[target.stage] != 1.0
                    && *negated.get_or_insert_with(|| self.is_negated(&bytes[..start]));
                scores[target.stage] += if negated {
                    target.weight * self.negated[target.stage]
                } else {
                    target.weight
                };
            }
        }
        scores
    }

    /// Does a negation word occur among the last `window` words of `before`?
    /// Words are split at whitespace, commas and full stops, and compared without
    /// their surrounding punctuation, in any case, with either apostrophe.
    fn is_negated(&self, before: &[u8]) -> bool {
        let separator = |b: u8| b.is_ascii_whitespace() || b == b',' || b == b'.';
        let mut end = before.len();
        for _ in 0..self.window {
            while end > 0 && separator(before[end - 1]) {
                end -= 1;
            }
            if end == 0 {
                return false;
            }
            let mut start = end;
            while start > 0 && !separator(before[start - 1]) {
                start -= 1;
            }
            if self.is_negation(&before[start..end]) {
                return true;
            }
            end = start;
        }
        false
    }

    /// Is `word` (with any surrounding punctuation) one of the negations?
    fn is_negation(&self, word: &[u8]) -> bool {
        // Fold to lowercase ASCII with a straight apostrophe; anything else becomes 0.
        let mut folded = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < word.len() {
            let (byte, width) = match word[i] {
                b if b.is_ascii_alphanumeric() => (b.to_ascii_lowercase(), 1),
                b'\'' => (b'\'', 1),
                0xE2 if word[i..].starts_with("\u{2019}".as_bytes()) => (b'\'', 3),
                _ => (0, 1),
            };
            if n == folded.len() {
                return false;
            }
            folded[n] = byte;
            n += 1;
            i += width;
        }
        let folded = &folded[..n];
        let first = folded.iter().position(|&b| b != 0 && b != b'\'');
        let last = folded.iter().rposition(|&b| b != 0);
        let (Some(first), Some(last)) = (first, last) else {
            return false;
        };
        let core = &folded[first..=last];
        self.negations.iter().any(|neg| neg.as_bytes() == core)
    }

    /// Every stage the text speaks to, the primary one first, then every other stage at or
    /// above the threshold, strongest first; empty when there is no primary stage.
    ///
    /// ```
    /// use socialcx::engine::moments::{Tagger, Taxonomy};
    /// let t = Tagger::new(&Taxonomy::shipped()).unwrap();
    /// assert_eq!(t.stages("ordered last week, on hold with customer service for an hour"), vec!["service", "purchase"]);
    /// ```
    pub fn stages(&self, text: &str) -> Vec<&'static str> {
        let scores = self.scores(text);
        let mut ranked: Vec<usize> = (0..6).filter(|&s| scores[s] >= self.threshold).collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        if let Some(model) = &self.model {
            match model.primary(text, &scores, ranked.first().copied()) {
                Some(primary) => {
                    ranked.retain(|&s| s != primary);
                    ranked.insert(0, primary);
                }
                None => ranked.clear(),
            }
        }
        ranked.into_iter().map(|s| STAGES[s]).collect()
    }

    /// The primary stage: the learned layer's, or without one the highest stage at or
    /// above the threshold; `None` when there is none.
    ///
    /// ```
    /// use socialcx::engine::moments::{Tagger, Taxonomy};
    /// let t = Tagger::new(&Taxonomy::shipped()).unwrap();
    /// assert_eq!(t.primary("lovely weather today"), None);
    /// ```
    pub fn primary(&self, text: &str) -> Option<&'static str> {
        let scores = self.scores(text);
        let taxonomy = self.taxonomy_primary(&scores);
        match &self.model {
            Some(model) => model.primary(text, &scores, taxonomy),
            None => taxonomy,
        }
        .map(|s| STAGES[s])
    }

    /// The taxonomy's own primary stage: the highest score at or above the threshold (the
    /// first stage of a tie).
    fn taxonomy_primary(&self, scores: &[f64; 6]) -> Option<usize> {
        let mut best: Option<usize> = None;
        for s in 0..6 {
            if scores[s] >= self.threshold && best.is_none_or(|b| scores[s] > scores[b]) {
                best = Some(s);
            }
        }
        best
    }
}
