//! Python's string semantics, as far as VADER depends on them.
//!
//! The reference scorer is Python code: it splits on `str.split()`'s idea of
//! whitespace, strips `string.punctuation`, tests `str.isupper()` and looks words up
//! by `str.lower()`. Rust's standard library differs in small ways (Rust's
//! `char::is_whitespace` does not include U+001C..U+001F, for instance), so a
//! bit-exact port needs Python's rules spelled out. The ASCII cases are table
//! lookups; everything else is a short match.

/// ASCII bytes Python's `str.split()` splits on: `\t\n\v\f\r`, U+001C..U+001F, space.
const ASCII_SPACE: u128 = (1 << 0x09)
    | (1 << 0x0a)
    | (1 << 0x0b)
    | (1 << 0x0c)
    | (1 << 0x0d)
    | (1 << 0x1c)
    | (1 << 0x1d)
    | (1 << 0x1e)
    | (1 << 0x1f)
    | (1 << 0x20);

/// `string.punctuation`: ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``.
const ASCII_PUNCT: u128 = {
    let mut bits = 0u128;
    let p = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    let mut i = 0;
    while i < p.len() {
        bits |= 1 << p[i];
        i += 1;
    }
    bits
};

/// Byte classes, one table load per byte: bit 0 ASCII whitespace, bit 1
/// `string.punctuation`.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        if ASCII_SPACE & (1 << b) != 0 {
            t[b] |= 1;
        }
        if ASCII_PUNCT & (1 << b) != 0 {
            t[b] |= 2;
        }
        b += 1;
    }
    t
};

/// Is the ASCII byte `b` whitespace for Python's `str.split()`?
///
/// ```
/// use socialcx::engine::sentiment::pytext::is_ascii_space;
/// assert!(is_ascii_space(0x1f) && is_ascii_space(b' ') && !is_ascii_space(b'a'));
/// ```
#[inline]
pub fn is_ascii_space(b: u8) -> bool {
    CLASS[b as usize] & 1 != 0
}

/// Is `b` one of `string.punctuation`?
///
/// ```
/// use socialcx::engine::sentiment::pytext::is_punct;
/// assert!(is_punct(b'#') && !is_punct(b'a'));
/// ```
#[inline]
pub fn is_punct(b: u8) -> bool {
    CLASS[b as usize] & 2 != 0
}

/// Is `c` whitespace for Python's `str.isspace()` (and so for `split()`/`strip()`)?
///
/// ```
/// use socialcx::engine::sentiment::pytext::is_space;
/// assert!(is_space('\u{3000}') && is_space('\u{1c}') && !is_space('\u{200b}'));
/// ```
#[inline]
pub fn is_space(c: char) -> bool {
    let u = c as u32;
    if u < 128 {
        return is_ascii_space(u as u8);
    }
    matches!(
        u,
        0x85 | 0xa0 | 0x1680 | 0x2000..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000
    )
}

/// Python's `str.strip()` with no argument.
///
/// ```
/// use socialcx::engine::sentiment::pytext::strip;
/// assert_eq!(strip("\u{1c} hi \u{a0}"), "hi");
/// ```
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.isupper()`: at least one cased character and no lowercase or
/// titlecase one.
///
/// ```
/// use socialcx::engine::sentiment::pytext::is_upper;
/// assert!(is_upper("I'M") && is_upper(":D") && !is_upper("123") && !is_upper("Ok"));
/// ```
pub fn is_upper(s: &str) -> bool {
    let mut cased = false;
    if s.is_ascii() {
        for &b in s.as_bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Unicode general category Lt (titlecase letters), which Python's `isupper()`
/// rejects and Rust has no predicate for.
fn is_titlecase(c: char) -> bool {
    matches!(
        c as u32,
        0x01c5
            | 0x01c8
            | 0x01cb
            | 0x01f2
            | 0x1f88..=0x1f8f
            | 0x1f98..=0x1f9f
            | 0x1fa8..=0x1faf
            | 0x1fbc
            | 0x1fcc
            | 0x1ffc
    )
}

/// Append Python's `s.lower()` to `out`.
///
/// ```
/// let mut out = String::new();
/// socialcx::engine::sentiment::pytext::push_lower(&mut out, "GREAT");
/// assert_eq!(out, "great");
/// ```
pub fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else if s.contains('\u{3a3}') {
        // `str::to_lowercase` applies the same final-sigma rule as Python.
        out.push_str(&s.to_lowercase());
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// Python's `token.strip(string.punctuation)`.
///
/// ```
/// use socialcx::engine::sentiment::pytext::strip_punct;
/// assert_eq!(strip_punct("#fail!!"), "fail");
/// ```
#[inline]
pub fn strip_punct(s: &str) -> &str {
    let b = s.as_bytes();
    let mut start = 0;
    let mut end = b.len();
    while start < end && is_punct(b[start]) {
        start += 1;
    }
    while end > start && is_punct(b[end - 1]) {
        end -= 1;
    }
    // Punctuation is ASCII, so these are character boundaries.
    &s[start..end]
}

/// Number of code points in `s` (Python's `len`), stopping once it exceeds `limit`.
#[inline]
pub fn char_count_upto(s: &str, limit: usize) -> usize {
    if s.len() <= limit {
        return s.chars().count();
    }
    // At most 4 bytes per char: a string longer than 4*limit bytes has > limit chars.
    if s.len() > 4 * limit {
        return limit + 1;
    }
    s.chars().take(limit + 1).count()
}

// Word-at-a-time (SWAR) helpers for ASCII text: eight bytes per step.
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of the ASCII word `w` that is `>= n` (n <= 0x80).
#[inline]
fn ge(w: u64, n: u8) -> u64 {
    ((w | HI).wrapping_sub(LO * u64::from(n))) & HI
}

/// High bit set in each byte of the ASCII word `w` that is `< n`.
#[inline]
pub fn lt(w: u64, n: u8) -> u64 {
    ge(w, n) ^ HI
}

/// Lowercase an ASCII word; also says whether it held upper- and lowercase letters.
///
/// ```
/// let (w, upper, lower) = socialcx::engine::sentiment::pytext::lower_word(u64::from_le_bytes(*b"I'M ok\0\0"));
/// assert_eq!(&w.to_le_bytes(), b"i'm ok\0\0");
/// assert!(upper && lower);
/// ```
#[inline]
pub fn lower_word(w: u64) -> (u64, bool, bool) {
    let upper = ge(w, b'A') & !ge(w, b'Z' + 1);
    let lower = ge(w, b'a') & !ge(w, b'z' + 1);
    (w | (upper >> 2), upper != 0, lower != 0)
}

/// Does the ASCII word `w` hold the byte `b`?
#[inline]
pub fn has_byte(w: u64, b: u8) -> bool {
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI != 0
}

/// 1 in each byte of `w` that equals `b`, 0 in the others.
///
/// ```
/// let w = u64::from_le_bytes(*b"ok!? !!\0");
/// assert_eq!(socialcx::engine::sentiment::pytext::byte_lanes(w, b'!'), 0x0001_0100_0001_0000);
/// ```
#[inline]
pub fn byte_lanes(w: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (LO * u64::from(b));
    // High bit of each byte: set when the byte of x is not zero (no carries across).
    let nonzero = ((x & LOW7) + LOW7) | x;
    (!nonzero & HI) >> 7
}
