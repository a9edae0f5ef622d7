//! The word tables the scorer looks tokens up in, built once.
//!
//! Every word the scorer cares about (the VADER lexicon, its boosters and
//! negations, the handful of words its rules compare against, and the words of
//! customer-care and user phrases) lives in one open-addressing hash table keyed by
//! the lowercase word, so a token costs one lookup, and what a token needs of its
//! word is one packed [`Entry`] (valence and flag bits). Phrases and rule cues are
//! indexed by their first word. Emoji are a sorted table of code points behind a
//! bitset, so a character that is not an emoji is rejected with one load.

use std::collections::BTreeMap;

use super::pytext;

/// The VADER 3.3.2 lexicon (MIT, (c) 2016 C.J. Hutto; see `data/LICENSE-vaderSentiment.txt`).
pub const VADER_LEXICON: &str = include_str!("data/vader_lexicon.txt");
/// The VADER 3.3.2 emoji descriptions (same license).
pub const VADER_EMOJI: &str = include_str!("data/emoji_utf8_lexicon.txt");

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("just enough", B_DECR),
    ("kind of", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort of", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// VADER's SPECIAL_CASES. `badass` is a single word and never matches (the check
/// only builds multi-word strings); it is kept for fidelity.
const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

/// No word: the id of a token that is in none of the tables.
pub const NONE: u32 = u32::MAX;

/// What the scorer reads about a word when a token resolves to it: its valence (0
/// unless [`LEXICON`] is set) and flag bits. 16 bytes, one load beside the lookup.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Entry {
    pub valence: f64,
    pub flags: u32,
}

/// [`Entry::flags`]: a lexicon word (its valence counts).
pub const LEXICON: u32 = 1;
/// A single-word BOOSTER_DICT key; its value is [`Entry::booster`].
pub const BOOSTER: u32 = 1 << 1;
/// With [`BOOSTER`]: a dampener (-0.293) rather than a booster (+0.293).
pub const DAMPENER: u32 = 1 << 2;
/// One of VADER's NEGATE words.
pub const NEGATION: u32 = 1 << 3;
/// A customer-care courtesy word (see [`Politeness`]).
pub const POLITE: u32 = 1 << 4;
/// Part of a special-case idiom or a two-word booster.
pub const SPECIAL: u32 = 1 << 5;
/// Some phrase starts with this word.
pub const STARTS_PHRASE: u32 = 1 << 6;
/// Some rule cue starts with this word.
pub const STARTS_CUE: u32 = 1 << 7;
/// The word "but" (VADER's `_but_check`).
pub const BUT: u32 = 1 << 8;

impl Entry {
    /// The BOOSTER_DICT value of a word with these flags (0 when it is none).
    ///
    /// ```
    /// use socialcx::engine::sentiment::lexicon::{Entry, Lexicon};
    /// let lex = Lexicon::vader();
    /// assert_eq!(Entry::booster(lex.entry(lex.id("very")).flags), 0.293);
    /// assert_eq!(Entry::booster(lex.entry(lex.id("barely")).flags), -0.293);
    /// ```
    #[inline]
    pub fn booster(flags: u32) -> f64 {
        if flags & BOOSTER == 0 {
            0.0
        } else if flags & DAMPENER != 0 {
            B_DECR
        } else {
            B_INCR
        }
    }
}

/// What the scorer knows about one lowercase word, spelled out (the scorer itself
/// reads the packed [`Entry`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WordInfo {
    /// Its valence, when it is a lexicon word.
    pub valence: Option<f64>,
    /// Its BOOSTER_DICT value, when it is a booster or dampener.
    pub booster: Option<f64>,
    /// It is one of VADER's NEGATE words.
    pub negation: bool,
    /// Customer-care politeness word (see [`Politeness`]).
    pub polite: bool,
    /// Some phrase starts with this word.
    pub starts_phrase: bool,
    /// Some rule cue starts with this word.
    pub starts_cue: bool,
    /// The word is part of a special-case idiom or a two-word booster.
    pub special: bool,
}

/// The words VADER's rules compare tokens against, as table ids.
#[derive(Debug, Clone, Copy)]
pub struct Keywords {
    pub no: u32,
    pub but: u32,
    pub kind: u32,
    pub of: u32,
    pub least: u32,
    pub at: u32,
    pub very: u32,
    pub so: u32,
    pub this: u32,
    pub never: u32,
    pub without: u32,
    pub doubt: u32,
    pub or: u32,
    pub nor: u32,
}

/// A multi-word phrase (customer-care or user), as word ids.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub words: Vec<u32>,
    pub valence: f64,
}

/// How the customer-care layer treats courtesy words inside a complaint.
#[derive(Debug, Clone, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Politeness {
    /// Courtesy words (`thanks`, `please`, `help`, ...).
    #[serde(default)]
    pub words: Vec<String>,
    /// Their valence when the text is a complaint (a negative phrase, or a lexicon
    /// word at or below `complaint_threshold`).
    #[serde(default)]
    pub in_complaint: f64,
    /// Lexicon valence at or below which a word marks the text as a complaint.
    #[serde(default = "default_complaint_threshold")]
    pub complaint_threshold: f64,
}

fn default_complaint_threshold() -> f64 {
    -1.0
}

/// Which valences a [`Rule`] scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applies {
    Positive,
    Negative,
    All,
}

/// A cue rule of the customer-care layer: when any cue occurs in a text, the
/// valences it applies to are multiplied by `factor` (before VADER's rules run).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// What the rule is for, e.g. "sarcasm".
    pub name: String,
    /// Phrases that trigger it (matched like phrases, without consuming words).
    pub cues: Vec<String>,
    /// Which valences it scales.
    pub applies_to: Applies,
    /// The multiplier.
    pub factor: f64,
    /// Skip the rule when the text is a complaint (a negative phrase matched).
    #[serde(default)]
    pub unless_complaint: bool,
    /// A text that triggers the rule counts as a complaint (for the courtesy rule).
    #[serde(default)]
    pub marks_complaint: bool,
}

/// A rule with its cues as word ids.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub rule: Rule,
    pub cues: Vec<Vec<u32>>,
}

/// A layer of words and phrases over the VADER lexicon: the shipped customer-care
/// file, or a user's domain lexicon.
#[derive(Debug, Clone, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LexiconLayer {
    /// Words added or overridden: word -> valence (VADER's scale, -4..4).
    #[serde(default)]
    pub words: BTreeMap<String, f64>,
    /// Phrases of several words -> valence. A phrase's valence replaces the words it
    /// spans; 0 neutralises them.
    #[serde(default)]
    pub phrases: BTreeMap<String, f64>,
    /// The courtesy-word rule (customer-care mode).
    #[serde(default)]
    pub politeness: Option<Politeness>,
    /// Cue rules (customer-care mode): sarcasm, routine replies, questions.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Words up to this many bytes are compared as zero-padded 8-byte words.
pub const PADDED: usize = 32;

/// Open-addressing hash table from lowercase word to id. A slot holds the high
/// bits of the word's hash beside its id, and short keys are stored zero-padded
/// beside it, so a lookup is a hash, one slot load and four word compares. Most
/// tokens are in no table: a bitset of hash bits (8 KiB, so it stays in cache)
/// turns nearly all of them away before the slots are read.
#[derive(Debug, Clone)]
struct WordTable {
    /// `(hash >> 32) << 32 | id`, or `EMPTY`.
    slots: Vec<u64>,
    mask: usize,
    /// Bit `filter_bit(hash)` is set for every key's hash.
    filter: Box<[u64; FILTER_BITS / 64]>,
    /// Each key zero-padded (keys longer than [`PADDED`] bytes: their first bytes).
    padded: Vec<[u64; 4]>,
    /// Each key's length.
    lens: Vec<u32>,
    /// Every key, for the long ones and for [`WordTable::key`].
    arena: Vec<(u32, u32)>,
    text: String,
    /// The longest key, in bytes: longer tokens are not looked up.
    max_len: usize,
}

const EMPTY: u64 = u64::MAX;
/// The hash bits a slot keeps beside the id.
const TAG: u64 = 0xffff_ffff_0000_0000;

/// Bits in [`WordTable::filter`]: about 8 per key of the VADER tables.
const FILTER_BITS: usize = 1 << 16;

/// The filter bit of a hash: bits the slot index does not use.
#[inline]
fn filter_bit(h: u64) -> usize {
    (h >> 40) as usize & (FILTER_BITS - 1)
}

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// `bytes` zero-padded to 32 bytes, as four little-endian words.
#[inline]
fn pad(bytes: &[u8]) -> [u64; 4] {
    let mut buf = [0u8; PADDED];
    let n = bytes.len().min(PADDED);
    buf[..n].copy_from_slice(&bytes[..n]);
    words(&buf)
}

#[inline]
fn words(buf: &[u8; PADDED]) -> [u64; 4] {
    std::array::from_fn(|i| u64::from_le_bytes(buf[i * 8..i * 8 + 8].try_into().expect("8 bytes")))
}

/// The hash of a word: its 8-byte chunks (the last zero-padded) folded together.
#[inline]
fn hash_padded(p: &[u64; 4], len: usize) -> u64 {
    let mut h = len as u64;
    for &w in &p[..len.div_ceil(8)] {
        h = mix(h, w);
    }
    h ^ (h >> 29)
}

fn hash(bytes: &[u8]) -> u64 {
    if bytes.len() <= PADDED {
        return hash_padded(&pad(bytes), bytes.len());
    }
    let mut h = bytes.len() as u64;
    for chunk in bytes.chunks(8) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(b));
    }
    h ^ (h >> 29)
}

impl WordTable {
    fn with_capacity(n: usize) -> Self {
        let size = (n * 2).next_power_of_two().max(16);
        WordTable {
            slots: vec![EMPTY; size],
            mask: size - 1,
            filter: Box::new([0; FILTER_BITS / 64]),
            padded: Vec::new(),
            lens: Vec::new(),
            arena: Vec::new(),
            text: String::new(),
            max_len: 0,
        }
    }

    fn key(&self, id: u32) -> &[u8] {
        let (s, e) = self.arena[id as usize];
        &self.text.as_bytes()[s as usize..e as usize]
    }

    /// Look up a word of 1 to 8 bytes given as one zero-padded little-endian word.
    #[inline(always)]
    fn get_word(&self, w: u64, len: usize) -> u32 {
        let h = mix(len as u64, w);
        self.probe(h ^ (h >> 29), |id| {
            self.lens[id] as usize == len && self.padded[id][0] == w
        })
    }

    /// Look up a word of at most [`PADDED`] bytes given zero-padded.
    #[inline(always)]
    fn get_padded(&self, p: &[u64; 4], len: usize) -> u32 {
        if len > self.max_len {
            return NONE;
        }
        self.probe(hash_padded(p, len), |id| {
            self.lens[id] as usize == len && self.padded[id] == *p
        })
    }

    fn get(&self, word: &[u8]) -> u32 {
        if word.len() <= PADDED {
            return self.get_padded(&pad(word), word.len());
        }
        if word.len() > self.max_len {
            return NONE;
        }
        self.probe(hash(word), |id| self.key(id as u32) == word)
    }

    /// The id of the key with hash `h` that `matches`, or [`NONE`].
    #[inline(always)]
    fn probe(&self, h: u64, matches: impl Fn(usize) -> bool) -> u32 {
        let bit = filter_bit(h);
        if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return NONE;
        }
        let tag = h & TAG;
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return NONE;
            }
            if slot & TAG == tag && matches(slot as u32 as usize) {
                return slot as u32;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn insert(&mut self, word: &str) -> u32 {
        let found = self.get(word.as_bytes());
        if found != NONE {
            return found;
        }
        if self.arena.len() * 2 >= self.slots.len() {
            self.grow();
        }
        let id = self.arena.len() as u32;
        let start = self.text.len() as u32;
        self.text.push_str(word);
        self.arena.push((start, self.text.len() as u32));
        self.padded.push(pad(word.as_bytes()));
        self.lens.push(word.len() as u32);
        self.max_len = self.max_len.max(word.len());
        self.place(id);
        id
    }

    fn place(&mut self, id: u32) {
        let h = hash(self.key(id));
        let bit = filter_bit(h);
        self.filter[bit / 64] |= 1 << (bit % 64);
        let mut i = h as usize & self.mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = (h & TAG) | u64::from(id);
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.mask = size - 1;
        for id in 0..self.arena.len() as u32 {
            self.place(id);
        }
    }
}

/// Single-code-point emoji and their descriptions.
#[derive(Debug, Clone)]
struct EmojiTable {
    /// One bit per code point below `BITSET_LIMIT`.
    bits: Vec<u64>,
    codes: Vec<u32>,
    descriptions: Vec<&'static str>,
}

const BITSET_LIMIT: u32 = 0x20000;

impl EmojiTable {
    fn parse(text: &'static str) -> Self {
        // The reference: `for line in text.rstrip('\n').split('\n')`, then
        // `line.strip().split('\t')[0:2]`; later lines win.
        let mut map = BTreeMap::new();
        for line in text.trim_end_matches('\n').split('\n') {
            let mut cols = pytext::strip(line).split('\t');
            let (Some(emoji), Some(desc)) = (cols.next(), cols.next()) else {
                continue;
            };
            let mut chars = emoji.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                map.insert(c as u32, desc);
            }
        }
        let mut bits = vec![0u64; (BITSET_LIMIT / 64) as usize];
        for &c in map.keys() {
            assert!(c < BITSET_LIMIT, "emoji beyond the bitset: {c:#x}");
            bits[(c / 64) as usize] |= 1 << (c % 64);
        }
        EmojiTable {
            bits,
            codes: map.keys().copied().collect(),
            descriptions: map.into_values().collect(),
        }
    }

    #[inline]
    fn get(&self, c: char) -> Option<&'static str> {
        let u = c as u32;
        if u >= BITSET_LIMIT || self.bits[(u / 64) as usize] & (1 << (u % 64)) == 0 {
            return None;
        }
        self.codes
            .binary_search(&u)
            .ok()
            .map(|i| self.descriptions[i])
    }
}

/// Everything the scorer looks up, compiled once.
#[derive(Debug, Clone)]
pub struct Lexicon {
    table: WordTable,
    /// Per word id: what a token that resolves to it carries.
    entries: Vec<Entry>,
    emoji: EmojiTable,
    /// The ids of the words VADER's rules name.
    pub kw: Keywords,
    /// SPECIAL_CASES as id sequences (two or three words).
    pub special_cases: Vec<(Vec<u32>, f64)>,
    /// Two-word BOOSTER_DICT keys (`kind of`, `sort of`, `just enough`).
    pub booster_bigrams: Vec<([u32; 2], f64)>,
    /// Customer-care and user phrases, longest first (added by
    /// [`Lexicon::with_layer`], which indexes them by first word).
    pub phrases: Vec<Phrase>,
    /// The courtesy-word rule, in customer-care mode.
    pub politeness: Option<Politeness>,
    /// Cue rules, in customer-care mode (added by [`Lexicon::with_layer`], which
    /// indexes their cues by first word).
    pub rules: Vec<CompiledRule>,
    /// `(first word, index into phrases)`, sorted: the phrases each word starts.
    phrase_starts: Vec<(u32, u32)>,
    /// `(first word, rule, cue)`, sorted: the cues each word starts (first 64 rules).
    cue_starts: Vec<(u32, u32, u32)>,
}

/// Rules past this many are ignored.
pub const MAX_RULES: usize = 64;

impl Lexicon {
    /// The VADER 3.3.2 reference tables, nothing added.
    ///
    /// ```
    /// let lex = socialcx::engine::sentiment::lexicon::Lexicon::vader();
    /// assert_eq!(lex.info(lex.id("good")).valence, Some(1.9));
    /// ```
    pub fn vader() -> Lexicon {
        let mut table = WordTable::with_capacity(8192);
        let mut entries: Vec<Entry> = Vec::new();
        let intern = |table: &mut WordTable, entries: &mut Vec<Entry>, w: &str| -> u32 {
            let id = table.insert(w);
            if id as usize == entries.len() {
                entries.push(Entry::default());
            }
            id
        };
        // Lexicon: `for line in text.rstrip('\n').split('\n')`, skip empty lines,
        // `line.strip().split('\t')[0:2]`; later lines win. Keys are not lowercased
        // (lookups are), so keys with capitals are unreachable, as in the reference.
        for line in VADER_LEXICON.trim_end_matches('\n').split('\n') {
            if line.is_empty() {
                continue;
            }
            let mut cols = pytext::strip(line).split('\t');
            let (Some(word), Some(measure)) = (cols.next(), cols.next()) else {
                continue;
            };
            let value: f64 = measure.trim().parse().expect("the shipped lexicon parses");
            let id = intern(&mut table, &mut entries, word);
            let e = &mut entries[id as usize];
            e.valence = value;
            e.flags |= LEXICON;
        }
        for &(w, b) in BOOSTERS {
            if !w.contains(' ') {
                let id = intern(&mut table, &mut entries, w);
                entries[id as usize].flags |= if b == B_DECR {
                    BOOSTER | DAMPENER
                } else {
                    BOOSTER
                };
                debug_assert_eq!(Entry::booster(entries[id as usize].flags), b);
            }
        }
        for &w in NEGATE {
            let id = intern(&mut table, &mut entries, w);
            entries[id as usize].flags |= NEGATION;
        }
        let mut k = |w: &str| intern(&mut table, &mut entries, w);
        let kw = Keywords {
            no: k("no"),
            but: k("but"),
            kind: k("kind"),
            of: k("of"),
            least: k("least"),
            at: k("at"),
            very: k("very"),
            so: k("so"),
            this: k("this"),
            never: k("never"),
            without: k("without"),
            doubt: k("doubt"),
            or: k("or"),
            nor: k("nor"),
        };
        let mut seq = |phrase: &str| -> Vec<u32> { phrase.split(' ').map(&mut k).collect() };
        let special_cases: Vec<(Vec<u32>, f64)> = SPECIAL_CASES
            .iter()
            .filter(|(p, _)| p.contains(' '))
            .map(|&(p, v)| (seq(p), v))
            .collect();
        let booster_bigrams: Vec<([u32; 2], f64)> = BOOSTERS
            .iter()
            .filter(|(p, _)| p.contains(' '))
            .map(|&(p, v)| {
                let ids = seq(p);
                ([ids[0], ids[1]], v)
            })
            .collect();
        entries[kw.but as usize].flags |= BUT;
        for (words, _) in &special_cases {
            for &w in words {
                entries[w as usize].flags |= SPECIAL;
            }
        }
        for (words, _) in &booster_bigrams {
            for &w in words {
                entries[w as usize].flags |= SPECIAL;
            }
        }
        Lexicon {
            table,
            entries,
            emoji: EmojiTable::parse(VADER_EMOJI),
            kw,
            special_cases,
            booster_bigrams,
            phrases: Vec::new(),
            politeness: None,
            rules: Vec::new(),
            phrase_starts: Vec::new(),
            cue_starts: Vec::new(),
        }
    }

    /// This lexicon with `layer` on top: its words override, its phrases add, its
    /// courtesy rule replaces.
    ///
    /// ```
    /// use socialcx::engine::sentiment::lexicon::{Lexicon, LexiconLayer};
    /// let mut layer = LexiconLayer::default();
    /// layer.words.insert("Glitchy".into(), -1.8);
    /// let lex = Lexicon::vader().with_layer(&layer);
    /// assert_eq!(lex.info(lex.id("glitchy")).valence, Some(-1.8));
    /// ```
    pub fn with_layer(mut self, layer: &LexiconLayer) -> Lexicon {
        for (word, &valence) in &layer.words {
            let mut lower = String::new();
            pytext::push_lower(&mut lower, pytext::strip(word));
            if lower.contains(char::is_whitespace) {
                self.add_phrase(&lower, valence);
            } else {
                let id = self.intern(&lower);
                let e = &mut self.entries[id as usize];
                e.valence = valence;
                e.flags |= LEXICON;
            }
        }
        for (phrase, &valence) in &layer.phrases {
            self.add_phrase(phrase, valence);
        }
        if let Some(p) = &layer.politeness {
            for e in &mut self.entries {
                e.flags &= !POLITE;
            }
            for w in &p.words {
                let mut lower = String::new();
                pytext::push_lower(&mut lower, w);
                let id = self.intern(&lower);
                self.entries[id as usize].flags |= POLITE;
            }
            self.politeness = Some(p.clone());
        }
        for rule in &layer.rules {
            let cues: Vec<Vec<u32>> = rule
                .cues
                .iter()
                .map(|c| self.words_of(c))
                .filter(|c| !c.is_empty())
                .collect();
            for cue in &cues {
                self.entries[cue[0] as usize].flags |= STARTS_CUE;
            }
            self.rules.retain(|r| r.rule.name != rule.name);
            self.rules.push(CompiledRule {
                rule: rule.clone(),
                cues,
            });
        }
        self.phrases
            .sort_by_key(|p| std::cmp::Reverse(p.words.len()));
        // Sorting keeps each word's phrases longest first, and ties in file order.
        self.phrase_starts = self
            .phrases
            .iter()
            .enumerate()
            .map(|(i, p)| (p.words[0], i as u32))
            .collect();
        self.phrase_starts.sort_unstable();
        self.cue_starts.clear();
        for (r, rule) in self.rules.iter().enumerate().take(MAX_RULES) {
            for (c, cue) in rule.cues.iter().enumerate() {
                self.cue_starts.push((cue[0], r as u32, c as u32));
            }
        }
        self.cue_starts.sort_unstable();
        self
    }

    /// The phrases that start with word `first`, longest first.
    ///
    /// ```
    /// use socialcx::engine::sentiment::lexicon::{Lexicon, LexiconLayer};
    /// let mut layer = LexiconLayer::default();
    /// layer.phrases.insert("on hold".into(), -1.0);
    /// layer.phrases.insert("on hold for".into(), -2.0);
    /// let lex = Lexicon::vader().with_layer(&layer);
    /// let found: Vec<f64> = lex.phrases_from(lex.id("on")).map(|p| p.valence).collect();
    /// assert_eq!(found, [-2.0, -1.0]);
    /// ```
    pub fn phrases_from(&self, first: u32) -> impl Iterator<Item = &Phrase> {
        let from = self.phrase_starts.partition_point(|&(w, _)| w < first);
        self.phrase_starts[from..]
            .iter()
            .take_while(move |&&(w, _)| w == first)
            .map(|&(_, p)| &self.phrases[p as usize])
    }

    /// The rule cues that start with word `first`, as (index into
    /// [`Lexicon::rules`], cue words).
    ///
    /// ```
    /// use socialcx::engine::sentiment::lexicon::{Applies, Lexicon, LexiconLayer, Rule};
    /// let mut layer = LexiconLayer::default();
    /// layer.rules.push(Rule {
    ///     name: "question".into(),
    ///     cues: vec!["how long".into(), "how much".into(), "when".into()],
    ///     applies_to: Applies::All,
    ///     factor: 0.2,
    ///     unless_complaint: false,
    ///     marks_complaint: false,
    /// });
    /// let lex = Lexicon::vader().with_layer(&layer);
    /// assert_eq!(lex.cues_from(lex.id("how")).count(), 2);
    /// assert_eq!(lex.cues_from(lex.id("when")).next(), Some((0, &[lex.id("when")][..])));
    /// ```
    pub fn cues_from(&self, first: u32) -> impl Iterator<Item = (usize, &[u32])> {
        let from = self.cue_starts.partition_point(|&(w, ..)| w < first);
        self.cue_starts[from..]
            .iter()
            .take_while(move |&&(w, ..)| w == first)
            .map(|&(_, r, c)| (r as usize, &self.rules[r as usize].cues[c as usize][..]))
    }

    fn intern(&mut self, word: &str) -> u32 {
        let id = self.table.insert(word);
        if id as usize == self.entries.len() {
            self.entries.push(Entry::default());
        }
        id
    }

    /// Add a phrase, written as a user would (emoji, capitals and punctuation are
    /// normalised the way tokens are when they are matched).
    fn add_phrase(&mut self, phrase: &str, valence: f64) {
        let ids = self.words_of(phrase);
        if ids.is_empty() {
            return;
        }
        self.entries[ids[0] as usize].flags |= STARTS_PHRASE;
        self.phrases.retain(|p| p.words != ids);
        self.phrases.push(Phrase {
            words: ids,
            valence,
        });
    }

    /// A phrase as the word ids tokens are matched against.
    fn words_of(&mut self, phrase: &str) -> Vec<u32> {
        let mut text = String::new();
        if !self.replace_emoji(phrase, &mut text) {
            text.push_str(phrase);
        }
        let words: Vec<String> = pytext::strip(&text)
            .split(pytext::is_space)
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut lower = String::new();
                pytext::push_lower(&mut lower, pytext::strip_punct(w));
                lower
            })
            .filter(|w| !w.is_empty())
            .collect();
        words.iter().map(|w| self.intern(w)).collect()
    }

    /// The id of the lowercase `word`, or [`NONE`].
    #[inline]
    pub fn id(&self, word: &str) -> u32 {
        self.table.get(word.as_bytes())
    }

    /// [`Lexicon::id`] of a word of `len` bytes given as four little-endian words,
    /// zero-padded.
    ///
    /// ```
    /// let lex = socialcx::engine::sentiment::lexicon::Lexicon::vader();
    /// let word = u64::from_le_bytes(*b"wonderfu");
    /// assert_eq!(lex.id_words(&[word, u64::from(b'l'), 0, 0], 9), lex.id("wonderful"));
    /// ```
    #[inline]
    pub fn id_words(&self, word: &[u64; 4], len: usize) -> u32 {
        self.table.get_padded(word, len)
    }

    /// [`Lexicon::id`] of a word of 1 to 8 bytes given as one little-endian word,
    /// zero-padded.
    ///
    /// ```
    /// let lex = socialcx::engine::sentiment::lexicon::Lexicon::vader();
    /// assert_eq!(lex.id_word(u64::from_le_bytes(*b"good\0\0\0\0"), 4), lex.id("good"));
    /// ```
    #[inline]
    pub fn id_word(&self, word: u64, len: usize) -> u32 {
        self.table.get_word(word, len)
    }

    /// The longest word in the table, in bytes.
    #[inline]
    pub fn max_word_len(&self) -> usize {
        self.table.max_len
    }

    /// What a token resolving to word `id` carries (the default for [`NONE`]).
    ///
    /// ```
    /// use socialcx::engine::sentiment::lexicon::{LEXICON, Lexicon, NONE};
    /// let lex = Lexicon::vader();
    /// let good = lex.entry(lex.id("good"));
    /// assert_eq!((good.valence, good.flags & LEXICON), (1.9, LEXICON));
    /// assert_eq!(lex.entry(NONE).flags, 0);
    /// ```
    #[inline]
    pub fn entry(&self, id: u32) -> Entry {
        self.entries.get(id as usize).copied().unwrap_or_default()
    }

    /// What is known about word `id`, spelled out (the default for [`NONE`]).
    pub fn info(&self, id: u32) -> WordInfo {
        let Entry { valence, flags } = self.entry(id);
        WordInfo {
            valence: (flags & LEXICON != 0).then_some(valence),
            booster: (flags & BOOSTER != 0).then(|| Entry::booster(flags)),
            negation: flags & NEGATION != 0,
            polite: flags & POLITE != 0,
            starts_phrase: flags & STARTS_PHRASE != 0,
            starts_cue: flags & STARTS_CUE != 0,
            special: flags & SPECIAL != 0,
        }
    }

    /// The emoji description for `c`, when `c` is a single-code-point emoji key.
    #[inline]
    pub fn emoji(&self, c: char) -> Option<&'static str> {
        self.emoji.get(c)
    }

    /// The reference's emoji replacement: each emoji becomes its description,
    /// preceded by a space unless the previous character was a space. When `text`
    /// holds an emoji, the replaced text is appended to `out` and the result is
    /// true; otherwise `out` is left untouched (the text is its own replacement).
    ///
    /// ```
    /// let lex = socialcx::engine::sentiment::lexicon::Lexicon::vader();
    /// let mut out = String::new();
    /// assert!(lex.replace_emoji("ok\u{1F602}great", &mut out));
    /// assert_eq!(out, "ok face with tears of joygreat");
    /// ```
    pub fn replace_emoji(&self, text: &str, out: &mut String) -> bool {
        let bytes = text.as_bytes();
        // Emoji are never ASCII: look only at the characters that start with a
        // multi-byte lead.
        let emoji_at = |from: usize| -> Option<(usize, char, &'static str)> {
            let mut i = from;
            while let Some(lead) = next_lead(bytes, i) {
                i = lead;
                let c = text[i..].chars().next().expect("a char boundary");
                if let Some(desc) = self.emoji(c) {
                    return Some((i, c, desc));
                }
                i += c.len_utf8();
            }
            None
        };
        let Some(mut next) = emoji_at(0) else {
            return false;
        };
        let mut copied = 0;
        loop {
            let (at, c, desc) = next;
            out.push_str(&text[copied..at]);
            // The reference's `prev_space`: true at the start, false right after an
            // emoji, else whether the previous character is a space.
            let prev_space = if at == 0 {
                true
            } else if at == copied {
                false
            } else {
                bytes[at - 1] == b' '
            };
            if !prev_space {
                out.push(' ');
            }
            out.push_str(desc);
            copied = at + c.len_utf8();
            match emoji_at(copied) {
                Some(n) => next = n,
                None => break,
            }
        }
        out.push_str(&text[copied..]);
        true
    }
}

/// The first byte at or after `from` that leads a multi-byte character (`>= 0xc0`),
/// looked for eight bytes at a time.
fn next_lead(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Bit 7 of a byte and, shifted into place, its bit 6.
        let leads = w & (w << 1) & 0x8080_8080_8080_8080;
        if leads != 0 {
            return Some(i + (leads.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b >= 0xc0).map(|p| i + p)
}
