//! The VADER scorer: a bit-exact port of `vaderSentiment` 3.3.2's
//! `polarity_scores`, plus the hooks the customer-care layer and user lexicons use.
//!
//! The rules, in the reference's order, are in `../shared/reference` and in the
//! comments below. Scoring a text allocates nothing once its [`Scratch`] has grown
//! to the longest text seen: tokens are slices of the input (or of the scratch copy
//! with emoji replaced), looked up with one hash probe each.

use std::sync::Arc;

use super::lexicon::{Applies, Lexicon, NONE, PADDED};
use super::pytext;

const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

/// VADER's four numbers for one text, rounded as the reference rounds them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// One token, with everything the rules ask about it resolved up front.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// Id of the lowercase token (as the reference looks it up).
    id: u32,
    /// Id of the lowercase token with all edge punctuation stripped (phrases).
    norm: u32,
    valence: f64,
    in_lexicon: bool,
    booster: Option<f64>,
    negation: bool,
    upper: bool,
    polite: bool,
    /// Part of a special-case idiom or a two-word booster.
    special: bool,
}

/// Reusable buffers for scoring; one per thread or per batch.
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    /// The text being scored, followed by zero bytes, so tokens load as whole words.
    padded: Vec<u8>,
    lower: String,
    tokens: Vec<Token>,
    sentiments: Vec<f64>,
}

/// A sentiment analyzer: the VADER machinery over a [`Lexicon`].
///
/// ```
/// use socialcx::engine::sentiment::vader::{Analyzer, Scratch};
/// let vader = Analyzer::vader();
/// let mut scratch = Scratch::default();
/// assert_eq!(vader.compound("The book was good.", &mut scratch), 0.4404);
/// ```
#[derive(Debug, Clone)]
pub struct Analyzer {
    lex: Arc<Lexicon>,
}

impl Analyzer {
    /// An analyzer over `lex`.
    pub fn new(lex: Lexicon) -> Analyzer {
        Analyzer { lex: Arc::new(lex) }
    }

    /// The reference analyzer (VADER 3.3.2's lexicon, nothing added), built once.
    pub fn vader() -> Analyzer {
        static VADER: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
        VADER
            .get_or_init(|| Analyzer::new(Lexicon::vader()))
            .clone()
    }

    /// The lexicon this analyzer scores with.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lex
    }

    /// `polarity_scores(text)`: neg, neu, pos (rounded to 3 places) and compound
    /// (rounded to 4), exactly as the reference returns them.
    ///
    /// ```
    /// # use socialcx::engine::sentiment::vader::{Analyzer, Scratch};
    /// let s = Analyzer::vader().scores("VADER is smart, handsome, and funny!", &mut Scratch::default());
    /// assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.248, 0.752, 0.8439));
    /// ```
    pub fn scores(&self, text: &str, scratch: &mut Scratch) -> Scores {
        let raw = self.raw(text, scratch);
        Scores {
            neg: py_round(raw.neg, 3),
            neu: py_round(raw.neu, 3),
            pos: py_round(raw.pos, 3),
            compound: py_round(raw.compound, 4),
        }
    }

    /// The compound score alone (rounded to 4 places, as the reference does).
    pub fn compound(&self, text: &str, scratch: &mut Scratch) -> f64 {
        py_round(self.raw(text, scratch).compound, 4)
    }

    /// Unrounded scores.
    fn raw(&self, text: &str, scratch: &mut Scratch) -> Scores {
        let Scratch {
            text: buf,
            padded,
            lower,
            tokens,
            sentiments,
        } = scratch;
        buf.clear();
        let text = if self.lex.replace_emoji(text, buf) {
            buf.as_str()
        } else {
            text
        };
        padded.clear();
        padded.extend_from_slice(text.as_bytes());
        padded.extend_from_slice(&[0u8; PADDED + 8]);
        let mut cx = TokenContext {
            text,
            padded,
            ascii: text.is_ascii(),
            lower,
        };
        self.tokenize(&mut cx, tokens);
        if tokens.is_empty() {
            return Scores::default();
        }
        if !self.lex.phrases.is_empty() {
            self.apply_phrases(tokens);
        }
        if self.lex.politeness.is_some() || !self.lex.rules.is_empty() {
            self.apply_rules(tokens);
        }
        self.sentiments(tokens, sentiments);
        self.but_check(tokens, sentiments);
        score_valence(sentiments, text)
    }

    /// `text.split()`, each token `strip(string.punctuation)`ed unless that leaves
    /// two characters or fewer, then resolved against the lexicon.
    fn tokenize(&self, cx: &mut TokenContext<'_>, tokens: &mut Vec<Token>) {
        tokens.clear();
        let text = cx.text;
        let bytes = text.as_bytes();
        if cx.ascii {
            // Python's ASCII whitespace is all below 0x21: skip eight bytes at a
            // time until a word holds such a byte, then look at that byte.
            let n = bytes.len();
            let (mut start, mut i) = (0, 0);
            while i < n {
                if i + 8 <= n {
                    let w = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
                    let m = pytext::lt(w, 0x21);
                    if m == 0 {
                        i += 8;
                        continue;
                    }
                    i += (m.trailing_zeros() / 8) as usize;
                }
                if pytext::is_ascii_space(bytes[i]) {
                    if i > start {
                        tokens.push(self.token(cx, start, i));
                    }
                    start = i + 1;
                }
                i += 1;
            }
            if n > start {
                tokens.push(self.token(cx, start, n));
            }
            return;
        }
        let mut i = 0;
        let mut start = usize::MAX;
        while i < bytes.len() {
            let b = bytes[i];
            let (space, width) = if b < 0x80 {
                (pytext::is_ascii_space(b), 1)
            } else {
                (is_unicode_space(&bytes[i..]), utf8_width(b))
            };
            if space {
                if start != usize::MAX {
                    tokens.push(self.token(cx, start, i));
                    start = usize::MAX;
                }
            } else if start == usize::MAX {
                start = i;
            }
            i += width;
        }
        if start != usize::MAX {
            tokens.push(self.token(cx, start, bytes.len()));
        }
    }

    /// The token `text[start..end]`, resolved.
    #[inline(always)]
    fn token(&self, cx: &mut TokenContext<'_>, start: usize, end: usize) -> Token {
        let raw = &cx.text[start..end];
        let stripped = pytext::strip_punct(raw);
        let short = stripped.len() <= 2
            || (stripped.len() <= 8
                && !stripped.is_ascii()
                && pytext::char_count_upto(stripped, 2) <= 2);
        let kept = if short { raw } else { stripped };
        let lower = &mut *cx.lower;
        let (id, upper, negation) = if kept.len() <= PADDED && (cx.ascii || kept.is_ascii()) {
            // Fast path: load the token eight bytes at a time from the padded copy,
            // lowercase each word, and gather the case flags and the apostrophe test.
            let at = start + (kept.as_ptr() as usize - raw.as_ptr() as usize);
            let n = kept.len();
            let mut words = [0u64; 4];
            let (mut has_upper, mut has_lower, mut apostrophe) = (false, false, false);
            for (k, slot) in words.iter_mut().enumerate().take(n.div_ceil(8)) {
                let from = at + 8 * k;
                let mut w =
                    u64::from_le_bytes(cx.padded[from..from + 8].try_into().expect("8 bytes"));
                let valid = n - 8 * k;
                if valid < 8 {
                    w &= (1u64 << (8 * valid)) - 1;
                }
                let (low, up, lo) = pytext::lower_word(w);
                has_upper |= up;
                has_lower |= lo;
                apostrophe |= pytext::has_byte(w, b'\'');
                *slot = low;
            }
            let id = self.lex.id_words(&words, n);
            let negation = apostrophe && {
                let mut buf = [0u8; PADDED];
                for (k, w) in words.iter().enumerate() {
                    buf[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
                }
                has_nt(&buf[..n])
            };
            (id, has_upper && !has_lower, negation)
        } else {
            lower.clear();
            pytext::push_lower(lower, kept);
            (
                self.lex.id(lower),
                pytext::is_upper(kept),
                has_nt(lower.as_bytes()),
            )
        };
        let info = self.lex.info(id);
        let negation = negation || info.negation;
        let norm = if self.lex.phrases.is_empty() || kept.len() == stripped.len() {
            id
        } else {
            lower.clear();
            pytext::push_lower(lower, stripped);
            self.lex.id(lower)
        };
        Token {
            id,
            norm,
            valence: info.valence.unwrap_or(0.0),
            in_lexicon: info.valence.is_some(),
            booster: info.booster,
            negation,
            upper,
            polite: info.polite,
            special: info.special,
        }
    }

    /// Customer-care and user phrases: a matched phrase's words become neutral
    /// filler, and its last word carries the phrase's valence (none when it is 0).
    fn apply_phrases(&self, tokens: &mut [Token]) {
        let mut i = 0;
        while i < tokens.len() {
            if !self.lex.info(tokens[i].norm).starts_phrase {
                i += 1;
                continue;
            }
            let matched = self.lex.phrases.iter().find(|p| {
                p.words.len() <= tokens.len() - i
                    && p.words.iter().zip(&tokens[i..]).all(|(&w, t)| t.norm == w)
            });
            let Some(phrase) = matched else {
                i += 1;
                continue;
            };
            let end = i + phrase.words.len();
            for t in &mut tokens[i..end] {
                *t = Token {
                    id: NONE,
                    norm: NONE,
                    valence: 0.0,
                    in_lexicon: false,
                    booster: None,
                    negation: false,
                    upper: t.upper,
                    polite: false,
                    special: false,
                };
            }
            if phrase.valence != 0.0 {
                let last = &mut tokens[end - 1];
                last.valence = phrase.valence;
                last.in_lexicon = true;
                // Marks the phrase as a complaint for the courtesy rule.
                last.norm = PHRASE;
            }
            i = end;
        }
    }

    /// The customer-care cue rules, then the courtesy rule: courtesy words inside a
    /// complaint lose their warmth ("thanks for nothing", "please help, on hold for
    /// an hour").
    fn apply_rules(&self, tokens: &mut [Token]) {
        let lex = &self.lex;
        let mut complaint = tokens.iter().any(|t| t.norm == PHRASE && t.valence < 0.0)
            || lex.politeness.as_ref().is_some_and(|rule| {
                tokens
                    .iter()
                    .any(|t| t.in_lexicon && !t.polite && t.valence <= rule.complaint_threshold)
            });
        // Which rules fire (a rule fires once, however many cues match).
        let mut fired = [false; 64];
        for i in 0..tokens.len() {
            if !lex.info(tokens[i].norm).starts_cue {
                continue;
            }
            for (r, rule) in lex.rules.iter().enumerate().take(64) {
                let hit = rule.cues.iter().any(|cue| {
                    cue.len() <= tokens.len() - i
                        && cue.iter().zip(&tokens[i..]).all(|(&w, t)| t.norm == w)
                });
                fired[r] |= hit;
            }
        }
        for (r, rule) in lex.rules.iter().enumerate().take(64) {
            complaint |= fired[r] && rule.rule.marks_complaint;
        }
        for (r, rule) in lex.rules.iter().enumerate().take(64) {
            let rule = &rule.rule;
            if !fired[r] || (rule.unless_complaint && complaint) {
                continue;
            }
            for t in tokens.iter_mut().filter(|t| t.in_lexicon) {
                let applies = match rule.applies_to {
                    Applies::Positive => t.valence > 0.0,
                    Applies::Negative => t.valence < 0.0,
                    Applies::All => true,
                };
                if applies {
                    t.valence *= rule.factor;
                }
            }
        }
        if let Some(rule) = &lex.politeness
            && complaint
        {
            for t in tokens.iter_mut().filter(|t| t.polite) {
                t.valence = rule.in_complaint;
                t.in_lexicon = rule.in_complaint != 0.0;
            }
        }
    }

    /// The per-token valences (`polarity_scores`' main loop and `sentiment_valence`).
    fn sentiments(&self, t: &[Token], out: &mut Vec<f64>) {
        let kw = &self.lex.kw;
        let n = t.len();
        let cap_diff = {
            let upper = t.iter().filter(|t| t.upper).count();
            upper > 0 && upper < n
        };
        out.clear();
        for i in 0..n {
            let tok = &t[i];
            if tok.booster.is_some() {
                out.push(0.0);
                continue;
            }
            if i < n - 1 && tok.id == kw.kind && t[i + 1].id == kw.of {
                out.push(0.0);
                continue;
            }
            if !tok.in_lexicon {
                out.push(0.0);
                continue;
            }
            let mut v = tok.valence;
            // "no" before a lexicon word negates it rather than scoring itself.
            if tok.id == kw.no && i != n - 1 && t[i + 1].in_lexicon {
                v = 0.0;
            }
            if (i > 0 && t[i - 1].id == kw.no)
                || (i > 1 && t[i - 2].id == kw.no)
                || (i > 2
                    && t[i - 3].id == kw.no
                    && (t[i - 1].id == kw.or || t[i - 1].id == kw.nor))
            {
                v = tok.valence * N_SCALAR;
            }
            if tok.upper && cap_diff {
                if v > 0.0 {
                    v += C_INCR;
                } else {
                    v -= C_INCR;
                }
            }
            for k in 0..3 {
                if i > k && !t[i - k - 1].in_lexicon {
                    let mut s = scalar_inc_dec(&t[i - k - 1], v, cap_diff);
                    if k == 1 && s != 0.0 {
                        s *= 0.95;
                    }
                    if k == 2 && s != 0.0 {
                        s *= 0.9;
                    }
                    v += s;
                    v = self.negation_check(v, t, k, i);
                    if k == 2 {
                        v = self.special_idioms_check(v, t, i);
                    }
                }
            }
            v = self.least_check(v, t, i);
            out.push(v);
        }
    }

    fn negation_check(&self, mut v: f64, t: &[Token], k: usize, i: usize) -> f64 {
        let kw = &self.lex.kw;
        let so_or_this = |id: u32| id == kw.so || id == kw.this;
        match k {
            0 => {
                if t[i - 1].negation {
                    v *= N_SCALAR;
                }
            }
            1 => {
                if t[i - 2].id == kw.never && so_or_this(t[i - 1].id) {
                    v *= 1.25;
                } else if t[i - 2].id == kw.without && t[i - 1].id == kw.doubt {
                } else if t[i - 2].negation {
                    v *= N_SCALAR;
                }
            }
            _ => {
                // The reference's operator precedence: `a and b or c`.
                if (t[i - 3].id == kw.never && so_or_this(t[i - 2].id)) || so_or_this(t[i - 1].id) {
                    v *= 1.25;
                } else if t[i - 3].id == kw.without
                    && (t[i - 2].id == kw.doubt || t[i - 1].id == kw.doubt)
                {
                } else if t[i - 3].negation {
                    v *= N_SCALAR;
                }
            }
        }
        v
    }

    fn special_idioms_check(&self, mut v: f64, t: &[Token], i: usize) -> f64 {
        // Every idiom and two-word booster is made of flagged words only.
        if !t[i - 3..t.len().min(i + 3)].iter().any(|t| t.special) {
            return v;
        }
        let lex = &self.lex;
        let id = |j: usize| t[j].id;
        let find = |seq: &[u32]| -> Option<f64> {
            if seq.contains(&NONE) {
                return None;
            }
            lex.special_cases
                .iter()
                .find(|(words, _)| words == seq)
                .map(|&(_, v)| v)
        };
        let onezero = [id(i - 1), id(i)];
        let twoonezero = [id(i - 2), id(i - 1), id(i)];
        let twoone = [id(i - 2), id(i - 1)];
        let threetwoone = [id(i - 3), id(i - 2), id(i - 1)];
        let threetwo = [id(i - 3), id(i - 2)];
        let sequences: [&[u32]; 5] = [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo];
        for seq in sequences {
            if let Some(value) = find(seq) {
                v = value;
                break;
            }
        }
        let n = t.len();
        if n - 1 > i
            && let Some(value) = find(&[id(i), id(i + 1)])
        {
            v = value;
        }
        if n - 1 > i + 1
            && let Some(value) = find(&[id(i), id(i + 1), id(i + 2)])
        {
            v = value;
        }
        // Two-word boosters ("kind of", "sort of", "just enough") add their value,
        // with no sign flip. No BOOSTER_DICT key has three words.
        for bigram in [threetwo, twoone] {
            if let Some(&(_, b)) = lex.booster_bigrams.iter().find(|(w, _)| *w == bigram) {
                v += b;
            }
        }
        v
    }

    fn least_check(&self, mut v: f64, t: &[Token], i: usize) -> f64 {
        let kw = &self.lex.kw;
        if i > 1 && !t[i - 1].in_lexicon && t[i - 1].id == kw.least {
            if t[i - 2].id != kw.at && t[i - 2].id != kw.very {
                v *= N_SCALAR;
            }
        } else if i > 0 && !t[i - 1].in_lexicon && t[i - 1].id == kw.least {
            v *= N_SCALAR;
        }
        v
    }

    /// `_but_check`, emulated literally: for each position k, the value now at k is
    /// searched for from the start and the *first equal value* is scaled (x0.5
    /// before the first "but", x1.5 after it).
    fn but_check(&self, t: &[Token], s: &mut [f64]) {
        let Some(bi) = t.iter().position(|t| t.id == self.lex.kw.but) else {
            return;
        };
        for k in 0..s.len() {
            let value = s[k];
            let si = s.iter().position(|&x| x == value).unwrap_or(k);
            if si < bi {
                s[si] = value * 0.5;
            } else if si > bi {
                s[si] = value * 1.5;
            }
        }
    }
}

/// Does the lowercase token contain "n't" (VADER's contraction negation)?
#[inline]
fn has_nt(word: &[u8]) -> bool {
    word.contains(&b'\'') && word.windows(3).any(|w| w == b"n't")
}

/// The text being tokenized, and the buffers tokens are resolved with.
struct TokenContext<'a> {
    text: &'a str,
    padded: &'a [u8],
    ascii: bool,
    lower: &'a mut String,
}

/// Marks the token that carries a phrase's valence.
const PHRASE: u32 = NONE - 1;

fn scalar_inc_dec(word: &Token, valence: f64, cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = word.booster {
        scalar = b;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if word.upper && cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `score_valence`: the compound score and the neg/neu/pos proportions, unrounded.
fn score_valence(sentiments: &[f64], text: &str) -> Scores {
    // `sum()` starts from the integer 0, so the sum of only zeros is +0.0.
    let mut sum_s = 0.0;
    for &s in sentiments {
        sum_s += s;
    }
    let amp = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += amp;
    } else if sum_s < 0.0 {
        sum_s -= amp;
    }
    let compound = (sum_s / (sum_s * sum_s + 15.0).sqrt()).clamp(-1.0, 1.0);
    let (mut pos_sum, mut neg_sum, mut neu) = (0.0f64, 0.0f64, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += amp;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amp;
    }
    let total = pos_sum + neg_sum.abs() + f64::from(neu);
    Scores {
        neg: (neg_sum / total).abs(),
        neu: (f64::from(neu) / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}

/// Emphasis from `!` (up to 4) and `?` (2 or 3 count, more count as 0.96).
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0u32, 0u32);
    for &b in text.as_bytes() {
        ep += u32::from(b == b'!');
        qm += u32::from(b == b'?');
    }
    let ep_amp = f64::from(ep.min(4)) * 0.292;
    let qm_amp = match qm {
        0 | 1 => 0.0,
        2 | 3 => f64::from(qm) * 0.18,
        _ => 0.96,
    };
    ep_amp + qm_amp
}

/// Python's `round(x, digits)`: the double nearest to x's exact value rounded to
/// `digits` decimals, ties to even.
///
/// ```
/// use socialcx::engine::sentiment::vader::py_round;
/// assert_eq!(py_round(0.12345, 4), 0.1235); // 0.12345 is stored above the tie
/// assert_eq!(py_round(2.675, 2), 2.67);     // and 2.675 below it
/// ```
pub fn py_round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let y = x * scale;
    let frac = (y - y.trunc()).abs();
    if (frac - 0.5).abs() > 1e-9 && y.abs() < 1e15 {
        // Far from a tie: rounding the scaled value is exact, and r / 10^d is the
        // nearest double to the decimal r * 10^-d, as Python's result is.
        return y.round() / scale;
    }
    // Near a tie the product may have rounded across it: decide on the exact value.
    format!("{x:.prec$}", prec = digits as usize)
        .parse()
        .unwrap_or(x)
}

/// Width of a UTF-8 sequence from its lead byte.
#[inline]
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        _ => 2,
    }
}

/// Is a non-ASCII Python whitespace character at the start of `b`?
#[inline]
fn is_unicode_space(b: &[u8]) -> bool {
    match b[0] {
        0xc2 => matches!(b.get(1), Some(0x85 | 0xa0)),
        0xe1 => b.get(1..3) == Some(&[0x9a, 0x80]),
        0xe2 => match (b.get(1), b.get(2)) {
            (Some(0x80), Some(&c)) => matches!(c, 0x80..=0x8a | 0xa8 | 0xa9 | 0xaf),
            (Some(0x81), Some(0x9f)) => true,
            _ => false,
        },
        0xe3 => b.get(1..3) == Some(&[0x80, 0x80]),
        _ => false,
    }
}
