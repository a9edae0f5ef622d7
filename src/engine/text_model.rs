//! Learned layers over the text functions: a linear model (multinomial logistic
//! regression) over a text's tokens, its adjacent token pairs and a few dense inputs the
//! lexicon-based scorer computed, with its weights as data (a TSV file). The customer-care
//! sentiment ships one ([`crate::engine::sentiment::model`]), written by
//! `datasets/text_models/train.py`.
//!
//! **Tokens** (`datasets/text_models/tokens.py` mirrors this exactly): the text is
//! split on whitespace; a chunk starting with `http://`, `https://` or `www.` is one token
//! `http`. Within a chunk, runs of letters and digits are words, lowercased, each run of
//! ASCII digits written `0` (`2hrs` → `0hrs`); an apostrophe (`'` or `’`) inside a word is
//! kept (`don't`), at its edges dropped. `@name` is the token `@` (no handle is a feature),
//! a `#` is a separator (`#fail` → `fail`), a run of `!` is `!` and a run of `?` is `?`.
//! Emoji variation selectors, zero-width joiners and skin tones are skipped; every other
//! character that is not ASCII, a letter or a digit (an emoji, `…`) is a token of its own;
//! other ASCII punctuation separates. Features are every token and every pair of adjacent
//! tokens, counted.
//!
//! **File**: `#` comments, then tab-separated rows: an optional `classes` row naming the
//! classes in column order, `bias`, `dense:<input>` rows, and feature rows (a token, or two
//! tokens separated by one space), each followed by one weight per class.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Error, Result};

/// The most classes a model may have.
pub const MAX_CLASSES: usize = 8;

/// Keys are already well-mixed 64-bit hashes: the map uses them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// murmur3's finaliser: spreads FNV's bits over the whole word.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A token being hashed byte by byte (FNV-1a), as [`token_hash`] hashes a whole one.
#[derive(Clone, Copy)]
struct TokenHash(u64);

impl TokenHash {
    fn new() -> TokenHash {
        TokenHash(FNV_OFFSET)
    }
    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    fn char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            self.byte(b);
        }
    }
    fn finish(self) -> u64 {
        mix(self.0)
    }
}

/// The hash of one token's text.
fn token_hash(token: &str) -> u64 {
    let mut h = TokenHash::new();
    token.bytes().for_each(|b| h.byte(b));
    h.finish()
}

/// The hash of two adjacent tokens.
fn pair_hash(first: u64, second: u64) -> u64 {
    mix(first.rotate_left(23) ^ second.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Characters that decorate the one before them (emoji presentation, joiners, skin
/// tones): skipped.
fn is_decoration(c: char) -> bool {
    matches!(
        c,
        '\u{fe0e}' | '\u{fe0f}' | '\u{200d}' | '\u{1f3fb}'..='\u{1f3ff}'
    )
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

/// Calls `emit` with the hash of each token of `text`, in order (see the module docs).
///
/// ```
/// # use socialcx::engine::text_model::tokens;
/// let mut n = 0;
/// tokens("@SkyJet 2hrs on hold!!! don't… https://x.co/a #fail 😡", |_| n += 1);
/// assert_eq!(n, 10); // @ 0hrs on hold ! don't … http fail 😡
/// ```
pub fn tokens(text: &str, mut emit: impl FnMut(u64)) {
    if text.is_ascii() {
        // The same chunks without decoding UTF-8: `char::is_whitespace` of an ASCII byte
        // is tab, line feed, vertical tab, form feed, carriage return or space.
        let space = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
        for chunk in text.as_bytes().split(space).filter(|c| !c.is_empty()) {
            chunk_tokens(chunk, chunk.iter().map(|&b| char::from(b)), &mut emit);
        }
    } else {
        for chunk in text.split(char::is_whitespace).filter(|c| !c.is_empty()) {
            chunk_tokens(chunk.as_bytes(), chunk.chars(), &mut emit);
        }
    }
}

/// The tokens of one whitespace-free chunk: `head` is its bytes, `chars` its characters.
fn chunk_tokens(head: &[u8], chars: impl Iterator<Item = char>, emit: &mut impl FnMut(u64)) {
    let starts = |prefix: &[u8]| {
        head.len() >= prefix.len() && head[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    if matches!(head[0], b'h' | b'H' | b'w' | b'W')
        && (starts(b"http://") || starts(b"https://") || starts(b"www."))
    {
        emit(token_hash("http"));
        return;
    }
    let mut word = TokenHash::new();
    let mut in_word = false;
    let mut last_digit = false;
    let mut apostrophes = 0usize;
    let mut last_mark: Option<char> = None;
    let mut chars = chars.peekable();
    macro_rules! end_word {
        () => {
            if in_word {
                emit(word.finish());
                word = TokenHash::new();
                in_word = false;
                last_digit = false;
                apostrophes = 0;
            }
        };
    }
    while let Some(c) = chars.next() {
        if is_word_char(c) {
            for _ in 0..apostrophes {
                word.byte(b'\'');
            }
            apostrophes = 0;
            if c.is_ascii_digit() {
                if !last_digit {
                    word.byte(b'0');
                }
                last_digit = true;
            } else {
                last_digit = false;
                if c.is_ascii() {
                    word.byte(c.to_ascii_lowercase() as u8);
                } else {
                    c.to_lowercase().for_each(|l| word.char(l));
                }
            }
            in_word = true;
            last_mark = None;
            continue;
        }
        if c == '\'' || c == '\u{2019}' {
            if in_word {
                apostrophes += 1;
            }
            continue;
        }
        if is_decoration(c) {
            continue;
        }
        end_word!();
        match c {
            '@' => {
                let mut handle = false;
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        handle = true;
                        chars.next();
                    } else {
                        break;
                    }
                }
                if handle {
                    emit(token_hash("@"));
                }
                last_mark = None;
            }
            '!' | '?' => {
                if last_mark != Some(c) {
                    let mut buf = [0u8; 4];
                    emit(token_hash(c.encode_utf8(&mut buf)));
                }
                last_mark = Some(c);
            }
            c if c.is_ascii() => last_mark = None,
            c => {
                let mut h = TokenHash::new();
                h.char(c);
                emit(h.finish());
                last_mark = None;
            }
        }
    }
    if in_word {
        emit(word.finish());
    }
}

/// Bits of the feature filter: 32 KiB, so it stays in cache.
const FILTER_BITS: usize = 1 << 18;

/// A linear model over a text's tokens, token pairs and dense inputs (see the module docs).
#[derive(Clone)]
pub struct LinearModel {
    classes: usize,
    bias: [f32; MAX_CLASSES],
    /// Per dense input, its weights.
    dense: Vec<[f32; MAX_CLASSES]>,
    /// Feature hash -> its row in `weights`.
    index: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    weights: Vec<[f32; MAX_CLASSES]>,
    /// Bit `h % FILTER_BITS` is set for every feature's hash `h`: most token pairs are
    /// not features, and this turns them away before the map is read.
    filter: Box<[u64; FILTER_BITS / 64]>,
}

impl std::fmt::Debug for LinearModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearModel")
            .field("classes", &self.classes)
            .field("features", &self.weights.len())
            .finish_non_exhaustive()
    }
}

impl LinearModel {
    /// Parse a model file (see the module docs) for `classes` (a `classes` row, if any,
    /// must name them in this order) and the dense inputs `dense`.
    ///
    /// ```
    /// use socialcx::engine::text_model::LinearModel;
    /// let m = LinearModel::parse("bias\t0\t0\nhold\t1\t-1\n", "m.tsv", &["a", "b"], &[]).unwrap();
    /// assert_eq!(m.len(), 1);
    /// assert!(LinearModel::parse("hold\t1\n", "m.tsv", &["a", "b"], &[]).is_err());
    /// assert!(LinearModel::parse("classes\tb\ta\n", "m.tsv", &["a", "b"], &[]).is_err());
    /// ```
    pub fn parse(text: &str, origin: &str, classes: &[&str], dense: &[&str]) -> Result<Self> {
        assert!(
            classes.len() <= MAX_CLASSES,
            "at most {MAX_CLASSES} classes"
        );
        let k = classes.len();
        let mut model = LinearModel {
            classes: k,
            bias: [0.0; MAX_CLASSES],
            dense: vec![[0.0; MAX_CLASSES]; dense.len()],
            index: HashMap::default(),
            weights: Vec::new(),
            filter: Box::new([0; FILTER_BITS / 64]),
        };
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                |why: String| Error::config(origin, format!("line {}: {why}: {line:?}", n + 1));
            let (name, rest) = line.split_once('\t').unwrap_or((line, ""));
            if name == "classes" {
                let named: Vec<&str> = rest.split('\t').collect();
                if named != classes {
                    return Err(bad(format!("the classes must be {}", classes.join(", "))));
                }
                continue;
            }
            let mut w = [0f32; MAX_CLASSES];
            let cells: Vec<&str> = if rest.is_empty() {
                vec![]
            } else {
                rest.split('\t').collect()
            };
            if cells.len() != k {
                return Err(bad(format!("expected a name and {k} weights")));
            }
            for (slot, cell) in w.iter_mut().zip(cells) {
                *slot = cell
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad("a weight is not a finite number".into()))?;
            }
            if name == "bias" {
                model.bias = w;
            } else if let Some(input) = name.strip_prefix("dense:") {
                let i = dense.iter().position(|d| *d == input).ok_or_else(|| {
                    bad(format!("unknown dense input (known: {})", dense.join(", ")))
                })?;
                model.dense[i] = w;
            } else {
                let key = match name.split_once(' ') {
                    None if !name.is_empty() => token_hash(name),
                    Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains(' ') => {
                        pair_hash(token_hash(a), token_hash(b))
                    }
                    _ => return Err(bad("a feature is one token or two".into())),
                };
                let row = u32::try_from(model.weights.len()).expect("fewer than 2^32 features");
                if model.index.insert(key, row).is_some() {
                    return Err(bad("a feature listed twice".into()));
                }
                model.weights.push(w);
                let bit = key as usize % FILTER_BITS;
                model.filter[bit / 64] |= 1 << (bit % 64);
            }
        }
        Ok(model)
    }

    /// How many token and pair features the model weighs.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the model weighs no token at all.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Each class's score before the softmax (the bias, the dense inputs' and the features'
    /// weights summed): the most probable class has the highest, at no `exp` per class.
    ///
    /// ```
    /// use socialcx::engine::text_model::LinearModel;
    /// let m = LinearModel::parse("bias\t0\t1\nhold\t0\t2\n", "m.tsv", &["a", "b"], &[]).unwrap();
    /// assert_eq!(m.logits("on hold", &[])[..2], [0.0, 3.0]);
    /// ```
    pub fn logits(&self, text: &str, dense: &[f64]) -> [f32; MAX_CLASSES] {
        let k = self.classes;
        let mut logits = self.bias;
        for (x, w) in dense.iter().zip(&self.dense) {
            for c in 0..k {
                logits[c] += *x as f32 * w[c];
            }
        }
        let mut add = |key: u64| {
            let bit = key as usize % FILTER_BITS;
            if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
                return;
            }
            if let Some(&row) = self.index.get(&key) {
                let w = &self.weights[row as usize];
                for c in 0..k {
                    logits[c] += w[c];
                }
            }
        };
        let mut previous: Option<u64> = None;
        tokens(text, |h| {
            add(h);
            if let Some(p) = previous {
                add(pair_hash(p, h));
            }
            previous = Some(h);
        });
        logits
    }

    /// The class probabilities of `text` with dense inputs `dense` (in the order given to
    /// [`LinearModel::parse`]); the first `classes` entries are set.
    ///
    /// ```
    /// use socialcx::engine::text_model::LinearModel;
    /// let m = LinearModel::parse("bias\t0\t0\nhold\t0\t2\ndense:x\t1\t0\n", "m.tsv", &["a", "b"], &["x"]).unwrap();
    /// let p = m.probabilities("on hold", &[0.0]);
    /// assert!(p[1] > 0.8 && (p[0] + p[1] - 1.0).abs() < 1e-9);
    /// ```
    pub fn probabilities(&self, text: &str, dense: &[f64]) -> [f64; MAX_CLASSES] {
        let k = self.classes;
        let logits = self.logits(text, dense);
        let top = logits[..k].iter().copied().fold(f32::MIN, f32::max);
        let mut p = [0.0; MAX_CLASSES];
        let mut sum = 0.0;
        for c in 0..k {
            p[c] = f64::from(logits[c] - top).exp();
            sum += p[c];
        }
        for v in &mut p[..k] {
            *v /= sum;
        }
        p
    }
}

/// Which learned layer a text function runs (`care_model` in a lexicon file).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum ModelChoice {
    /// `true`: the shipped model; `false`: none, the lexicon alone.
    Shipped(bool),
    /// A model file in the shipped one's format, e.g. trained on your own labelled posts
    /// by `datasets/text_models/train.py`; a relative path is read from the directory of
    /// the file that names it.
    File(PathBuf),
}

impl Default for ModelChoice {
    fn default() -> Self {
        ModelChoice::Shipped(true)
    }
}

impl ModelChoice {
    /// A relative model path made relative to `config`, the file that names it.
    pub fn resolve(&mut self, config: &Path) {
        if let ModelChoice::File(model) = self
            && model.is_relative()
        {
            *model = config.parent().unwrap_or(Path::new("")).join(&*model);
        }
    }

    /// The model file's bytes, when the choice is a file (for fingerprints).
    pub fn file_bytes(&self) -> Result<Option<Vec<u8>>> {
        match self {
            ModelChoice::File(path) => std::fs::read(path)
                .map(Some)
                .map_err(|e| Error::io(path.display().to_string(), e)),
            ModelChoice::Shipped(_) => Ok(None),
        }
    }

    /// The model this choice names: `shipped()`, none, or the file parsed by `parse`.
    ///
    /// ```
    /// use socialcx::engine::text_model::ModelChoice;
    /// let off = ModelChoice::Shipped(false).load(|| std::sync::Arc::new(1), |_, _| Ok(2)).unwrap();
    /// assert!(off.is_none());
    /// ```
    pub fn load<T>(
        &self,
        shipped: impl FnOnce() -> Arc<T>,
        parse: impl FnOnce(&str, &str) -> Result<T>,
    ) -> Result<Option<Arc<T>>> {
        match self {
            ModelChoice::Shipped(true) => Ok(Some(shipped())),
            ModelChoice::Shipped(false) => Ok(None),
            ModelChoice::File(path) => {
                let origin = path.display().to_string();
                let text = std::fs::read_to_string(path).map_err(|e| Error::io(&origin, e))?;
                Ok(Some(Arc::new(parse(&text, &origin)?)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<u64> {
        let mut v = Vec::new();
        tokens(text, |h| v.push(h));
        v
    }

    fn hashes(tokens: &[&str]) -> Vec<u64> {
        tokens.iter().map(|t| token_hash(t)).collect()
    }

    #[test]
    fn tokens_follow_the_documented_rules() {
        assert_eq!(
            names("@SkyJet 2hrs on HOLD!!! don't… https://x.co/a #fail 😡 'quoted'"),
            hashes(&[
                "@", "0hrs", "on", "hold", "!", "don't", "…", "http", "fail", "😡", "quoted"
            ])
        );
        assert_eq!(
            names("why?!? ua123 at 10:45 👍🏼❤️ café's"),
            hashes(&[
                "why", "?", "!", "?", "ua0", "at", "0", "0", "👍", "❤", "café's"
            ])
        );
        assert_eq!(names("a@b x @ y"), hashes(&["a", "@", "x", "y"]));
        assert_eq!(names("   "), hashes(&[]));
    }

    #[test]
    fn ascii_text_takes_the_same_tokens_as_unicode_text() {
        // An ASCII text is split on bytes, any other on characters: the same chunks.
        // (A link is one token only at the start of a chunk.)
        let ascii = "Hold\ton!! 2hrs\x0bwww.x.co\x0chttp://y @Sky_Jet\rwww.z it's\x1fok";
        assert!(ascii.is_ascii());
        let mut both = names(&format!("{ascii} é"));
        assert_eq!(both.pop(), Some(token_hash("é")));
        assert_eq!(names(ascii), both);
        assert_eq!(
            names(ascii),
            hashes(&[
                "hold", "on", "!", "0hrs", "http", "http", "@", "http", "it's", "ok"
            ])
        );
    }

    #[test]
    fn pairs_and_counts_add_up() {
        let m = LinearModel::parse(
            "classes\ta\tb\nbias\t0\t0\nhold\t0\t1\non hold\t0\t1\n",
            "m.tsv",
            &["a", "b"],
            &[],
        )
        .unwrap();
        // "on hold": the token and the pair, 2 logits; "hold hold": the token twice.
        let p = m.probabilities("on hold", &[]);
        let q = m.probabilities("hold hold", &[]);
        let r = m.probabilities("hold on", &[]);
        assert!(
            (p[1] - q[1]).abs() < 1e-12 && p[1] > r[1],
            "{p:?} {q:?} {r:?}"
        );
        assert!((r[1] - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-6, "{r:?}");
    }
}
