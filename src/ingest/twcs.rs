//! The public "Customer Support on Twitter" layout (TWCS), mapped onto our schema.
//!
//! Columns: `tweet_id, author_id, inbound, created_at, text, response_tweet_id,
//! in_response_to_tweet_id`. The mapping:
//!
//! | ours | from |
//! |---|---|
//! | `conversation_id` | `tweet_id` |
//! | `parent_id` | `in_response_to_tweet_id` (`119237.0` read as `119237`) |
//! | `thread_id` | rebuilt by following the reply links (see [`super::threads`]) |
//! | `channel` | `twitter` |
//! | `is_brand` | `inbound = False` (the company's own support account) |
//! | `brand` | the support account: the author for brand tweets; for customer tweets the first brand account that answers in the thread, else the first brand account tagged in the thread, else the tweet's first mention, else `unknown` |
//! | `created_at` | `Tue Oct 31 22:10:47 +0000 2017` |
//! | `replies` | the number of ids in `response_tweet_id` |
//! | `mentions`, `hashtags` | from the text |
//! | `author_followers`, `lang` | null (not in the layout); `likes`, `shares` 0 |

use std::collections::{HashMap, HashSet};

use crate::model::{Conversation, tagged_words};

/// The columns that identify the layout.
pub const COLUMNS: [&str; 7] = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
];

/// Whether a CSV header is the TWCS layout.
///
/// ```
/// assert!(socialcx::ingest::twcs::is_twcs_header(&["tweet_id", "author_id", "inbound",
///     "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]));
/// ```
pub fn is_twcs_header(header: &[&str]) -> bool {
    ["tweet_id", "inbound", "in_response_to_tweet_id"]
        .iter()
        .all(|c| header.contains(c))
}

/// `119237.0` → `119237`; empty → `None`.
fn tweet_id(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") {
        return None;
    }
    Some(t.strip_suffix(".0").unwrap_or(t).to_string())
}

/// Map one TWCS row (values by column name) onto a conversation. The brand is left
/// empty: it needs the whole thread, see [`assign_brands`].
pub fn conversation_from_twcs(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Conversation, String> {
    let conversation_id = get("tweet_id")
        .and_then(|t| tweet_id(&t))
        .ok_or("missing tweet_id")?;
    let author_id = get("author_id")
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .ok_or("missing author_id")?;
    let inbound = match get("inbound").as_deref().map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        other => return Err(format!("inbound: expected True or False, found {other:?}")),
    };
    let created = get("created_at").ok_or("missing created_at")?;
    let created_at = super::fields::parse_instant(&created)
        .ok_or_else(|| format!("created_at: cannot parse '{created}' as a time"))?;
    let text = get("text").ok_or("missing text")?;
    let parent_id = get("in_response_to_tweet_id").and_then(|p| tweet_id(&p));
    if parent_id.as_deref() == Some(conversation_id.as_str()) {
        return Err("in_response_to_tweet_id equals tweet_id".into());
    }
    let replies = get("response_tweet_id")
        .map(|r| r.split(',').filter_map(tweet_id).count() as i64)
        .unwrap_or(0);
    Ok(Conversation {
        thread_id: None,
        parent_id,
        parent_author_id: None,
        channel: "twitter".into(),
        brand: String::new(),
        author_followers: None,
        is_brand: !inbound,
        created_at,
        lang: None,
        likes: 0,
        shares: 0,
        replies,
        mentions: tagged_words(&text, '@'),
        hashtags: tagged_words(&text, '#'),
        rating: None,
        text,
        author_id,
        conversation_id,
    })
}

/// Set the brand of every row (threads must be rebuilt first). `lake_thread_brands`
/// gives the brand of threads that began in an earlier ingest.
pub fn assign_brands(rows: &mut [Conversation], lake_thread_brands: &HashMap<String, String>) {
    let accounts: HashSet<String> = rows
        .iter()
        .filter(|r| r.is_brand)
        .map(|r| r.author_id.clone())
        .collect();
    // The first brand account to speak in each thread, and the first one tagged.
    let mut speaker: HashMap<String, (i64, String)> = HashMap::new();
    let mut tagged: HashMap<String, (i64, String)> = HashMap::new();
    let keep_earliest =
        |map: &mut HashMap<String, (i64, String)>, thread: &str, at: i64, who: &str| {
            let entry = map
                .entry(thread.to_string())
                .or_insert_with(|| (at, who.to_string()));
            if at < entry.0 {
                *entry = (at, who.to_string());
            }
        };
    for r in rows.iter() {
        let thread = r.thread_id.as_deref().unwrap_or(&r.conversation_id);
        if r.is_brand {
            keep_earliest(&mut speaker, thread, r.created_at, &r.author_id);
        }
        if let Some(m) = r.mentions.iter().find(|m| accounts.contains(*m)) {
            keep_earliest(&mut tagged, thread, r.created_at, m);
        }
    }
    for r in rows.iter_mut() {
        if r.is_brand {
            r.brand = r.author_id.clone();
            continue;
        }
        let thread = r.thread_id.as_deref().unwrap_or(&r.conversation_id);
        r.brand = speaker
            .get(thread)
            .map(|(_, b)| b.clone())
            .or_else(|| lake_thread_brands.get(thread).cloned())
            .or_else(|| tagged.get(thread).map(|(_, b)| b.clone()))
            .or_else(|| r.mentions.first().cloned())
            .unwrap_or_else(|| "unknown".into());
    }
}
