//! The conversation model: the `conversations` table's schema and one row of it.
//!
//! Column names and types are a contract with reports, BI users and tests; the README
//! documents each one. Strings are stored and leave the engine as plain `Utf8`, a type every
//! Arrow client reads; inside the engine, scans read them as `Utf8View` (see
//! `engine::plain`).

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Int32Builder, Int64Builder, ListBuilder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::Result;

/// Name of the conversations table.
pub const CONVERSATIONS: &str = "conversations";
/// Name of the quarantine table (rows that could not be landed, with the reason).
pub const QUARANTINE: &str = "quarantine";

/// The time zone of every timestamp in the lake.
pub const UTC: &str = "UTC";

/// The Arrow type of `created_at` and every other instant: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

pub(crate) fn utf8_list() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

static CONVERSATION_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("conversation_id", DataType::Utf8, false),
        Field::new("thread_id", DataType::Utf8, false),
        Field::new("parent_id", DataType::Utf8, true),
        Field::new(PARENT_AUTHOR_ID, DataType::Utf8, true),
        Field::new("channel", DataType::Utf8, false),
        Field::new("brand", DataType::Utf8, false),
        Field::new("author_id", DataType::Utf8, false),
        Field::new("author_followers", DataType::Int64, true),
        Field::new("is_brand", DataType::Boolean, false),
        Field::new("created_at", timestamp_type(), false),
        Field::new("text", DataType::Utf8, false),
        Field::new("lang", DataType::Utf8, true),
        Field::new("likes", DataType::Int64, false),
        Field::new("shares", DataType::Int64, false),
        Field::new("replies", DataType::Int64, false),
        Field::new("mentions", utf8_list(), false),
        Field::new("hashtags", utf8_list(), false),
        Field::new("rating", DataType::Int32, true),
        Field::new(SENTIMENT, DataType::Float64, true),
        Field::new(CX_SENTIMENT, DataType::Float64, true),
        Field::new(STAGE, DataType::Utf8, true),
        Field::new(STAGES, utf8_list(), true),
        Field::new("date", DataType::Date32, false),
        Field::new("ingest_id", DataType::Utf8, false),
    ]))
});

/// `conversations.parent_author_id`: the author of the message `parent_id` names, found at
/// ingest in the same input or the lake; null for a root, and for a reply whose parent was
/// not landed yet (or a lake file written before the column existed).
pub const PARENT_AUTHOR_ID: &str = "parent_author_id";
/// `conversations.sentiment`: VADER's compound score of `text`, stored at ingest.
pub const SENTIMENT: &str = "sentiment";
/// `conversations.cx_sentiment`: the customer-care mode's compound score of `text`.
pub const CX_SENTIMENT: &str = "cx_sentiment";
/// `conversations.stage`: the primary moment of truth of `text`, null when none applies.
pub const STAGE: &str = "stage";
/// `conversations.stages`: every moment of truth of `text`, the primary one first, then the
/// others strongest first.
pub const STAGES: &str = "stages";

/// The columns of `conversations` computed from `text` (the scores), in schema order.
///
/// ```
/// assert_eq!(socialcx::model::SCORE_COLUMNS[0], "sentiment");
/// ```
pub const SCORE_COLUMNS: [&str; 4] = [SENTIMENT, CX_SENTIMENT, STAGE, STAGES];

/// The schema of the `conversations` table.
///
/// ```
/// let schema = socialcx::model::conversation_schema();
/// assert!(schema.field_with_name("thread_id").is_ok());
/// ```
pub fn conversation_schema() -> SchemaRef {
    Arc::clone(&CONVERSATION_SCHEMA)
}

static QUARANTINE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("ingest_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("line", DataType::Int64, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("quarantined_at", timestamp_type(), false),
        Field::new("date", DataType::Date32, false),
    ]))
});

/// The schema of the `quarantine` table: one row per input row that was not landed.
///
/// ```
/// let schema = socialcx::model::quarantine_schema();
/// assert!(schema.field_with_name("reason").is_ok());
/// ```
pub fn quarantine_schema() -> SchemaRef {
    Arc::clone(&QUARANTINE_SCHEMA)
}

/// One message of a conversation, validated and ready to land.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub conversation_id: String,
    /// Id of the thread's root message; `None` until threads are rebuilt at ingest.
    pub thread_id: Option<String>,
    pub parent_id: Option<String>,
    /// Author of the parent message; `None` until resolved at ingest (and when the parent
    /// was not found).
    pub parent_author_id: Option<String>,
    pub channel: String,
    pub brand: String,
    pub author_id: String,
    pub author_followers: Option<i64>,
    pub is_brand: bool,
    /// Microseconds since the Unix epoch, UTC.
    pub created_at: i64,
    pub text: String,
    pub lang: Option<String>,
    pub likes: i64,
    pub shares: i64,
    pub replies: i64,
    pub mentions: Vec<String>,
    pub hashtags: Vec<String>,
    /// Star rating, for review channels.
    pub rating: Option<i32>,
}

impl Conversation {
    /// The UTC calendar day of `created_at`: the lake's partition.
    ///
    /// ```
    /// # use socialcx::model::Conversation;
    /// let day = Conversation::day_of(1_700_000_000_000_000);
    /// assert_eq!(day.to_string(), "2023-11-14");
    /// ```
    pub fn day_of(created_at_micros: i64) -> NaiveDate {
        DateTime::<Utc>::from_timestamp_micros(created_at_micros)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }

    /// This conversation's partition day.
    pub fn day(&self) -> NaiveDate {
        Self::day_of(self.created_at)
    }
}

/// Days since 1970-01-01, as Arrow's `Date32` counts them.
///
/// ```
/// # use chrono::NaiveDate;
/// assert_eq!(socialcx::model::date32(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
/// ```
pub fn date32(day: NaiveDate) -> i32 {
    (day - NaiveDate::default()).num_days() as i32
}

/// Builds `conversations` record batches from validated rows. The score columns
/// ([`SCORE_COLUMNS`]) are left null: scoring fills them before a batch is written.
pub struct ConversationBatchBuilder {
    ingest_id: String,
    conversation_id: StringBuilder,
    thread_id: StringBuilder,
    parent_id: StringBuilder,
    parent_author_id: StringBuilder,
    channel: StringBuilder,
    brand: StringBuilder,
    author_id: StringBuilder,
    author_followers: Int64Builder,
    is_brand: BooleanBuilder,
    created_at: TimestampMicrosecondBuilder,
    text: StringBuilder,
    lang: StringBuilder,
    likes: Int64Builder,
    shares: Int64Builder,
    replies: Int64Builder,
    mentions: ListBuilder<StringBuilder>,
    hashtags: ListBuilder<StringBuilder>,
    rating: Int32Builder,
    date: Date32Builder,
    len: usize,
}

impl ConversationBatchBuilder {
    /// A builder whose rows carry `ingest_id`.
    ///
    /// ```
    /// let b = socialcx::model::ConversationBatchBuilder::new("i1");
    /// assert_eq!(b.finish().unwrap().num_rows(), 0);
    /// ```
    pub fn new(ingest_id: &str) -> Self {
        Self::with_capacity(ingest_id, 1024)
    }

    /// A builder sized for about `rows` rows (a small file's batch holds no more memory
    /// than its rows need).
    ///
    /// ```
    /// let b = socialcx::model::ConversationBatchBuilder::with_capacity("i1", 3);
    /// assert_eq!(b.len(), 0);
    /// ```
    pub fn with_capacity(ingest_id: &str, rows: usize) -> Self {
        let text = |bytes_per_row: usize| StringBuilder::with_capacity(rows, rows * bytes_per_row);
        let list =
            || {
                ListBuilder::with_capacity(StringBuilder::new(), rows)
                    .with_field(Arc::new(Field::new("item", DataType::Utf8, true)))
            };
        Self {
            ingest_id: ingest_id.to_string(),
            conversation_id: text(20),
            thread_id: text(20),
            parent_id: text(20),
            parent_author_id: text(16),
            channel: text(8),
            brand: text(12),
            author_id: text(16),
            author_followers: Int64Builder::with_capacity(rows),
            is_brand: BooleanBuilder::with_capacity(rows),
            created_at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC),
            text: text(120),
            lang: text(2),
            likes: Int64Builder::with_capacity(rows),
            shares: Int64Builder::with_capacity(rows),
            replies: Int64Builder::with_capacity(rows),
            mentions: list(),
            hashtags: list(),
            rating: Int32Builder::with_capacity(rows),
            date: Date32Builder::with_capacity(rows),
            len: 0,
        }
    }

    /// Rows appended since the last `finish`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no row was appended since the last `finish`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append one row. A missing `thread_id` means the message is a thread root.
    pub fn append(&mut self, c: &Conversation) {
        self.conversation_id.append_value(&c.conversation_id);
        self.thread_id
            .append_value(c.thread_id.as_deref().unwrap_or(&c.conversation_id));
        self.parent_id.append_option(c.parent_id.as_deref());
        self.parent_author_id
            .append_option(c.parent_author_id.as_deref());
        self.channel.append_value(&c.channel);
        self.brand.append_value(&c.brand);
        self.author_id.append_value(&c.author_id);
        self.author_followers.append_option(c.author_followers);
        self.is_brand.append_value(c.is_brand);
        self.created_at.append_value(c.created_at);
        self.text.append_value(&c.text);
        self.lang.append_option(c.lang.as_deref());
        self.likes.append_value(c.likes);
        self.shares.append_value(c.shares);
        self.replies.append_value(c.replies);
        for m in &c.mentions {
            self.mentions.values().append_value(m);
        }
        self.mentions.append(true);
        for h in &c.hashtags {
            self.hashtags.values().append_value(h);
        }
        self.hashtags.append(true);
        self.rating.append_option(c.rating);
        self.date.append_value(date32(c.day()));
        self.len += 1;
    }

    /// The rows appended so far as one batch; the builder is empty afterwards.
    pub fn finish(mut self) -> Result<RecordBatch> {
        let n = self.len;
        let mut ingest = StringBuilder::with_capacity(n, n * self.ingest_id.len());
        for _ in 0..n {
            ingest.append_value(&self.ingest_id);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.conversation_id.finish()),
            Arc::new(self.thread_id.finish()),
            Arc::new(self.parent_id.finish()),
            Arc::new(self.parent_author_id.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.brand.finish()),
            Arc::new(self.author_id.finish()),
            Arc::new(self.author_followers.finish()),
            Arc::new(self.is_brand.finish()),
            Arc::new(self.created_at.finish()),
            Arc::new(self.text.finish()),
            Arc::new(self.lang.finish()),
            Arc::new(self.likes.finish()),
            Arc::new(self.shares.finish()),
            Arc::new(self.replies.finish()),
            Arc::new(self.mentions.finish()),
            Arc::new(self.hashtags.finish()),
            Arc::new(self.rating.finish()),
            new_null_array(&DataType::Float64, n),
            new_null_array(&DataType::Float64, n),
            new_null_array(&DataType::Utf8, n),
            new_null_array(&utf8_list(), n),
            Arc::new(self.date.finish()),
            Arc::new(ingest.finish()),
        ];
        Ok(RecordBatch::try_new(conversation_schema(), columns)?)
    }
}

/// Words starting with `sigil` in `text` (`@` for mentions, `#` for hashtags), without
/// the sigil, in order of appearance, each once.
///
/// ```
/// let tags = socialcx::model::tagged_words("Love it #blessed #Blessed @Acme!", '#');
/// assert_eq!(tags, vec!["blessed".to_string()]);
/// ```
pub fn tagged_words(text: &str, sigil: char) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(sigil) {
        let preceded_by_word = rest[..pos]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = &rest[pos + sigil.len_utf8()..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if !preceded_by_word && end > 0 {
            let word = &after[..end];
            let word = if sigil == '#' {
                word.to_lowercase()
            } else {
                word.to_string()
            };
            if !out.contains(&word) {
                out.push(word);
            }
        }
        rest = &after[end..];
    }
    out
}

// The tables jobs write: described here, beside the others, so the lake knows every
// table it stores without knowing about jobs.

/// The table recording every run attempt.
pub const JOB_RUNS: &str = "job_runs";

/// The table of baseline breaches.
pub const ALERTS: &str = "alerts";

/// The partition key of a job's result: the job and the as-of day.
pub const AS_OF: &str = "as_of";

static JOB_RUNS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("job", DataType::Utf8, false),
        Field::new("as_of", DataType::Date32, false),
        Field::new("run_id", DataType::Utf8, false),
        Field::new("attempt", DataType::Int32, false),
        Field::new("trigger", DataType::Utf8, false),
        Field::new("started", timestamp_type(), false),
        Field::new("finished", timestamp_type(), false),
        Field::new("status", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, true),
        Field::new("alerts", DataType::Int64, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("host", DataType::Utf8, false),
    ]))
});

/// The schema of `job_runs`: one row per attempt of a run (`status` is `succeeded` or
/// `failed`; a failed attempt that was retried has a later row with `attempt` + 1).
///
/// ```
/// assert!(socialcx::model::job_runs_schema().field_with_name("error").is_ok());
/// ```
pub fn job_runs_schema() -> SchemaRef {
    Arc::clone(&JOB_RUNS_SCHEMA)
}

static ALERTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("job", DataType::Utf8, false),
        Field::new("metrics_table", DataType::Utf8, false),
        Field::new("as_of", DataType::Date32, false),
        Field::new("cell", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("baseline_mean", DataType::Float64, false),
        Field::new("baseline_sd", DataType::Float64, false),
        Field::new("z_score", DataType::Float64, false),
        Field::new("k", DataType::Float64, false),
        Field::new("history_days", DataType::Int64, false),
        Field::new("direction", DataType::Utf8, false),
        Field::new("run_id", DataType::Utf8, false),
        Field::new("detected", timestamp_type(), false),
    ]))
});

/// The schema of `alerts`: one row per metric of a cell outside its baseline band.
///
/// ```
/// assert!(socialcx::model::alerts_schema().field_with_name("z_score").is_ok());
/// ```
pub fn alerts_schema() -> SchemaRef {
    Arc::clone(&ALERTS_SCHEMA)
}
