//! The synthetic conversation generator: realistic, deterministic for a seed, and
//! streaming (one thread in memory at a time).
//!
//! The world: eight brands across industries, each with its own support account;
//! customers with heavy-tailed follower counts (a Pareto law, plus a few very
//! influential accounts) and heavy-tailed activity; seven channels. Each thread starts
//! with a customer post at some journey stage and tone; the brand answers (more often
//! on chat and email than on reviews and forums) after a log-normal delay, or never;
//! the customer may follow up (satisfied or not) and the brand answer again; other
//! customers chime in, mentioning the original poster.
//!
//! ```no_run
//! use socialcx::generator::{generate_file, GeneratorConfig};
//! let n = generate_file(&GeneratorConfig { rows: 1000, ..Default::default() },
//!                       std::path::Path::new("sample.ndjson"),
//!                       &socialcx::progress::Silent).unwrap();
//! assert_eq!(n, 1000);
//! ```

pub mod sentiment_corpus;
pub mod text;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use clap::ValueEnum;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Pareto};
use serde::Serialize;

use crate::model::Conversation;
use crate::progress::{Progress, Unit};
use crate::{Error, Result};
use text::{BRANDS, Brand, STAGES, Slots, Tone};

/// The file layouts the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputLayout {
    /// Our schema, one JSON object per line.
    #[default]
    Ndjson,
    /// Our schema as CSV (lists space-separated).
    Csv,
    /// The "Customer Support on Twitter" CSV layout.
    Twcs,
    /// Texts only, `{"text": ...}` per line: the sentiment exactness corpus (its texts are
    /// in datasets/generator/sentiment_corpus.rs).
    Texts,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    pub rows: u64,
    pub seed: u64,
    /// First day of the period (UTC).
    pub start: NaiveDate,
    /// Length of the period in days.
    pub days: u32,
    pub layout: OutputLayout,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        Self {
            rows: 10_000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
            days: 90,
            layout: OutputLayout::Ndjson,
        }
    }
}

const CHANNELS: [(&str, u32); 7] = [
    ("twitter", 30),
    ("facebook", 15),
    ("instagram", 12),
    ("reviews", 12),
    ("forum", 8),
    ("support_chat", 15),
    ("email", 8),
];

const SECOND: i64 = 1_000_000;

fn weighted<T: Copy>(items: &[(T, u32)], rng: &mut impl Rng) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[0].0
}

/// A synthetic customer.
#[derive(Debug, Clone)]
struct Author {
    id: String,
    followers: i64,
}

/// Streams synthetic messages, a thread at a time.
pub struct Generator {
    rng: ChaCha8Rng,
    config: GeneratorConfig,
    authors: Vec<Author>,
    next_id: u64,
    id_base: u64,
    emitted: u64,
    pending: std::vec::IntoIter<Conversation>,
    period_start: i64,
}

impl Generator {
    /// A generator for `config`.
    ///
    /// ```
    /// use socialcx::generator::{Generator, GeneratorConfig};
    /// let rows: Vec<_> = Generator::new(GeneratorConfig { rows: 50, ..Default::default() }).collect();
    /// assert_eq!(rows.len(), 50);
    /// ```
    pub fn new(config: GeneratorConfig) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let pool = (config.rows / 6).clamp(50, 2_000_000) as usize;
        let pareto = Pareto::new(20.0, 1.1).expect("valid Pareto");
        let authors = (0..pool)
            .map(|i| {
                let followers = if rng.random_bool(0.002) {
                    rng.random_range(50_000..3_000_000)
                } else {
                    (pareto.sample(&mut rng) as i64 - 20).clamp(0, 2_000_000)
                };
                Author {
                    id: (100_000 + i as u64).to_string(),
                    followers,
                }
            })
            .collect();
        let period_start = config
            .start
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros();
        Self {
            // Ids differ between seeds, so two generated files can share a lake.
            id_base: (config.seed % 100_000) * 10_000_000_000 + 1_000_000_000,
            rng,
            authors,
            next_id: 0,
            emitted: 0,
            pending: Vec::new().into_iter(),
            period_start,
            config,
        }
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        (self.id_base + self.next_id).to_string()
    }

    /// A customer, with heavy-tailed activity (a few post a lot).
    fn pick_author(&mut self) -> Author {
        let u: f64 = self.rng.random();
        let i = ((u * u * u) * self.authors.len() as f64) as usize;
        self.authors[i.min(self.authors.len() - 1)].clone()
    }

    /// A start time in the period, busier by day than by night.
    fn root_time(&mut self) -> i64 {
        let day = self.rng.random_range(0..self.config.days.max(1)) as i64;
        let hour = loop {
            let h = self.rng.random_range(0..24);
            let weight = if (8..23).contains(&h) { 1.0 } else { 0.25 };
            if self.rng.random_bool(weight) {
                break h;
            }
        };
        let secs = day * 86_400 + hour * 3_600 + self.rng.random_range(0..3_600);
        self.period_start + secs * SECOND
    }

    /// Seconds until a brand answers on `channel`.
    fn response_delay(&mut self, channel: &str) -> i64 {
        let (median_s, sigma) = match channel {
            "support_chat" => (120.0, 0.8),
            "email" => (6.0 * 3600.0, 0.9),
            "reviews" => (30.0 * 3600.0, 0.8),
            _ => (45.0 * 60.0, 1.3),
        };
        let d = LogNormal::new(f64::ln(median_s), sigma).expect("valid log-normal");
        (d.sample(&mut self.rng) as i64).clamp(20, 7 * 86_400)
    }

    fn engagement(&mut self, followers: i64, channel: &str, tone: Tone) -> (i64, i64) {
        if matches!(channel, "support_chat" | "email") {
            return (0, 0);
        }
        let boost = match tone {
            Tone::Negative => 1.6,
            Tone::Positive => 1.2,
            _ => 0.7,
        };
        let noise = LogNormal::new(0.0, 1.0)
            .expect("valid")
            .sample(&mut self.rng);
        let likes = ((followers as f64).sqrt() * 0.3 * boost * noise) as i64;
        let shares = (likes as f64 * self.rng.random_range(0.0..0.3)) as i64;
        (likes, shares)
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &mut self,
        thread: &str,
        parent: Option<&str>,
        channel: &str,
        brand: &Brand,
        author: &Author,
        is_brand: bool,
        at: i64,
        text: String,
        mentions: Vec<String>,
        tone: Tone,
    ) -> Conversation {
        let id = if parent.is_none() {
            thread.to_string()
        } else {
            self.new_id()
        };
        let (likes, shares) = if is_brand {
            (self.rng.random_range(0..3), 0)
        } else {
            self.engagement(author.followers, channel, tone)
        };
        let rating = (channel == "reviews" && parent.is_none()).then(|| match tone {
            Tone::Positive => self.rng.random_range(4..=5),
            Tone::Negative => self.rng.random_range(1..=2),
            Tone::Mixed => 3,
            Tone::Neutral => self.rng.random_range(3..=4),
        });
        let lang = if self.rng.random_bool(0.08) {
            None
        } else {
            Some("en".to_string())
        };
        let hashtags = crate::model::tagged_words(&text, '#');
        Conversation {
            conversation_id: id,
            thread_id: Some(thread.to_string()),
            parent_id: parent.map(str::to_string),
            parent_author_id: None,
            channel: channel.to_string(),
            brand: brand.name.to_string(),
            author_id: author.id.clone(),
            author_followers: Some(author.followers),
            is_brand,
            created_at: at,
            text,
            lang,
            likes,
            shares,
            replies: 0,
            mentions,
            hashtags,
            rating,
        }
    }

    /// The brand's answer (to a message of tone `tone`) at time `at`.
    fn brand_answer(
        &mut self,
        answer: &Answer<'_>,
        channel: &str,
        slots: &Slots<'_>,
        tone: Tone,
        at: i64,
    ) -> Conversation {
        let template = *text::brand_reply(tone)
            .choose(&mut self.rng)
            .expect("replies");
        let mut body = text::fill(template, slots, &mut self.rng);
        if is_social(channel) {
            body = format!("@{} {body}", answer.to.id);
        }
        self.message(
            answer.root,
            Some(answer.parent),
            channel,
            slots.brand,
            answer.account,
            true,
            at,
            body,
            vec![answer.to.id.clone()],
            Tone::Neutral,
        )
    }

    /// One whole thread, in time order.
    fn thread(&mut self) -> Vec<Conversation> {
        let rng_brand = *BRANDS.choose(&mut self.rng).expect("brands");
        let brand = &rng_brand;
        let brand_account = Author {
            id: brand.handle.to_string(),
            followers: 250_000 + (brand.name.len() as i64) * 40_000,
        };
        let channel = weighted(&CHANNELS, &mut self.rng);
        let stage = weighted(&STAGES, &mut self.rng);
        let tone = text::tone_for(stage, &mut self.rng);
        let customer = self.pick_author();
        let friend = self.pick_author();
        let product = *brand.products.choose(&mut self.rng).expect("products");
        let friend_tag = format!("@{}", friend.id);
        let slots = Slots {
            brand,
            product,
            friend: &friend_tag,
        };
        let social = is_social(channel);

        // The customer's post.
        let template = *text::customer_post(stage, tone)
            .choose(&mut self.rng)
            .expect("templates");
        let mut body = text::fill(template, &slots, &mut self.rng);
        text::roughen(&mut body, tone, brand, &mut self.rng);
        let mut mentions = Vec::new();
        if template.contains("{friend}") {
            mentions.push(friend.id.clone());
        }
        if channel == "twitter" {
            // Tweets to a brand tag its support account.
            body = if self.rng.random_bool(0.6) {
                format!("@{} {body}", brand.handle)
            } else {
                format!("{body} @{}", brand.handle)
            };
            mentions.insert(0, brand.handle.to_string());
        }
        let root_id = self.new_id();
        let t0 = self.root_time();
        let root = self.message(
            &root_id, None, channel, brand, &customer, false, t0, body, mentions, tone,
        );
        let mut msgs = vec![root];

        // The brand's answer, or silence.
        let answer_p = match channel {
            "support_chat" => 0.97,
            "email" => 0.9,
            "twitter" => 0.7,
            "facebook" => 0.6,
            "instagram" => 0.45,
            "reviews" => 0.35,
            _ => 0.3,
        } + if tone == Tone::Negative { 0.05 } else { 0.0 };
        if self.rng.random_bool(f64::min(answer_p, 0.99)) {
            let mut t = t0 + self.response_delay(channel) * SECOND;
            let parent = msgs[0].conversation_id.clone();
            let answer = Answer {
                root: &root_id,
                parent: &parent,
                account: &brand_account,
                to: &customer,
            };
            let reply = self.brand_answer(&answer, channel, &slots, tone, t);
            let reply_id = reply.conversation_id.clone();
            msgs.push(reply);

            // The customer comes back, satisfied or not; the brand may answer again.
            if tone != Tone::Positive && self.rng.random_bool(0.5) {
                let resolved = self.rng.random_bool(0.45);
                t += self.response_delay("twitter") / 2 * SECOND;
                let template = *text::follow_up(resolved)
                    .choose(&mut self.rng)
                    .expect("follow-ups");
                let mut body = text::fill(template, &slots, &mut self.rng);
                let follow_tone = if resolved {
                    Tone::Positive
                } else {
                    Tone::Negative
                };
                text::roughen(&mut body, follow_tone, brand, &mut self.rng);
                let mut mentions = Vec::new();
                if social {
                    body = format!("@{} {body}", brand.handle);
                    mentions.push(brand.handle.to_string());
                }
                let follow = self.message(
                    &root_id,
                    Some(&reply_id),
                    channel,
                    brand,
                    &customer,
                    false,
                    t,
                    body,
                    mentions,
                    follow_tone,
                );
                let follow_id = follow.conversation_id.clone();
                msgs.push(follow);
                if !resolved && self.rng.random_bool(0.5) {
                    t += self.response_delay(channel) * SECOND;
                    let answer = Answer {
                        parent: &follow_id,
                        ..answer
                    };
                    let again = self.brand_answer(&answer, channel, &slots, Tone::Negative, t);
                    msgs.push(again);
                }
            }
        }

        // Other customers chime in, on public channels.
        let chime_p = match channel {
            "forum" => 0.7,
            "facebook" => 0.3,
            "instagram" => 0.25,
            "twitter" => 0.15,
            "reviews" => 0.1,
            _ => 0.0,
        };
        if self.rng.random_bool(chime_p) {
            let n = self.rng.random_range(1..=3);
            let mut t = t0;
            for _ in 0..n {
                t += self.rng.random_range(60..6 * 3600) * SECOND;
                let other = self.pick_author();
                if other.id == customer.id {
                    continue;
                }
                let template = *text::CHIME_IN.choose(&mut self.rng).expect("chime-ins");
                let mut body = text::fill(template, &slots, &mut self.rng);
                text::roughen(&mut body, Tone::Neutral, brand, &mut self.rng);
                let body = format!("@{} {body}", customer.id);
                let parent = msgs[0].conversation_id.clone();
                let m = self.message(
                    &root_id,
                    Some(&parent),
                    channel,
                    brand,
                    &other,
                    false,
                    t,
                    body,
                    vec![customer.id.clone()],
                    Tone::Neutral,
                );
                msgs.push(m);
            }
        }
        msgs.sort_by_key(|m| m.created_at);
        msgs
    }
}

/// Who answers whom, where, in a thread.
#[derive(Clone, Copy)]
struct Answer<'a> {
    root: &'a str,
    parent: &'a str,
    account: &'a Author,
    to: &'a Author,
}

/// Channels where replies tag the author they answer.
fn is_social(channel: &str) -> bool {
    matches!(channel, "twitter" | "instagram" | "facebook")
}

/// Count each message's direct replies.
fn count_replies(thread: &mut [Conversation]) {
    for i in 0..thread.len() {
        let id = thread[i].conversation_id.clone();
        thread[i].replies = thread
            .iter()
            .filter(|m| m.parent_id.as_deref() == Some(id.as_str()))
            .count() as i64;
    }
}

impl Iterator for Generator {
    type Item = Conversation;

    fn next(&mut self) -> Option<Conversation> {
        if self.emitted >= self.config.rows {
            return None;
        }
        if let Some(m) = self.pending.next() {
            self.emitted += 1;
            return Some(m);
        }
        let mut thread = self.thread();
        let left = (self.config.rows - self.emitted) as usize;
        thread.truncate(left);
        count_replies(&mut thread);
        self.pending = thread.into_iter();
        self.next()
    }
}

fn rfc3339(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[derive(Serialize)]
struct JsonRow<'a> {
    conversation_id: &'a str,
    thread_id: &'a str,
    parent_id: Option<&'a str>,
    channel: &'a str,
    brand: &'a str,
    author_id: &'a str,
    author_followers: Option<i64>,
    is_brand: bool,
    created_at: String,
    text: &'a str,
    lang: Option<&'a str>,
    likes: i64,
    shares: i64,
    replies: i64,
    mentions: &'a [String],
    hashtags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    rating: Option<i32>,
}

/// The columns of our CSV layout.
pub const CSV_COLUMNS: [&str; 17] = [
    "conversation_id",
    "thread_id",
    "parent_id",
    "channel",
    "brand",
    "author_id",
    "author_followers",
    "is_brand",
    "created_at",
    "text",
    "lang",
    "likes",
    "shares",
    "replies",
    "mentions",
    "hashtags",
    "rating",
];

/// Where generated rows go: JSON lines, or a CSV writer, over a buffered file.
enum Sink {
    Json(BufWriter<File>),
    Csv(Box<csv::Writer<BufWriter<File>>>),
}

fn write_row(
    sink: &mut Sink,
    m: &Conversation,
    children: &[String],
    twcs: bool,
) -> std::io::Result<()> {
    let thread = m.thread_id.as_deref().unwrap_or(&m.conversation_id);
    match sink {
        Sink::Json(out) => {
            let row = JsonRow {
                conversation_id: &m.conversation_id,
                thread_id: thread,
                parent_id: m.parent_id.as_deref(),
                channel: &m.channel,
                brand: &m.brand,
                author_id: &m.author_id,
                author_followers: m.author_followers,
                is_brand: m.is_brand,
                created_at: rfc3339(m.created_at),
                text: &m.text,
                lang: m.lang.as_deref(),
                likes: m.likes,
                shares: m.shares,
                replies: m.replies,
                mentions: &m.mentions,
                hashtags: &m.hashtags,
                rating: m.rating,
            };
            serde_json::to_writer(&mut *out, &row)?;
            out.write_all(b"\n")
        }
        Sink::Csv(w) if twcs => {
            let created = DateTime::<Utc>::from_timestamp_micros(m.created_at)
                .unwrap_or_default()
                .format("%a %b %d %H:%M:%S +0000 %Y")
                .to_string();
            // The public file stores reply ids as floats (a pandas artefact).
            let parent = m
                .parent_id
                .as_deref()
                .map(|p| format!("{p}.0"))
                .unwrap_or_default();
            w.write_record([
                m.conversation_id.as_str(),
                &m.author_id,
                if m.is_brand { "False" } else { "True" },
                &created,
                &m.text,
                &children.join(","),
                &parent,
            ])?;
            Ok(())
        }
        Sink::Csv(w) => {
            let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            w.write_record([
                m.conversation_id.as_str(),
                thread,
                m.parent_id.as_deref().unwrap_or(""),
                &m.channel,
                &m.brand,
                &m.author_id,
                &opt(m.author_followers),
                if m.is_brand { "true" } else { "false" },
                &rfc3339(m.created_at),
                &m.text,
                m.lang.as_deref().unwrap_or(""),
                &m.likes.to_string(),
                &m.shares.to_string(),
                &m.replies.to_string(),
                &m.mentions.join(" "),
                &m.hashtags.join(" "),
                &opt(m.rating.map(i64::from)),
            ])?;
            Ok(())
        }
    }
}

/// The sentiment corpus: `{"text": ...}` lines, written to `tmp` then renamed.
fn write_texts(
    config: &GeneratorConfig,
    mut file: BufWriter<File>,
    tmp: &Path,
    path: &Path,
    progress: &dyn Progress,
) -> Result<u64> {
    let io = |e: std::io::Error| Error::io(path.display().to_string(), e);
    progress.start("generating", config.rows, Unit::Rows);
    let corpus = sentiment_corpus::SentimentCorpus::new(config.seed).take(config.rows as usize);
    let mut written = 0;
    for text in corpus {
        serde_json::to_writer(&mut file, &serde_json::json!({ "text": text }))
            .map_err(|e| io(e.into()))?;
        file.write_all(b"\n").map_err(io)?;
        written += 1;
        if written % 10_000 == 0 {
            progress.set(written);
        }
    }
    file.flush().map_err(io)?;
    drop(file);
    std::fs::rename(tmp, path).map_err(io)?;
    progress.finish();
    Ok(written)
}

/// Write `config.rows` messages to `path` in `config.layout`; returns the count.
pub fn generate_file(
    config: &GeneratorConfig,
    path: &Path,
    progress: &dyn Progress,
) -> Result<u64> {
    let io = |e: std::io::Error| Error::io(path.display().to_string(), e);
    // Write to a temporary name, then rename: no half-written output on failure.
    let tmp = path.with_extension("partial");
    let file = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io)?);
    let twcs = config.layout == OutputLayout::Twcs;
    if config.layout == OutputLayout::Texts {
        return write_texts(config, file, &tmp, path, progress);
    }
    let mut sink = match config.layout {
        OutputLayout::Ndjson | OutputLayout::Texts => Sink::Json(file),
        OutputLayout::Csv => {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(CSV_COLUMNS).map_err(|e| io(e.into()))?;
            Sink::Csv(Box::new(w))
        }
        OutputLayout::Twcs => {
            let mut w = csv::Writer::from_writer(file);
            w.write_record(crate::ingest::twcs::COLUMNS)
                .map_err(|e| io(e.into()))?;
            Sink::Csv(Box::new(w))
        }
    };
    progress.start("generating", config.rows, Unit::Rows);
    let mut generator = Generator::new(config.clone());
    let mut written = 0u64;
    // Threads are emitted whole, so each message's children are known when written.
    let mut thread: Vec<Conversation> = Vec::new();
    let flush_thread = |thread: &mut Vec<Conversation>, sink: &mut Sink| -> Result<()> {
        for m in thread.iter() {
            let children: Vec<String> = thread
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(m.conversation_id.as_str()))
                .map(|c| c.conversation_id.clone())
                .collect();
            write_row(sink, m, &children, twcs).map_err(io)?;
        }
        thread.clear();
        Ok(())
    };
    for m in generator.by_ref() {
        if m.parent_id.is_none() && !thread.is_empty() {
            flush_thread(&mut thread, &mut sink)?;
        }
        thread.push(m);
        written += 1;
        if written.is_multiple_of(10_000) {
            progress.set(written);
        }
    }
    flush_thread(&mut thread, &mut sink)?;
    let mut file = match sink {
        Sink::Json(f) => f,
        Sink::Csv(w) => w.into_inner().map_err(|e| io(e.into_error()))?,
    };
    file.flush().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    progress.finish();
    Ok(written)
}
