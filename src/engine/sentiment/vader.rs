//! The VADER scorer: a bit-exact port of `vaderSentiment` 3.3.2's
//! `polarity_scores`, plus the hooks the customer-care layer and user lexicons use.
//!
//! The rules, in the reference's order, are in `../shared/reference` and in the
//! comments below. Scoring a text allocates nothing once its [`Scratch`] has grown
//! to the longest text seen.
//!
//! A token is 16 bytes: its word id, flag bits and valence, resolved with one hash
//! probe (most tokens are in no table and stop at the probe's bitset). The rules run
//! only for the tokens that score (lexicon words) and read their neighbours' ids and
//! flags; the rarely needed facts (a booster's value, the idioms, the phrases and
//! cues a word starts) are looked up when a rule asks for them.

use std::sync::Arc;

use super::lexicon::{
    Applies, BOOSTER, BUT, Entry, LEXICON, Lexicon, MAX_RULES, NEGATION, NONE, PADDED, POLITE,
    SPECIAL, STARTS_CUE, STARTS_PHRASE,
};
use super::model::CareModel;
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

/// Token flags beyond its word's ([`LEXICON`], [`BOOSTER`], ...): the token
/// `isupper()`.
const UPPER: u32 = 1 << 16;
/// The token carries a matched phrase's valence (customer-care mode).
const PHRASE: u32 = 1 << 17;

/// One token. The flags are its word's ([`Entry::flags`]) plus [`UPPER`], and
/// [`NEGATION`] for an `n't`; which keyword it is, the value of a booster, the idioms
/// it may be part of are read from the id or the flags when a rule asks.
#[derive(Debug, Clone, Copy, Default)]
struct Token {
    /// Id of the lowercase token (as the reference looks it up), or [`NONE`].
    id: u32,
    flags: u32,
    /// Its word's valence (0 unless [`LEXICON`]), as the customer-care layer left it.
    valence: f64,
}

impl Token {
    #[inline]
    fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    #[inline]
    fn in_lexicon(&self) -> bool {
        self.has(LEXICON)
    }
}

/// Reusable buffers for scoring; one per thread or per batch.
///
/// ```
/// use socialcx::engine::sentiment::vader::{Analyzer, Scratch};
/// let (vader, mut scratch) = (Analyzer::vader(), Scratch::default());
/// for text in ["good", "bad"] {
///     assert_ne!(vader.compound(text, &mut scratch), 0.0);
/// }
/// ```
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    /// The text being scored, followed by zero bytes, so tokens load as whole words.
    padded: Vec<u8>,
    lower: String,
    // The next three keep room for the most tokens of any text scored so far.
    tokens: Vec<Token>,
    /// Per token, the id phrases and cues match on: the token with all edge
    /// punctuation stripped (only when the lexicon has phrases or rules).
    norms: Vec<u32>,
    /// Positions of the tokens that score: lexicon words (the others score 0).
    scored: Vec<u32>,
    /// Their sentiments, in order (every token's, when the "but" rule applies).
    sentiments: Vec<f64>,
}

/// Where the tokenizer writes, each with room for the most tokens a text can hold.
struct Room<'a> {
    tokens: &'a mut [Token],
    /// Unused (empty) without phrases or rules.
    norms: &'a mut [u32],
    scored: &'a mut [u32],
}

/// What tokenizing a text counted.
#[derive(Debug, Default)]
struct Found {
    tokens: usize,
    /// Tokens that score (lexicon words).
    scored: usize,
    /// Tokens that are [`UPPER`].
    upper: usize,
    /// Every token's flags, or-ed.
    seen: u32,
}

/// The first `n` elements of `buf`, grown to hold them; the buffer keeps its
/// longest length, so a text after the longest costs no fill.
fn room<T: Copy + Default>(buf: &mut Vec<T>, n: usize) -> &mut [T] {
    if buf.len() < n {
        buf.resize(n, T::default());
    }
    &mut buf[..n]
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
    /// The learned layer over the lexicon's scores (the customer-care mode).
    model: Option<Arc<CareModel>>,
}

impl Analyzer {
    /// An analyzer over `lex`.
    pub fn new(lex: Lexicon) -> Analyzer {
        Analyzer {
            lex: Arc::new(lex),
            model: None,
        }
    }

    /// This analyzer with a learned layer over its lexicon's scores: its scores become
    /// the model's (see [`CareModel::scores`]).
    ///
    /// ```
    /// use socialcx::engine::sentiment::{model::CareModel, vader::{Analyzer, Scratch}};
    /// let care = Analyzer::vader().with_model(CareModel::shipped());
    /// assert!(care.compound("2 hours on hold and still no answer", &mut Scratch::default()) < 0.0);
    /// ```
    pub fn with_model(mut self, model: Arc<CareModel>) -> Analyzer {
        self.model = Some(model);
        self
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
        let lexicon = Scores {
            neg: py_round(raw.neg, 3),
            neu: py_round(raw.neu, 3),
            pos: py_round(raw.pos, 3),
            compound: py_round(raw.compound, 4),
        };
        match &self.model {
            Some(model) => model.scores(text, &lexicon),
            None => lexicon,
        }
    }

    /// The compound score alone (rounded to 4 places, as the reference does).
    ///
    /// ```
    /// # use socialcx::engine::sentiment::vader::{Analyzer, Scratch};
    /// assert_eq!(Analyzer::vader().compound("not bad at all", &mut Scratch::default()), 0.431);
    /// ```
    pub fn compound(&self, text: &str, scratch: &mut Scratch) -> f64 {
        if self.model.is_some() {
            return self.scores(text, scratch).compound;
        }
        py_round(self.raw(text, scratch).compound, 4)
    }

    /// Unrounded scores.
    fn raw(&self, text: &str, scratch: &mut Scratch) -> Scores {
        let Scratch {
            text: buf,
            padded,
            lower,
            tokens,
            norms,
            scored,
            sentiments,
        } = scratch;
        // Emoji are never ASCII: most texts skip the replacement after one scan.
        let mut text = text;
        let mut ascii = text.is_ascii();
        if !ascii {
            buf.clear();
            if self.lex.replace_emoji(text, buf) {
                text = buf.as_str();
                ascii = text.is_ascii();
            }
        }
        padded.clear();
        padded.extend_from_slice(text.as_bytes());
        padded.extend_from_slice(&[0u8; PADDED + 8]);
        let mut cx = TokenContext {
            text,
            padded,
            ascii,
            lower,
        };
        // At most one token per two bytes (a character and a space).
        let most = text.len().div_ceil(2);
        let lex = &self.lex;
        let rules = lex.politeness.is_some() || !lex.rules.is_empty();
        let care = rules || !lex.phrases.is_empty();
        let out = Room {
            tokens: room(tokens, most),
            norms: if care { room(norms, most) } else { &mut [] },
            scored: room(scored, most),
        };
        let found = if care {
            self.tokenize::<true>(&mut cx, out)
        } else {
            self.tokenize::<false>(&mut cx, out)
        };
        let n = found.tokens;
        if n == 0 {
            return Scores::default();
        }
        let tokens = &mut tokens[..n];
        let (mut seen, mut count) = (found.seen, found.scored);
        if care {
            let norms = &mut norms[..n];
            if !lex.phrases.is_empty() {
                self.apply_phrases(tokens, norms);
            }
            if rules {
                self.apply_rules(tokens, norms);
            }
            // Phrases and the courtesy rule change which tokens score.
            (seen, count) = (0, 0);
            for (i, t) in tokens.iter().enumerate() {
                seen |= t.flags;
                scored[count] = i as u32;
                count += usize::from(t.in_lexicon());
            }
        }
        let scored = &scored[..count];
        let tokens = &*tokens;
        let cap_diff = found.upper > 0 && found.upper < n;
        let amp = punctuation_emphasis(&cx.padded[..text.len().next_multiple_of(8)]);
        sentiments.clear();
        if seen & BUT == 0 {
            sentiments.extend(
                scored
                    .iter()
                    .map(|&i| self.valence(tokens, i as usize, cap_diff)),
            );
            score_valence(sentiments, n - scored.len(), amp)
        } else {
            sentiments.resize(n, 0.0);
            for &i in scored {
                sentiments[i as usize] = self.valence(tokens, i as usize, cap_diff);
            }
            self.but_check(tokens, sentiments);
            score_valence(sentiments, 0, amp)
        }
    }

    /// `text.split()`, each token `strip(string.punctuation)`ed unless that leaves
    /// two characters or fewer, then resolved against the lexicon, into `out`: the
    /// tokens, (with `NORMS`) their phrase-matching ids, and the positions of those
    /// that score.
    fn tokenize<const NORMS: bool>(&self, cx: &mut TokenContext<'_>, mut out: Room<'_>) -> Found {
        let mut found = Found::default();
        let n = cx.text.len();
        let mut start = 0;
        let mut at = 0;
        while at < n {
            // Python's whitespace is ASCII below 0x21 or a multi-byte character: look
            // only at those bytes, eight at a time.
            let w = load(cx.padded, at);
            let mut candidates = (pytext::lt(w, 0x21) | w) & HI;
            while candidates != 0 {
                let i = at + (candidates.trailing_zeros() / 8) as usize;
                candidates &= candidates - 1;
                if i >= n {
                    break;
                }
                let b = cx.padded[i];
                let width = if b < 0x80 {
                    if !pytext::is_ascii_space(b) {
                        continue;
                    }
                    1
                } else {
                    // Continuation bytes are no lead, and so no space.
                    if !is_unicode_space(&cx.padded[i..]) {
                        continue;
                    }
                    utf8_width(b)
                };
                if i > start {
                    self.emit::<NORMS>(cx, &mut out, &mut found, start, i);
                }
                start = i + width;
            }
            at += 8;
        }
        if n > start {
            self.emit::<NORMS>(cx, &mut out, &mut found, start, n);
        }
        found
    }

    /// Resolve the token `text[start..end]` and add it to `out`.
    #[inline(always)]
    fn emit<const NORMS: bool>(
        &self,
        cx: &mut TokenContext<'_>,
        out: &mut Room<'_>,
        found: &mut Found,
        start: usize,
        end: usize,
    ) {
        let (token, norm) = self.token::<NORMS>(cx, start, end);
        let i = found.tokens;
        // Written always, kept when the token scores: no branch.
        out.scored[found.scored] = i as u32;
        found.scored += usize::from(token.in_lexicon());
        found.upper += usize::from(token.has(UPPER));
        found.seen |= token.flags;
        out.tokens[i] = token;
        if NORMS {
            out.norms[i] = norm;
        }
        found.tokens += 1;
    }

    /// The token `text[start..end]`, resolved, and (with `NORMS`) its phrase id.
    #[inline(always)]
    fn token<const NORMS: bool>(
        &self,
        cx: &mut TokenContext<'_>,
        start: usize,
        end: usize,
    ) -> (Token, u32) {
        // `strip(string.punctuation)` (to `s..e`), kept only when it leaves three
        // characters; punctuation is ASCII, so both ends are character boundaries.
        let b = cx.padded;
        let (mut s, mut e) = (start, end);
        while s < e && pytext::is_punct(b[s]) {
            s += 1;
        }
        while e > s && pytext::is_punct(b[e - 1]) {
            e -= 1;
        }
        let short = e - s <= 2
            || (!cx.ascii && e - s <= 8 && {
                let stripped = &cx.text[s..e];
                !stripped.is_ascii() && pytext::char_count_upto(stripped, 2) <= 2
            });
        let (from, to) = if short { (start, end) } else { (s, e) };
        let (id, flags) = match self.lookup_ascii(b, from, to - from) {
            Some(found) => found,
            None => self.lookup(cx.lower, &cx.text[from..to]),
        };
        let entry = self.lex.entry(id);
        let norm = if !NORMS || self.lex.phrases.is_empty() || (from, to) == (s, e) {
            id
        } else if s == e {
            self.lex.id("")
        } else {
            match self.lookup_ascii(b, s, e - s) {
                Some((norm, _)) => norm,
                None => self.lookup(cx.lower, &cx.text[s..e]).0,
            }
        };
        let token = Token {
            id,
            flags: flags | entry.flags,
            valence: entry.valence,
        };
        (token, norm)
    }

    /// Lowercase and look up the token of `n` bytes (at least one) at `at` in the
    /// padded text, eight bytes at a time: its id and its [`UPPER`] and `n't`
    /// [`NEGATION`] flags. `None` when it is longer than [`PADDED`] bytes or not ASCII.
    #[inline(always)]
    fn lookup_ascii(&self, padded: &[u8], at: usize, n: usize) -> Option<(u32, u32)> {
        debug_assert!(n > 0);
        if n <= 8 {
            // Most tokens: one word.
            let w = load(padded, at) & (u64::MAX >> (64 - 8 * n));
            if w & HI != 0 {
                return None;
            }
            let (low, up, lo) = pytext::lower_word(w);
            let mut flags = if up && !lo { UPPER } else { 0 };
            if pytext::has_byte(w, b'\'') && has_nt(&low.to_le_bytes()[..n]) {
                flags |= NEGATION;
            }
            return Some((self.lex.id_word(low, n), flags));
        }
        if n > PADDED {
            return None;
        }
        let used = n.div_ceil(8);
        let mut words = [0u64; 4];
        for (k, w) in words.iter_mut().enumerate().take(used) {
            *w = load(padded, at + 8 * k);
        }
        if !n.is_multiple_of(8) {
            words[used - 1] &= u64::MAX >> (64 - 8 * (n % 8));
        }
        if words.iter().fold(0, |a, w| a | w) & HI != 0 {
            return None;
        }
        let (mut has_upper, mut has_lower, mut apostrophe) = (false, false, false);
        for w in &mut words[..used] {
            let (low, up, lo) = pytext::lower_word(*w);
            has_upper |= up;
            has_lower |= lo;
            apostrophe |= pytext::has_byte(*w, b'\'');
            *w = low;
        }
        let mut flags = if has_upper && !has_lower { UPPER } else { 0 };
        if apostrophe {
            let mut buf = [0u8; PADDED];
            for (k, w) in words.iter().enumerate() {
                buf[8 * k..8 * k + 8].copy_from_slice(&w.to_le_bytes());
            }
            if has_nt(&buf[..n]) {
                flags |= NEGATION;
            }
        }
        Some((self.lex.id_words(&words, n), flags))
    }

    /// [`Analyzer::lookup_ascii`] for any token, through Python's `lower()`.
    #[cold]
    fn lookup(&self, lower: &mut String, kept: &str) -> (u32, u32) {
        lower.clear();
        pytext::push_lower(lower, kept);
        let upper = if pytext::is_upper(kept) { UPPER } else { 0 };
        let nt = if has_nt(lower.as_bytes()) {
            NEGATION
        } else {
            0
        };
        (self.lex.id(lower), upper | nt)
    }

    /// Customer-care and user phrases: a matched phrase's words become neutral
    /// filler, and its last word carries the phrase's valence (none when it is 0).
    fn apply_phrases(&self, tokens: &mut [Token], norms: &mut [u32]) {
        let mut i = 0;
        while i < tokens.len() {
            if self.lex.entry(norms[i]).flags & STARTS_PHRASE == 0 {
                i += 1;
                continue;
            }
            let matched = self.lex.phrases_from(norms[i]).find(|p| {
                p.words.len() <= tokens.len() - i && p.words[..] == norms[i..i + p.words.len()]
            });
            let Some(phrase) = matched else {
                i += 1;
                continue;
            };
            let end = i + phrase.words.len();
            for (t, norm) in tokens[i..end].iter_mut().zip(&mut norms[i..end]) {
                *t = Token {
                    id: NONE,
                    flags: t.flags & UPPER,
                    valence: 0.0,
                };
                *norm = NONE;
            }
            if phrase.valence != 0.0 {
                let last = &mut tokens[end - 1];
                last.valence = phrase.valence;
                // PHRASE marks the phrase as a complaint for the courtesy rule.
                last.flags |= LEXICON | PHRASE;
            }
            i = end;
        }
    }

    /// The customer-care cue rules, then the courtesy rule: courtesy words inside a
    /// complaint lose their warmth ("thanks for nothing", "please help, on hold for
    /// an hour").
    fn apply_rules(&self, tokens: &mut [Token], norms: &[u32]) {
        let lex = &self.lex;
        let threshold = lex.politeness.as_ref().map(|rule| rule.complaint_threshold);
        // A failure: a negative phrase, or a lexicon word at or below the threshold.
        let failure = |t: &Token| {
            (t.has(PHRASE) && t.valence < 0.0)
                || threshold.is_some_and(|at| t.in_lexicon() && !t.has(POLITE) && t.valence <= at)
        };
        // A resolution phrase ("refunded me", "zero fuss") answers the failures told
        // beside it: the text is no complaint for that.
        let resolved = tokens.iter().any(|t| t.has(PHRASE) && t.valence > 0.0);
        let mut complaint = !resolved && tokens.iter().any(failure);
        // Which rules fire (a rule fires once, however many cues match).
        let mut fired = [false; MAX_RULES];
        for i in 0..norms.len() {
            if lex.entry(norms[i]).flags & STARTS_CUE == 0 {
                continue;
            }
            for (r, cue) in lex.cues_from(norms[i]) {
                fired[r] |= cue.len() <= norms.len() - i && cue[..] == norms[i..i + cue.len()];
            }
        }
        for (r, rule) in lex.rules.iter().enumerate().take(MAX_RULES) {
            complaint |= fired[r] && rule.rule.marks_complaint;
        }
        for (r, rule) in lex.rules.iter().enumerate().take(MAX_RULES) {
            let rule = &rule.rule;
            if !fired[r] || (rule.unless_complaint && complaint) {
                continue;
            }
            for t in tokens.iter_mut().filter(|t| t.in_lexicon()) {
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
            for t in tokens.iter_mut().filter(|t| t.has(POLITE)) {
                t.valence = rule.in_complaint;
                if rule.in_complaint != 0.0 {
                    t.flags |= LEXICON;
                } else {
                    t.flags &= !LEXICON;
                }
            }
        }
    }

    /// The sentiment of lexicon word `i` (`polarity_scores`' main loop and
    /// `sentiment_valence`).
    fn valence(&self, t: &[Token], i: usize, cap_diff: bool) -> f64 {
        let kw = &self.lex.kw;
        let n = t.len();
        let tok = &t[i];
        // Boosters, and "kind" before "of", score 0.
        if tok.has(BOOSTER) || (tok.id == kw.kind && i < n - 1 && t[i + 1].id == kw.of) {
            return 0.0;
        }
        let mut v = tok.valence;
        // "no" before a lexicon word negates it rather than scoring itself.
        if tok.id == kw.no && i != n - 1 && t[i + 1].in_lexicon() {
            v = 0.0;
        }
        if (i > 0 && t[i - 1].id == kw.no)
            || (i > 1 && t[i - 2].id == kw.no)
            || (i > 2 && t[i - 3].id == kw.no && (t[i - 1].id == kw.or || t[i - 1].id == kw.nor))
        {
            v = tok.valence * N_SCALAR;
        }
        if tok.has(UPPER) && cap_diff {
            if v > 0.0 {
                v += C_INCR;
            } else {
                v -= C_INCR;
            }
        }
        for k in 0..3 {
            if i > k && !t[i - k - 1].in_lexicon() {
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
        self.least_check(v, t, i)
    }

    #[inline(always)]
    fn negation_check(&self, mut v: f64, t: &[Token], k: usize, i: usize) -> f64 {
        let kw = &self.lex.kw;
        let so_or_this = |id: u32| id == kw.so || id == kw.this;
        match k {
            0 => {
                if t[i - 1].has(NEGATION) {
                    v *= N_SCALAR;
                }
            }
            1 => {
                if t[i - 2].id == kw.never && so_or_this(t[i - 1].id) {
                    v *= 1.25;
                } else if t[i - 2].id == kw.without && t[i - 1].id == kw.doubt {
                } else if t[i - 2].has(NEGATION) {
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
                } else if t[i - 3].has(NEGATION) {
                    v *= N_SCALAR;
                }
            }
        }
        v
    }

    fn special_idioms_check(&self, mut v: f64, t: &[Token], i: usize) -> f64 {
        // Every idiom and two-word booster is made of flagged words only.
        if !t[i - 3..t.len().min(i + 3)].iter().any(|t| t.has(SPECIAL)) {
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

    #[inline(always)]
    fn least_check(&self, mut v: f64, t: &[Token], i: usize) -> f64 {
        let kw = &self.lex.kw;
        if i > 1 && !t[i - 1].in_lexicon() && t[i - 1].id == kw.least {
            if t[i - 2].id != kw.at && t[i - 2].id != kw.very {
                v *= N_SCALAR;
            }
        } else if i > 0 && !t[i - 1].in_lexicon() && t[i - 1].id == kw.least {
            v *= N_SCALAR;
        }
        v
    }

    /// `_but_check`, emulated literally: for each position k, the value now at k is
    /// searched for from the start and the *first equal value* is scaled (x0.5
    /// before the first "but", x1.5 after it).
    fn but_check(&self, t: &[Token], s: &mut [f64]) {
        let Some(bi) = t.iter().position(|t| t.has(BUT)) else {
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

/// The high bit of each byte of a word.
const HI: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at` of the padded text, little-endian.
#[inline(always)]
fn load(padded: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(padded[at..at + 8].try_into().expect("8 bytes"))
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

#[inline(always)]
fn scalar_inc_dec(word: &Token, valence: f64, cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if word.has(BOOSTER) {
        scalar = Entry::booster(word.flags);
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if word.has(UPPER) && cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `score_valence`: the compound score and the neg/neu/pos proportions, unrounded,
/// from the sentiments that may be non-zero, in token order, the number of other
/// tokens (which score 0) and the punctuation emphasis.
fn score_valence(sentiments: &[f64], zeros: usize, amp: f64) -> Scores {
    // `sum()` starts from the integer 0, so the sum of only zeros is +0.0; adding a
    // zero changes no other sum, so the zeros need not be added.
    let mut sum_s = 0.0;
    let (mut pos_sum, mut neg_sum, mut neu) = (0.0f64, 0.0f64, zeros);
    for &s in sentiments {
        sum_s += s;
        if s > 0.0 {
            pos_sum += s + 1.0;
        } else if s < 0.0 {
            neg_sum += s - 1.0;
        } else {
            neu += 1;
        }
    }
    if sum_s > 0.0 {
        sum_s += amp;
    } else if sum_s < 0.0 {
        sum_s -= amp;
    }
    let compound = (sum_s / (sum_s * sum_s + 15.0).sqrt()).clamp(-1.0, 1.0);
    if pos_sum > neg_sum.abs() {
        pos_sum += amp;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= amp;
    }
    let neu = neu as f64;
    let total = pos_sum + neg_sum.abs() + neu;
    Scores {
        neg: (neg_sum / total).abs(),
        neu: (neu / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}

/// Emphasis from `!` (up to 4) and `?` (2 or 3 count, more count as 0.96), over
/// the text's padded copy (its zeros count nothing), a multiple of eight bytes long.
fn punctuation_emphasis(padded: &[u8]) -> f64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    let (mut ep, mut qm) = (0u64, 0u64);
    // Counts per byte lane, eight bytes at a time, added up every 31 words (before
    // the eight lanes' sum can pass 255).
    for block in padded.chunks(8 * 31) {
        let (mut e, mut q) = (0u64, 0u64);
        for chunk in block.chunks_exact(8) {
            let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            e += pytext::byte_lanes(w, b'!');
            q += pytext::byte_lanes(w, b'?');
        }
        ep += e.wrapping_mul(LO) >> 56;
        qm += q.wrapping_mul(LO) >> 56;
    }
    let ep_amp = ep.min(4) as f64 * 0.292;
    let qm_amp = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
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
#[inline]
pub fn py_round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let y = x * scale;
    if y.abs() < 1e15 {
        // The integer part and the fraction, both exact (no libm call).
        let int = (y as i64) as f64;
        let frac = (y - int).abs();
        if (frac - 0.5).abs() > 1e-9 {
            // Far from a tie: rounding the scaled value is exact (`f64::round`, its
            // sign too), and r / 10^d is the nearest double to the decimal r * 10^-d,
            // as Python's result is.
            let r = if frac > 0.5 { int + y.signum() } else { int };
            return r.copysign(y) / scale;
        }
    }
    // Near a tie the product may have rounded across it: decide on the exact value.
    py_round_exact(x, digits)
}

#[cold]
fn py_round_exact(x: f64, digits: i32) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sentiment::lexicon::LexiconLayer;

    fn check(analyzer: &Analyzer, cases: &[(&str, [f64; 4])]) {
        let mut scratch = Scratch::default();
        for &(text, want) in cases {
            let s = analyzer.scores(text, &mut scratch);
            assert_eq!([s.neg, s.neu, s.pos, s.compound], want, "{text:?}");
            assert_eq!(analyzer.compound(text, &mut scratch), want[3], "{text:?}");
        }
    }

    /// neg, neu, pos, compound from vaderSentiment 3.3.2, on the paths a token can
    /// take: one word or several (up to the longest lexicon word, and past 32 bytes),
    /// `n't` inside longer tokens, non-ASCII tokens and whitespace, emoji, the "but"
    /// rule over sparse sentiments, punctuation emphasis, the rules' keywords.
    #[test]
    fn scores_are_the_reference() {
        let cases = [
            ("", [0.0, 0.0, 0.0, 0.0]),
            (" \t", [0.0, 0.0, 0.0, 0.0]),
            ("\u{3000}", [0.0, 0.0, 0.0, 0.0]),
            ("The book was good.", [0.0, 0.508, 0.492, 0.4404]),
            ("it is WONDERFUL", [0.0, 0.311, 0.689, 0.6633]),
            ("abandons hope", [0.442, 0.0, 0.558, 0.1531]),
            ("ABANDONED", [1.0, 0.0, 0.0, -0.4588]),
            ("advantageousness", [0.0, 0.0, 1.0, 0.3818]),
            ("Compassionateness!!", [0.0, 0.0, 1.0, 0.3578]),
            ("shouldn't've good", [0.706, 0.294, 0.0, -0.3412]),
            ("Weren'T good", [0.706, 0.294, 0.0, -0.3412]),
            ("ain't-it good", [0.706, 0.294, 0.0, -0.3412]),
            ("good but bad", [0.617, 0.13, 0.253, -0.5859]),
            ("but good", [0.0, 0.206, 0.794, 0.5927]),
            ("good but", [0.0, 0.339, 0.661, 0.2382]),
            ("bad good but great great", [0.136, 0.061, 0.803, 0.9186]),
            (
                "goooooooooooooooooooooooooooooooood good",
                [0.0, 0.256, 0.744, 0.4404],
            ),
            ("caf\u{e9} good", [0.0, 0.256, 0.744, 0.4404]),
            ("GOOD \u{c9}T\u{c9}", [0.0, 0.256, 0.744, 0.4404]),
            ("\u{130} love it", [0.0, 0.323, 0.677, 0.6369]),
            ("good\u{3000}bad", [0.547, 0.0, 0.453, -0.1531]),
            ("good\u{a0}GREAT", [0.0, 0.0, 1.0, 0.8286]),
            ("good\u{1c}great", [0.0, 0.0, 1.0, 0.7906]),
            ("\u{1f602}great", [0.322, 0.678, 0.0, -0.2263]),
            ("\u{1f644} great", [0.0, 0.494, 0.506, 0.6249]),
            ("good!!!!!!", [0.0, 0.0, 1.0, 0.6209]),
            ("good??", [0.0, 0.0, 1.0, 0.504]),
            ("good????", [0.0, 0.0, 1.0, 0.594]),
            ("it is kind of good", [0.0, 0.605, 0.395, 0.3832]),
            ("GOOD day", [0.0, 0.216, 0.784, 0.5622]),
            ("VERY good day", [0.0, 0.337, 0.663, 0.6028]),
            ("not very good", [0.567, 0.433, 0.0, -0.3865]),
            ("no good", [0.706, 0.294, 0.0, -0.3412]),
            ("never so good", [0.0, 0.348, 0.652, 0.5777]),
            ("without a doubt good", [0.0, 0.285, 0.715, 0.6136]),
            ("at least good", [0.0, 0.408, 0.592, 0.4404]),
            ("least good", [0.706, 0.294, 0.0, -0.3412]),
            ("the movie was the bomb", [0.0, 0.5, 0.5, 0.6124]),
            ("kiss of death awful", [0.645, 0.093, 0.262, -0.6249]),
        ];
        check(&Analyzer::vader(), &cases);
    }

    /// Customer-care mode as scored before tokens were compact (phrases that share
    /// a first word, cues, courtesy words inside and outside complaints).
    #[test]
    fn customer_care_scores_are_unchanged() {
        let layer: LexiconLayer =
            toml::from_str(super::super::CUSTOMER_CARE).expect("the shipped layer parses");
        let cases = [
            (
                "thanks for nothing, still waiting on my refund",
                [0.52, 0.48, 0.0, -0.7579],
            ),
            ("still waiting", [0.75, 0.25, 0.0, -0.4588]),
            (
                "Still not fixed!!! still broken",
                [0.696, 0.304, 0.0, -0.783],
            ),
            (
                "on hold for an hour, please help",
                [0.333, 0.667, 0.0, -0.4588],
            ),
            ("great job losing my bag 🙄", [0.245, 0.755, 0.0, -0.3818]),
            ("sorry to hear that, please DM us", [0.0, 1.0, 0.0, 0.0]),
            (
                "how do i change my flight? thanks",
                [0.0, 0.813, 0.187, 0.0976],
            ),
            (
                "never again, never flying with you",
                [0.636, 0.364, 0.0, -0.7906],
            ),
            (
                "the app is down again but support was lovely",
                [0.192, 0.808, 0.0, -0.2263],
            ),
            ("no refund, no reply, no answer", [0.75, 0.25, 0.0, -0.8402]),
            ("thanks a lot for the help", [0.0, 0.649, 0.351, 0.4019]),
            (
                "we'll look into it, thanks for your patience",
                [0.0, 1.0, 0.0, 0.0],
            ),
        ];
        check(&Analyzer::new(Lexicon::vader().with_layer(&layer)), &cases);
    }

    /// Customer-care mode (issue 21): a service failure, one word or a phrase, makes
    /// the text a complaint whose thanks and "please help" are no praise; a resolution
    /// beside the failure keeps the thanks; plain praise stays praise.
    #[test]
    fn customer_care_failures_outweigh_courtesy() {
        let layer: LexiconLayer =
            toml::from_str(super::super::CUSTOMER_CARE).expect("the shipped layer parses");
        let cases = [
            (
                "my flight was cancelled and I've been on hold for 2 hours. Please help!",
                [0.337, 0.663, 0.0, -0.7263],
            ),
            (
                "thanks for cancelling my flight, please help me get home",
                [0.217, 0.783, 0.0, -0.3612],
            ),
            (
                "my parcel is lost, can you please help? Thanks",
                [0.259, 0.741, 0.0, -0.4215],
            ),
            ("delayed again. love it.", [0.455, 0.545, 0.0, -0.3612]),
            (
                "paid my claim for the missed connection with zero fuss. Thank you!",
                [0.169, 0.506, 0.326, 0.4199],
            ),
            (
                "Thanks for the help today, the crew were amazing!",
                [0.0, 0.382, 0.618, 0.8655],
            ),
        ];
        check(&Analyzer::new(Lexicon::vader().with_layer(&layer)), &cases);
    }
}
