//! Moments of truth: where in the customer journey a text happens.
//!
//! The six stages are fixed ([`STAGES`]); which words mark them is data, the
//! taxonomy file (`data/taxonomy.toml`, documented in place), which users extend or
//! replace with [`crate::EngineConfig::taxonomy`]. A [`Tagger`] compiles every cue
//! of every stage into one Aho-Corasick automaton, so a text is scored in a single
//! case-insensitive pass, whatever the number of cues.

pub mod udf;

use std::collections::BTreeMap;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::{Error, Result};

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
    /// Score at which a stage counts.
    pub threshold: Option<f64>,
    /// Words before a cue in which a negation is looked for.
    pub negation_window: Option<usize>,
    /// Negation words.
    pub negations: Option<Vec<String>>,
    /// Stage name -> definition.
    #[serde(default)]
    pub stages: BTreeMap<String, StageDef>,
}

impl Taxonomy {
    /// Parse a taxonomy; `origin` names it in errors.
    ///
    /// ```
    /// let t = socialcx::engine::moments::Taxonomy::parse("[stages.advocacy.cues]\n\"rave about\" = 2.0\n", "x").unwrap();
    /// assert_eq!(t.stages["advocacy"].cues["rave about"], 2.0);
    /// ```
    pub fn parse(text: &str, origin: &str) -> Result<Taxonomy> {
        let config = |message: String| Error::Config {
            path: origin.to_string(),
            message,
        };
        let t: Taxonomy = toml::from_str(text).map_err(|e| config(e.to_string()))?;
        for (name, stage) in &t.stages {
            if !STAGES.contains(&name.as_str()) {
                return Err(config(format!(
                    "unknown stage {name:?}; the stages are {}",
                    STAGES.join(", ")
                )));
            }
            for (cue, &w) in &stage.cues {
                if cue.trim().is_empty() || !w.is_finite() {
                    return Err(config(format!(
                        "stage {name}: cue {cue:?} = {w} is not a phrase with a finite weight"
                    )));
                }
            }
        }
        Ok(t)
    }

    /// Read and parse a taxonomy file.
    pub fn load(path: &Path) -> Result<Taxonomy> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
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
        for (name, def) in user.stages {
            let stage = self.stages.entry(name).or_default();
            stage.negated = def.negated.or(stage.negated);
            stage.cues.extend(def.cues);
        }
        self
    }
}

/// A compiled taxonomy.
#[derive(Debug, Clone)]
pub struct Tagger {
    automaton: AhoCorasick,
    /// For each pattern: (stage index, weight) for every stage that lists it.
    targets: Vec<Vec<(usize, f64)>>,
    negated: [f64; 6],
    negations: Vec<String>,
    window: usize,
    threshold: f64,
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
        let mut targets: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut negated = [0.5; 6];
        for (s, stage) in STAGES.iter().enumerate() {
            let Some(def) = taxonomy.stages.get(*stage) else {
                continue;
            };
            negated[s] = def.negated.unwrap_or(0.5);
            for (cue, &w) in &def.cues {
                let cue = cue.trim().to_lowercase();
                let id = *index.entry(cue.clone()).or_insert_with(|| {
                    patterns.push(cue);
                    targets.push(Vec::new());
                    patterns.len() - 1
                });
                targets[id].push((s, w));
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| Error::Config {
                path: "taxonomy".into(),
                message: e.to_string(),
            })?;
        Ok(Tagger {
            automaton,
            targets,
            negated,
            negations: taxonomy.negations.clone().unwrap_or_default(),
            window: taxonomy.negation_window.unwrap_or(3),
            threshold: taxonomy.threshold.unwrap_or(1.0),
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
            // Whole words only: no letter or digit glued to either end.
            let glued = |i: Option<&u8>| i.is_some_and(|b| b.is_ascii_alphanumeric());
            if (bytes[start].is_ascii_alphanumeric() && start > 0 && glued(bytes.get(start - 1)))
                || (bytes[end - 1].is_ascii_alphanumeric() && glued(bytes.get(end)))
            {
                continue;
            }
            let negated = self.is_negated(&text[..start]);
            for &(stage, weight) in &self.targets[m.pattern().as_usize()] {
                scores[stage] += if negated {
                    weight * self.negated[stage]
                } else {
                    weight
                };
            }
        }
        scores
    }

    /// Does a negation word occur among the last `window` words of `before`?
    fn is_negated(&self, before: &str) -> bool {
        before
            .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
            .filter(|w| !w.is_empty())
            .rev()
            .take(self.window)
            .any(|w| {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
                self.negations.iter().any(|n| n.eq_ignore_ascii_case(w))
            })
    }

    /// Every stage at or above the threshold, strongest first.
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
        ranked.into_iter().map(|s| STAGES[s]).collect()
    }

    /// The primary stage, or `None` when no stage reaches the threshold.
    pub fn primary(&self, text: &str) -> Option<&'static str> {
        self.stages(text).first().copied()
    }
}
