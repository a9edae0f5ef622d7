//! Texts that probe every rule of VADER, for the sentiment exactness corpus.
//!
//! A third of the texts are the generator's own customer-care posts; the rest are
//! built from VADER's own vocabulary (lexicon words sampled from the shipped
//! lexicon, boosters, negations, the special-case idioms) and the things social
//! text is made of: emoji with variation selectors, skin tones and ZWJ sequences,
//! emoji glued to words, ALL CAPS, `!!!` and `???`, punctuation glued to words,
//! "but", "least", "kind of", mentions, hashtags, URLs and unusual Unicode
//! whitespace. Deterministic for a seed.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Generator, GeneratorConfig};
use crate::engine::sentiment::lexicon::VADER_LEXICON;

const BOOSTERS: &[&str] = &[
    "very",
    "really",
    "so",
    "extremely",
    "totally",
    "absolutely",
    "incredibly",
    "kinda",
    "sorta",
    "barely",
    "hardly",
    "slightly",
    "somewhat",
    "quite",
    "most",
    "more",
    "less",
    "little",
    "fucking",
    "hella",
    "utterly",
    "almost",
    "majorly",
    "effing",
    "kind-of",
];
const NEGATIONS: &[&str] = &[
    "not", "never", "don't", "didn't", "isn't", "wasn't", "can't", "won't", "cannot", "dont",
    "aint", "nothing", "without", "rarely", "seldom", "despite", "nor", "neither", "no", "none",
    "don’t", "DON'T", "wouldn't", "uh-uh", "nope", "hasn't",
];
const GLUE: &[&str] = &[
    "but",
    "but",
    "BUT",
    "least",
    "at least",
    "very least",
    "the least",
    "kind of",
    "sort of",
    "just enough",
    "without doubt",
    "never so",
    "never this",
    "so",
    "this",
    "or",
    "nor",
    "no",
    "the shit",
    "the bomb",
    "bad ass",
    "badass",
    "bus stop",
    "yeah right",
    "kiss of death",
    "to die for",
    "beating heart",
    "kind",
    "of",
    "at",
    "very",
];
const FILLER: &[&str] = &[
    "the",
    "my",
    "flight",
    "order",
    "app",
    "support",
    "team",
    "is",
    "was",
    "it",
    "you",
    "we",
    "they",
    "and",
    "a",
    "to",
    "for",
    "with",
    "today",
    "again",
    "refund",
    "delivery",
    "service",
    "phone",
    "plan",
    "bill",
    "store",
    "staff",
    "update",
    "@SkyJet",
    "@TelcoNow",
    "#fail",
    "#thanks",
    "http://t.co/x1Y2z",
    "https://help.example.com/a?b=c",
    "2hrs",
    "3rd",
    "10/10",
    "I'M",
    "OK",
    "ok!",
    "no,",
    "lol",
    "LOL",
    "smh",
    "wtf",
    "tbh",
    "idk",
    "&amp;",
    "...",
    "-",
    "I",
    "ok",
    ":)",
    ":(",
    ":D",
    ":-P",
    "<3",
    "</3",
    ";)",
    ":/",
    "XD",
    "(:",
    "^_^",
];
/// Single code points, pairs with U+FE0F, skin tones, ZWJ sequences, flags, keycaps.
const EMOJI: &[&str] = &[
    "😂",
    "😍",
    "😡",
    "😭",
    "🙄",
    "👍",
    "👎",
    "🔥",
    "💯",
    "🙏",
    "😊",
    "🤬",
    "💔",
    "😤",
    "🥰",
    "😒",
    "🤦",
    "🎉",
    "✨",
    "😐",
    "❤",
    "❤️",
    "☺️",
    "✔️",
    "⚠️",
    "👍🏼",
    "👎🏿",
    "🙏🏽",
    "👋🏻",
    "👨‍👩‍👧",
    "🤦‍♀️",
    "🤷🏻‍♂️",
    "🏳️‍🌈",
    "👩‍💻",
    "🇬🇧",
    "🇺🇸",
    "1️⃣",
    "©",
    "®",
    "™",
    "🔛",
    "🆙",
    "🆗",
    "🆘",
    "🈳",
    "🤖",
    "🛫",
    "🍕",
    "📦",
    "⏳",
    "☹",
    "☹️",
    "♥",
    "💘",
    "😁",
    "🥳",
];
/// Python whitespace Rust does not all share, and near-misses that are not space.
const SPACES: &[&str] = &[
    " ", " ", " ", " ", " ", "  ", "\t", "\n", "\u{a0}", "\u{2003}", "\u{3000}", "\u{1c}",
    "\u{1f}", "\u{85}", "\u{2028}", "\u{200a}", "\u{202f}", "\u{205f}", "\u{1680}", "\u{200b}",
    "\u{180e}", "\u{feff}", "\r\n", "\u{b}", "\u{c}",
];
const PUNCT: &[&str] = &[
    "", "", "", "", ".", ",", "!", "!!", "!!!", "!!!!!", "?", "??", "???", "?!", "...", ":", ";",
    "\"", "'", ")", "*", "~", "#", "'s", "-", "_",
];
const LEAD: &[&str] = &[
    "", "", "", "", "", "#", "@", "\"", "(", "*", "'", "...", "-", "_",
];
const ODD: &[&str] = &[
    "ǅemo",
    "ΣΊΣΥΦΟΣ",
    "Straße",
    "İstanbul",
    "ﬁne",
    "KELVIN",
    "café",
    "naïve",
    "日本語",
    "Ⅻ",
    "ǈ",
    "ß",
    "ΌΣΟΣ",
    "ÆON",
    "Ⓐ",
    "ᾈ",
    "ⅰ",
    "ǲ",
    "µ",
    "ﬀ",
];

/// Streams exactness-corpus texts.
pub struct SentimentCorpus {
    rng: ChaCha8Rng,
    posts: Generator,
    words: Vec<&'static str>,
}

impl SentimentCorpus {
    /// A corpus stream for `seed`.
    ///
    /// ```
    /// let texts: Vec<String> = socialcx::generator::sentiment_corpus::SentimentCorpus::new(7).take(5).collect();
    /// assert_eq!(texts.len(), 5);
    /// ```
    pub fn new(seed: u64) -> Self {
        let words = VADER_LEXICON
            .lines()
            .filter_map(|l| l.split('\t').next())
            .filter(|w| !w.is_empty())
            .collect();
        SentimentCorpus {
            rng: ChaCha8Rng::seed_from_u64(seed),
            posts: Generator::new(GeneratorConfig {
                rows: 2_000_000,
                seed,
                ..Default::default()
            }),
            words,
        }
    }

    fn word(&mut self) -> String {
        let rng = &mut self.rng;
        let base: String = match rng.random_range(0..100) {
            0..=39 => (*self.words.choose(rng).expect("lexicon")).to_string(),
            40..=51 => (*BOOSTERS.choose(rng).expect("boosters")).to_string(),
            52..=61 => (*NEGATIONS.choose(rng).expect("negations")).to_string(),
            62..=73 => (*GLUE.choose(rng).expect("glue")).to_string(),
            74..=91 => (*FILLER.choose(rng).expect("filler")).to_string(),
            92..=95 => (*ODD.choose(rng).expect("odd")).to_string(),
            _ => (*EMOJI.choose(rng).expect("emoji")).to_string(),
        };
        let mut w = match rng.random_range(0..100) {
            0..=11 => base.to_uppercase(),
            12..=16 => {
                let mut c = base.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
            _ => base,
        };
        if rng.random_bool(0.12) {
            w = format!("{}{}", LEAD.choose(rng).expect("lead"), w);
        }
        if rng.random_bool(0.25) {
            w.push_str(PUNCT.choose(rng).expect("punct"));
        }
        if rng.random_bool(0.06) {
            // An emoji glued before or after the word.
            let e = EMOJI.choose(rng).expect("emoji");
            w = if rng.random_bool(0.5) {
                format!("{e}{w}")
            } else {
                format!("{w}{e}")
            };
        }
        w
    }

    fn synthetic(&mut self) -> String {
        let n = match self.rng.random_range(0..100) {
            0..=4 => self.rng.random_range(0..3),
            5..=84 => self.rng.random_range(3..16),
            _ => self.rng.random_range(16..45),
        };
        let mut text = String::new();
        if self.rng.random_bool(0.03) {
            text.push_str(SPACES.choose(&mut self.rng).expect("spaces"));
        }
        for i in 0..n {
            if i > 0 {
                let sep = if self.rng.random_bool(0.85) {
                    " "
                } else {
                    SPACES.choose(&mut self.rng).expect("spaces")
                };
                text.push_str(sep);
            }
            let w = self.word();
            text.push_str(&w);
        }
        if self.rng.random_bool(0.15) {
            text.push_str(PUNCT.choose(&mut self.rng).expect("punct"));
        }
        if self.rng.random_bool(0.03) {
            text.push_str(SPACES.choose(&mut self.rng).expect("spaces"));
        }
        text
    }
}

impl Iterator for SentimentCorpus {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.rng.random_bool(0.33)
            && let Some(post) = self.posts.next()
        {
            let mut text = post.text;
            if self.rng.random_bool(0.2) {
                // Shout part of a real post.
                let cut = text
                    .char_indices()
                    .nth(text.chars().count() / 2)
                    .map(|(i, _)| i);
                if let Some(cut) = cut {
                    text = format!("{}{}", &text[..cut], text[cut..].to_uppercase());
                }
            }
            return Some(text);
        }
        Some(self.synthetic())
    }
}
