//! Validating one input row of our schema, whatever file format it came in.
//!
//! Each reader exposes a row as [`Fields`] (a JSON object, a CSV record, a Parquet
//! row); [`conversation_from_fields`] checks it and builds a [`Conversation`], or says
//! in one sentence why the row cannot land (that sentence goes to the quarantine).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::model::{Conversation, tagged_words};

/// One value of an input row.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    #[default]
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
    /// A nested object: never valid for a column of ours.
    Object,
    /// An instant whose unit the input stated (a Parquet timestamp), in µs since the
    /// epoch; `None` when converting it to µs overflowed.
    Instant(Option<i64>),
    /// Bytes that are not UTF-8 text (a binary column).
    Bytes,
}

/// Named access to the values of one input row.
pub trait Fields {
    /// The value of field `name`; [`Value::Null`] when absent.
    fn get(&self, name: &str) -> Value<'_>;
}

type Check<T> = Result<T, String>;

fn required_str(f: &dyn Fields, name: &str) -> Check<String> {
    optional_str(f, name)?.ok_or_else(|| format!("missing {name}"))
}

fn optional_str(f: &dyn Fields, name: &str) -> Check<Option<String>> {
    match f.get(name) {
        Value::Null => Ok(None),
        Value::Str(s) => {
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        Value::Int(i) => Ok(Some(i.to_string())),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => Ok(Some((x as i64).to_string())),
        other => Err(format!(
            "{name}: expected a string, found {}",
            describe(&other)
        )),
    }
}

fn describe(v: &Value<'_>) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Str(s) => format!("'{}'", truncate(s, 40)),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(_) => "a list".into(),
        Value::Object => "an object".into(),
        Value::Instant(Some(us)) => format!("the instant {us} µs"),
        Value::Instant(None) => "an instant out of range".into(),
        Value::Bytes => "bytes that are not UTF-8 text".into(),
    }
}

/// `x` as a whole number of Int64's range, or `None`.
fn whole(x: f64) -> Option<i64> {
    // 2^63 is exactly representable; everything below it fits.
    (x.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x))
        .then_some(x as i64)
}

fn truncate(s: &str, n: usize) -> Cow<'_, str> {
    match s.char_indices().nth(n) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

fn optional_count(f: &dyn Fields, name: &str) -> Check<Option<i64>> {
    let v = match f.get(name) {
        Value::Null => return Ok(None),
        Value::Int(i) => i,
        Value::Float(x) => {
            whole(x).ok_or_else(|| format!("{name}: not a whole number in range: {x}"))?
        }
        Value::Str(s) if s.trim().is_empty() => return Ok(None),
        Value::Str(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(whole))
                .ok_or_else(|| {
                    format!("{name}: not a whole number in range: '{}'", truncate(t, 40))
                })?
        }
        other => {
            return Err(format!(
                "{name}: expected a number, found {}",
                describe(&other)
            ));
        }
    };
    if v < 0 {
        return Err(format!("{name}: negative ({v})"));
    }
    Ok(Some(v))
}

fn optional_bool(f: &dyn Fields, name: &str) -> Check<Option<bool>> {
    match f.get(name) {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Int(0) => Ok(Some(false)),
        Value::Int(1) => Ok(Some(true)),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "t" | "yes" | "y" | "1" => Ok(Some(true)),
            "false" | "f" | "no" | "n" | "0" => Ok(Some(false)),
            _ => Err(format!("{name}: not a boolean: '{}'", truncate(&s, 40))),
        },
        other => Err(format!(
            "{name}: expected a boolean, found {}",
            describe(&other)
        )),
    }
}

/// A list given as a list, a JSON array in a string, or words separated by spaces or
/// commas (with or without a leading `@`/`#`).
fn optional_list(f: &dyn Fields, name: &str) -> Check<Option<Vec<String>>> {
    let clean = |s: &str| s.trim().trim_start_matches(['@', '#']).to_string();
    match f.get(name) {
        Value::Null => Ok(None),
        Value::List(items) => Ok(Some(
            items
                .iter()
                .map(|s| clean(s))
                .filter(|s| !s.is_empty())
                .collect(),
        )),
        Value::Str(s) => {
            let t = s.trim();
            if t.starts_with('[') {
                let items: Vec<String> = serde_json::from_str(t)
                    .map_err(|e| format!("{name}: not a JSON list of strings: {e}"))?;
                return Ok(Some(
                    items
                        .iter()
                        .map(|s| clean(s))
                        .filter(|s| !s.is_empty())
                        .collect(),
                ));
            }
            Ok(Some(
                t.split([',', ' ', ';', '|'])
                    .map(clean)
                    .filter(|s| !s.is_empty())
                    .collect(),
            ))
        }
        other => Err(format!(
            "{name}: expected a list, found {}",
            describe(&other)
        )),
    }
}

/// Parse an instant: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f]` (UTC), a bare date, the
/// Twitter layout `Tue Oct 31 22:10:47 +0000 2017`, or epoch seconds, milliseconds or
/// microseconds. Returns microseconds since the epoch.
///
/// ```
/// use socialcx::ingest::fields::parse_instant;
/// let a = parse_instant("2017-10-31T22:10:47Z").unwrap();
/// assert_eq!(parse_instant("Tue Oct 31 22:10:47 +0000 2017").unwrap(), a);
/// assert_eq!(parse_instant("1509487847").unwrap(), a);
/// ```
pub fn parse_instant(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(epoch_to_micros(n));
    }
    if let Ok(x) = DateTime::parse_from_rfc3339(t) {
        return Some(x.with_timezone(&Utc).timestamp_micros());
    }
    for fmt in [
        "%a %b %d %H:%M:%S %z %Y",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(x) = DateTime::parse_from_str(t, fmt) {
            return Some(x.with_timezone(&Utc).timestamp_micros());
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(x) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(x.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|x| x.and_utc().timestamp_micros())
}

/// Epoch seconds, milliseconds or microseconds (told apart by magnitude) to µs.
fn epoch_to_micros(n: i64) -> i64 {
    match n.unsigned_abs() {
        0..100_000_000_000 => n * 1_000_000,
        100_000_000_000..100_000_000_000_000 => n * 1_000,
        _ => n,
    }
}

fn required_instant(f: &dyn Fields, name: &str) -> Check<i64> {
    let micros = match f.get(name) {
        Value::Null => return Err(format!("missing {name}")),
        Value::Int(n) => epoch_to_micros(n),
        Value::Float(x) => {
            epoch_to_micros(whole(x.trunc()).ok_or_else(|| format!("{name}: out of range ({x})"))?)
        }
        // The input said its unit: no guessing by magnitude.
        Value::Instant(Some(us)) => us,
        Value::Instant(None) => {
            return Err(format!("{name}: out of range (overflows µs since 1970)"));
        }
        Value::Str(s) => parse_instant(&s)
            .ok_or_else(|| format!("{name}: cannot parse '{}' as a time", truncate(&s, 40)))?,
        other => {
            return Err(format!(
                "{name}: expected a time, found {}",
                describe(&other)
            ));
        }
    };
    // Years 1990..2200: anything else is a unit mistake, not a social post.
    if !(631_152_000_000_000..7_258_118_400_000_000).contains(&micros) {
        return Err(format!("{name}: out of range ({micros} µs since 1970)"));
    }
    Ok(micros)
}

/// Validate one row of our schema. `Err` holds the reason, for the quarantine.
///
/// ```
/// use socialcx::ingest::fields::{conversation_from_fields, Fields, Value};
/// struct Row(serde_json::Value);
/// impl Fields for Row {
///     fn get(&self, name: &str) -> Value<'_> {
///         match self.0.get(name) {
///             Some(serde_json::Value::String(s)) => Value::Str(s.as_str().into()),
///             _ => Value::Null,
///         }
///     }
/// }
/// let row = Row(serde_json::json!({"conversation_id": "1", "channel": "twitter",
///     "brand": "acme", "author_id": "u1", "created_at": "2026-01-05T10:00:00Z",
///     "text": "hi @acme #help"}));
/// let c = conversation_from_fields(&row).unwrap();
/// assert_eq!(c.mentions, vec!["acme".to_string()]);
/// assert!(conversation_from_fields(&Row(serde_json::json!({}))).is_err());
/// ```
pub fn conversation_from_fields(f: &dyn Fields) -> Result<Conversation, String> {
    let conversation_id = required_str(f, "conversation_id")?;
    let parent_id = optional_str(f, "parent_id")?;
    if parent_id.as_deref() == Some(conversation_id.as_str()) {
        return Err("parent_id equals conversation_id".into());
    }
    let text = match f.get("text") {
        Value::Null => return Err("missing text".into()),
        Value::Str(s) => s.into_owned(),
        other => {
            return Err(format!(
                "text: expected a string, found {}",
                describe(&other)
            ));
        }
    };
    let rating = match optional_count(f, "rating")? {
        Some(r) if r > 10 => return Err(format!("rating: {r} is outside 0..=10")),
        r => r.map(|r| r as i32),
    };
    let mentions = match optional_list(f, "mentions")? {
        Some(m) => m,
        None => tagged_words(&text, '@'),
    };
    let hashtags = match optional_list(f, "hashtags")? {
        Some(h) => h.into_iter().map(|h| h.to_lowercase()).collect(),
        None => tagged_words(&text, '#'),
    };
    Ok(Conversation {
        thread_id: optional_str(f, "thread_id")?,
        parent_id,
        parent_author_id: None,
        channel: required_str(f, "channel")?.to_lowercase(),
        brand: required_str(f, "brand")?,
        author_id: required_str(f, "author_id")?,
        author_followers: optional_count(f, "author_followers")?,
        is_brand: optional_bool(f, "is_brand")?.unwrap_or(false),
        created_at: required_instant(f, "created_at")?,
        lang: optional_str(f, "lang")?,
        likes: optional_count(f, "likes")?.unwrap_or(0),
        shares: optional_count(f, "shares")?.unwrap_or(0),
        replies: optional_count(f, "replies")?.unwrap_or(0),
        mentions,
        hashtags,
        rating,
        text,
        conversation_id,
    })
}

impl<'a> Value<'a> {
    /// The same value, borrowing from `self` (cheap for strings and numbers).
    pub fn reborrow(&self) -> Value<'_> {
        match self {
            Value::Null => Value::Null,
            Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
            Value::Int(i) => Value::Int(*i),
            Value::Float(x) => Value::Float(*x),
            Value::Bool(b) => Value::Bool(*b),
            Value::List(items) => Value::List(items.clone()),
            Value::Object => Value::Object,
            Value::Instant(us) => Value::Instant(*us),
            Value::Bytes => Value::Bytes,
        }
    }
}

/// Deserializes any JSON value, borrowing strings from the input where it can: no
/// map or key strings are built for a row.
impl<'de: 'a, 'a> serde::Deserialize<'de> for Value<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor(std::marker::PhantomData))
    }
}

struct ValueVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for ValueVisitor<'a> {
    type Value = Value<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value<'a>>()? {
            match item {
                Value::Null => {}
                Value::Str(s) => items.push(s.into_owned()),
                Value::Int(i) => items.push(i.to_string()),
                Value::Float(x) => items.push(x.to_string()),
                Value::Bool(b) => items.push(b.to_string()),
                Value::List(_) | Value::Object | Value::Instant(_) | Value::Bytes => {
                    items.push("…".into())
                }
            }
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Value::Object)
    }
}

/// One NDJSON line of our schema, deserialized in place (unknown keys are ignored).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct JsonRow<'a> {
    #[serde(borrow)]
    conversation_id: Value<'a>,
    #[serde(borrow)]
    thread_id: Value<'a>,
    #[serde(borrow)]
    parent_id: Value<'a>,
    #[serde(borrow)]
    channel: Value<'a>,
    #[serde(borrow)]
    brand: Value<'a>,
    #[serde(borrow)]
    author_id: Value<'a>,
    #[serde(borrow)]
    author_followers: Value<'a>,
    #[serde(borrow)]
    is_brand: Value<'a>,
    #[serde(borrow)]
    created_at: Value<'a>,
    #[serde(borrow)]
    text: Value<'a>,
    #[serde(borrow)]
    lang: Value<'a>,
    #[serde(borrow)]
    likes: Value<'a>,
    #[serde(borrow)]
    shares: Value<'a>,
    #[serde(borrow)]
    replies: Value<'a>,
    #[serde(borrow)]
    mentions: Value<'a>,
    #[serde(borrow)]
    hashtags: Value<'a>,
    #[serde(borrow)]
    rating: Value<'a>,
}

impl Fields for JsonRow<'_> {
    fn get(&self, name: &str) -> Value<'_> {
        let v = match name {
            "conversation_id" => &self.conversation_id,
            "thread_id" => &self.thread_id,
            "parent_id" => &self.parent_id,
            "channel" => &self.channel,
            "brand" => &self.brand,
            "author_id" => &self.author_id,
            "author_followers" => &self.author_followers,
            "is_brand" => &self.is_brand,
            "created_at" => &self.created_at,
            "text" => &self.text,
            "lang" => &self.lang,
            "likes" => &self.likes,
            "shares" => &self.shares,
            "replies" => &self.replies,
            "mentions" => &self.mentions,
            "hashtags" => &self.hashtags,
            "rating" => &self.rating,
            _ => return Value::Null,
        };
        v.reborrow()
    }
}
