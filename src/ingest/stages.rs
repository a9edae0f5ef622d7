//! The stages of landing one input, each with one job, in the order ingest runs them.
//! An input is landed a [`Segment`] at a time (see [`segments`](super::segments)), each
//! through these stages, its files staged in the input's one transaction:
//!
//! 1. [`parse`]: bytes to rows and rejected rows ([`readers`](super::readers)), then
//!    [`score`]: the rows' score columns computed from their `text`, on every core;
//! 2. [`drop_repeated_ids`] and [`InputIds::drop_landed_earlier`]: a conversation id seen
//!    earlier in the segment or in an earlier segment is a duplicate;
//! 3. [`LakeIds::lookup`]: what the lake (and the earlier segments) hold for the segment's
//!    ids and parents;
//! 4. [`thread`]: thread ids (and TWCS brands) from reply links, the lake's included;
//! 5. [`drop_landed`]: rows whose id the lake already holds are duplicates;
//! 6. [`plan_files`]: rows ordered by day and time into the files the lake's layout plans,
//!    each row with its scores;
//! 7. [`write_quarantine`] and the transaction's own `write_all`; then
//!    [`InputIds::record`] remembers what the segment landed, for the segments after it.
//!
//! After the last segment, the transaction's `commit_on` makes the whole input visible.
//!
//! Parsing and scoring run a segment ahead of the stages after them (see
//! [`crate::ingest`]), so the scoring is done while the stages that run on one core (ids,
//! threads, the plan's sort) run for the segment before. The stages in between pass
//! [`Rows`] on: the rows still to land, each with its place among the parsed rows, where
//! its scores are. A stage takes what the one before produced and nothing else, so a stage
//! can be added between two and each is tested on its own.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::HashSet as FastSet;
use datafusion::common::JoinType;

use super::quarantine::{Rejected, quarantine_batch};
use super::readers::{self, Layout, Parsed};
use super::segments::Segment;
use super::{threads, twcs};
use crate::Result;
use crate::engine::Engine;
use crate::engine::scoring::Scorer;
use crate::lake::transaction::{Partition, StagedFile, Transaction};
use crate::lake::{self, layout, writer::ROW_GROUP_ROWS};
use crate::model::{
    CONVERSATIONS, Conversation, ConversationBatchBuilder, PARENT_AUTHOR_ID, QUARANTINE, date32,
};
use crate::progress::Progress;

/// Stage 1: read `segment` (of input `name`), telling `progress` the input's bytes done;
/// the work is shared out over the cores. `Err(reason)` is an input that cannot be read at
/// all. Ingest runs it on a blocking thread, a segment ahead of the stages after it.
///
/// ```
/// use socialcx::ingest::{segments::Segments, stages::parse};
/// use socialcx::progress::Silent;
/// let line = r#"{"conversation_id":"1","brand":"b","author_id":"a","channel":"twitter","created_at":"2026-01-05T10:00:00Z","text":"hi"}"#;
/// let segment = Segments::from_bytes("in.ndjson", line.into(), 1 << 20).next_segment().unwrap().unwrap();
/// let parsed = parse("in.ndjson", &segment, &Silent).unwrap();
/// assert_eq!(parsed.rows.len(), 1);
/// ```
pub fn parse(
    name: &str,
    segment: &Segment,
    progress: &dyn Progress,
) -> std::result::Result<Parsed, String> {
    let offset = segment.offset;
    readers::read_from_line(name, &segment.bytes, segment.first_line, &|done| {
        progress.set(offset + done)
    })
}

/// Rows scored together: the scores of a segment's parsed rows are kept in runs of this
/// many, one run a task.
const SCORE_RUN: usize = 8192;

/// The score columns of a segment's parsed rows ([`score`]'s answer):
/// [`SCORE_COLUMNS`](crate::model::SCORE_COLUMNS) in runs of [`SCORE_RUN`] rows, and the
/// fingerprint of the configuration that computed them.
#[derive(Debug, Clone)]
pub struct RowScores {
    fingerprint: String,
    runs: Vec<[ArrayRef; 4]>,
}

impl RowScores {
    /// The score columns of the parsed rows at `positions`, in that order
    /// ([`SCORE_COLUMNS`](crate::model::SCORE_COLUMNS) order).
    fn take(&self, positions: impl Iterator<Item = u32>) -> Result<[ArrayRef; 4]> {
        let at: Vec<(usize, usize)> = positions
            .map(|p| (p as usize / SCORE_RUN, p as usize % SCORE_RUN))
            .collect();
        let column = |c: usize| -> Result<ArrayRef> {
            let runs: Vec<&dyn Array> = self.runs.iter().map(|r| r[c].as_ref()).collect();
            Ok(interleave(&runs, &at)?)
        };
        Ok([column(0)?, column(1)?, column(2)?, column(3)?])
    }
}

/// Stage 1, continued: the score columns of `rows` (a segment's parsed rows, in their
/// order) computed from their `text` by `scorer`; runs of rows are scored on every core. Ingest runs it beside parsing,
/// a segment ahead of the stages after it; [`plan_files`] hands each row its scores.
///
/// ```
/// # fn main() -> socialcx::Result<()> {
/// use socialcx::ingest::{segments::Segments, stages::{Rows, parse, plan_files, score}};
/// use socialcx::lake::table::DerivedColumns;
/// let line = r#"{"conversation_id":"1","brand":"b","author_id":"a","channel":"twitter","created_at":"2026-01-05T10:00:00Z","text":"I love it"}"#;
/// let segment = Segments::from_bytes("in.ndjson", line.into(), 1 << 20).next_segment().unwrap().unwrap();
/// let parsed = parse("in.ndjson", &segment, &socialcx::progress::Silent).unwrap();
/// let scoring = socialcx::engine::scoring::Scoring::load(None, None)?;
/// let scorer = scoring.scorer(&datafusion::prelude::SessionContext::new().state())?;
/// let scores = score(&scorer, &parsed.rows)?;
/// let files = plan_files(&Rows::from(parsed.rows), Some(&scores), "op1")?;
/// let sentiment = files[0].batches[0].column_by_name("sentiment").unwrap();
/// assert_eq!(sentiment.null_count(), 0);
/// assert_eq!(files[0].fingerprint.as_deref(), Some(scoring.fingerprint()));
/// # Ok(()) }
/// ```
pub fn score(scorer: &Scorer, rows: &[Conversation]) -> Result<RowScores> {
    let runs: Vec<&[Conversation]> = rows.chunks(SCORE_RUN).collect();
    let scored = on_every_core(&runs, |run| {
        let text: ArrayRef = Arc::new(StringArray::from_iter_values(
            run.iter().map(|c| c.text.as_str()),
        ));
        scorer.score_texts(&text)
    });
    Ok(RowScores {
        fingerprint: scorer.fingerprint().to_string(),
        runs: scored.into_iter().collect::<Result<_>>()?,
    })
}

/// A segment's rows on their way through the stages: the conversations still to land,
/// and beside each its position among the segment's parsed rows (where [`score`] put its
/// scores). Dropping rows keeps the others in their order.
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: None, parent_id: None, parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: id.into(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// use socialcx::ingest::stages::Rows;
/// let rows = Rows::from(vec![msg("1"), msg("2")]);
/// assert_eq!(rows.conversations.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub conversations: Vec<Conversation>,
    positions: Vec<u32>,
}

impl From<Vec<Conversation>> for Rows {
    fn from(conversations: Vec<Conversation>) -> Self {
        let positions = (0..conversations.len() as u32).collect();
        Rows {
            conversations,
            positions,
        }
    }
}

impl Rows {
    /// Keep the rows for which `keep` is true, in their order; returns how many were
    /// dropped.
    fn retain(&mut self, mut keep: impl FnMut(&Conversation) -> bool) -> u64 {
        let before = self.conversations.len();
        let mut kept = 0;
        for i in 0..before {
            if keep(&self.conversations[i]) {
                self.conversations.swap(kept, i);
                self.positions[kept] = self.positions[i];
                kept += 1;
            }
        }
        self.conversations.truncate(kept);
        self.positions.truncate(kept);
        (before - kept) as u64
    }
}

/// Stage 2: drop the rows whose `conversation_id` appeared earlier in `rows` (the first
/// occurrence wins; the others keep their order). Returns how many were dropped.
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: None, parent_id: None, parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: id.into(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// use socialcx::ingest::stages::{Rows, drop_repeated_ids};
/// let mut rows = Rows::from(vec![msg("1"), msg("2"), msg("1"), msg("3")]);
/// assert_eq!(drop_repeated_ids(&mut rows), 1);
/// let ids: Vec<_> = rows.conversations.iter().map(|r| r.conversation_id.as_str()).collect();
/// assert_eq!(ids, ["1", "2", "3"]);
/// ```
pub fn drop_repeated_ids(rows: &mut Rows) -> u64 {
    let keep: Vec<bool> = {
        let mut seen = FastSet::with_capacity(rows.conversations.len());
        rows.conversations
            .iter()
            .map(|c| seen.insert(c.conversation_id.as_str()))
            .collect()
    };
    let mut keep = keep.into_iter();
    rows.retain(|_| keep.next().unwrap_or(false))
}

/// Stage 3's answer: for the ids a segment names (its conversations' and their parents'),
/// what the lake, or an earlier segment of the same input, already holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LakeIds {
    /// id → what is known of that message, for the probed ids the lake holds, and the
    /// parents an earlier segment holds of the replies without a thread of their own.
    pub found: HashMap<String, Landed>,
    /// parent id → its author, for the other parents an earlier segment holds (known
    /// without reading its files, see [`InputIds::landed`]).
    pub earlier_authors: HashMap<String, String>,
}

/// What the lake holds of a landed message that a new row names (itself or its parent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Landed {
    pub thread_id: String,
    pub brand: String,
    pub author_id: String,
}

impl Landed {
    /// A landed message of thread `thread_id`, brand `brand` and author `author_id`.
    ///
    /// ```
    /// let m = socialcx::ingest::stages::Landed::new("t1", "Acme", "ann");
    /// assert_eq!(m.author_id, "ann");
    /// ```
    pub fn new(thread_id: &str, brand: &str, author_id: &str) -> Self {
        Landed {
            thread_id: thread_id.into(),
            brand: brand.into(),
            author_id: author_id.into(),
        }
    }
}

impl LakeIds {
    /// Ask the engine's lake about `rows`' ids and their parents' (one hash join of the ids
    /// against the lake's `conversation_id` column, planned from an in-memory batch:
    /// nothing is registered in the shared session), and the files of the earlier segments
    /// of this input (`earlier`) about the parents they landed, for the replies that need
    /// their parent's thread; the other replies' parents' authors `earlier` remembers.
    ///
    /// ```no_run
    /// # async fn f(engine: &socialcx::Engine, rows: &[socialcx::model::Conversation]) -> socialcx::Result<()> {
    /// use socialcx::ingest::stages::{InputIds, LakeIds};
    /// let known = LakeIds::lookup(engine, rows, &InputIds::default()).await?;
    /// println!("{} of these ids are in the lake", known.found.len());
    /// # Ok(()) }
    /// ```
    pub async fn lookup(
        engine: &Engine,
        rows: &[Conversation],
        earlier: &InputIds,
    ) -> Result<Self> {
        let own: HashSet<&str> = rows.iter().map(|c| c.conversation_id.as_str()).collect();
        let mut in_lake: HashSet<&str> = own.clone();
        let mut in_segments: HashMap<u32, HashSet<&str>> = HashMap::new();
        let mut earlier_authors = HashMap::new();
        for row in rows {
            let Some(parent) = row.parent_id.as_deref() else {
                continue;
            };
            if own.contains(parent) {
                continue;
            }
            match earlier.landed(parent) {
                // Only a reply without a thread of its own needs its parent's.
                Some((segment, _)) if row.thread_id.is_none() => {
                    in_segments.entry(segment).or_default().insert(parent);
                }
                Some((_, author)) => {
                    earlier_authors.insert(parent.to_string(), author.to_string());
                }
                None => {
                    in_lake.insert(parent);
                }
            }
        }
        let lake_files = engine
            .lake()
            .snapshot()
            .await?
            .files(CONVERSATIONS)
            .is_empty();
        let mut found = HashMap::new();
        if !lake_files {
            let lake = engine
                .context()
                .table(CONVERSATIONS)
                .await?
                .select_columns(LANDED_COLUMNS)?;
            find_ids(engine, lake, in_lake.into_iter(), &mut found).await?;
        }
        if !in_segments.is_empty() {
            let def = lake::table(CONVERSATIONS).expect("a lake table");
            let urls: Vec<String> = in_segments
                .keys()
                .flat_map(|&s| earlier.files_of(s).iter().flatten())
                .map(|path| format!("{}{path}", lake::OBJECT_STORE_URL))
                .collect();
            let options = datafusion::prelude::ParquetReadOptions::default().schema(&def.schema);
            let staged = engine
                .context()
                .read_parquet(urls, options)
                .await?
                .select_columns(LANDED_COLUMNS)?;
            let parents = in_segments.into_values().flatten();
            find_ids(engine, staged, parents, &mut found).await?;
        }
        Ok(LakeIds {
            found,
            earlier_authors,
        })
    }
}

/// The columns [`find_ids`] reads of a landed message.
const LANDED_COLUMNS: &[&str] = &["conversation_id", "thread_id", "brand", "author_id"];

/// Look `ids` up in `source` (columns [`LANDED_COLUMNS`]), adding what it holds to `found`.
async fn find_ids<'a>(
    engine: &Engine,
    source: datafusion::dataframe::DataFrame,
    ids: impl Iterator<Item = &'a str>,
    found: &mut HashMap<String, Landed>,
) -> Result<()> {
    let ids = StringArray::from_iter_values(ids.collect::<Vec<_>>());
    if ids.is_empty() {
        return Ok(());
    }
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(ids)])?;
    let incoming = engine.context().read_batch(batch)?;
    let result = source
        .join(
            incoming,
            JoinType::Inner,
            &["conversation_id"],
            &["id"],
            None,
        )?
        .select_columns(LANDED_COLUMNS)?;
    let result = crate::engine::plain::plain_frame(result)?.collect().await?;
    for b in result {
        let [id, thread, brand, author] = [0, 1, 2, 3].map(|i| b.column(i).as_string::<i32>());
        for i in 0..b.num_rows() {
            found.insert(
                id.value(i).to_string(),
                Landed::new(thread.value(i), brand.value(i), author.value(i)),
            );
        }
    }
    Ok(())
}

/// What the earlier segments of one input landed, for the segments after them: every id
/// (as an 80-bit hash, 16 bytes an id whatever its length) with the segment that landed
/// it and its author (a number: each distinct author is kept once), the files each segment
/// wrote, and the parents that neither the lake nor the input held. A 10-million-row input
/// costs about 270 MB here.
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: Some(id.into()), parent_id: None, parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: String::new(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// use socialcx::ingest::stages::{InputIds, LakeIds, Rows};
/// let mut ids = InputIds::default();
/// ids.record(&[msg("1"), msg("2")], &LakeIds::default());
/// let mut next = Rows::from(vec![msg("2"), msg("3")]);
/// assert_eq!(ids.drop_landed_earlier(&mut next), 1);
/// assert_eq!(next.conversations[0].conversation_id, "3");
/// assert_eq!(ids.landed("1"), Some((0, "a")));
/// assert_eq!(ids.landed("3"), None);
/// ```
#[derive(Debug, Default)]
pub struct InputIds {
    ids: FastSet<IdKey>,
    unresolved_parents: FastSet<IdKey>,
    segment_files: Vec<Vec<String>>,
    /// Each distinct author once, by number (the map and the list share the string).
    author_numbers: datafusion::common::HashMap<Arc<str>, u32>,
    authors: Vec<Arc<str>>,
}

/// An id's hash: two 64-bit xxHash values of it (different seeds), 80 bits of them kept
/// (two ids of a 40-million-row input share one with a chance under 1e-9), and beside it
/// (not part of the key) the segment that landed it (segments from [`LAST_SEGMENT`] on
/// share that number) and its author's number.
#[derive(Debug, Clone, Copy)]
struct IdKey {
    low: u64,
    high: u16,
    segment: u16,
    author: u32,
}

/// The segment number that every segment from it on is recorded under.
const LAST_SEGMENT: u16 = u16::MAX;

impl IdKey {
    fn of(id: &str) -> Self {
        use twox_hash::XxHash64;
        IdKey {
            low: XxHash64::oneshot(0x5ca1_ab1e, id.as_bytes()),
            high: XxHash64::oneshot(0x0dd_ba11, id.as_bytes()) as u16,
            segment: 0,
            author: 0,
        }
    }
}

impl PartialEq for IdKey {
    fn eq(&self, other: &Self) -> bool {
        (self.low, self.high) == (other.low, other.high)
    }
}

impl Eq for IdKey {}

impl std::hash::Hash for IdKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.low);
    }
}

impl InputIds {
    /// Room for `rows` ids, so that the set is not regrown (and briefly doubled) as an
    /// input of that many rows lands.
    pub fn reserve(&mut self, rows: usize) {
        self.ids.reserve(rows.saturating_sub(self.ids.len()));
    }

    /// Drop the rows whose id an earlier segment landed (the first occurrence wins).
    /// Returns how many were dropped.
    pub fn drop_landed_earlier(&self, rows: &mut Rows) -> u64 {
        if self.ids.is_empty() {
            return 0;
        }
        rows.retain(|c| !self.ids.contains(&IdKey::of(&c.conversation_id)))
    }

    /// The segment that landed `id` and its author, if an earlier segment landed it
    /// (segments from the 65,535th on answer 65,535: see [`InputIds::files_of`]).
    pub fn landed(&self, id: &str) -> Option<(u32, &str)> {
        self.ids
            .get(&IdKey::of(id))
            .map(|k| (u32::from(k.segment), &*self.authors[k.author as usize]))
    }

    /// The files that `segment` (a [`InputIds::landed`] answer) wrote.
    fn files_of(&self, segment: u32) -> &[Vec<String>] {
        let segment = segment as usize;
        if segment == usize::from(LAST_SEGMENT) {
            &self.segment_files[segment..]
        } else {
            &self.segment_files[segment..=segment]
        }
    }

    /// Record the next segment: the `rows` it lands and the parents of theirs that neither
    /// the segment, the input before it, nor the lake (`found`) held. Its files follow with
    /// [`InputIds::written`].
    pub fn record(&mut self, rows: &[Conversation], found: &LakeIds) {
        let segment = self.segment_files.len().min(usize::from(LAST_SEGMENT)) as u16;
        self.ids.reserve(rows.len());
        for row in rows {
            let author = match self.author_numbers.get(row.author_id.as_str()) {
                Some(&n) => n,
                None => {
                    let n = self.authors.len() as u32;
                    let name: Arc<str> = Arc::from(row.author_id.as_str());
                    self.author_numbers.insert(Arc::clone(&name), n);
                    self.authors.push(name);
                    n
                }
            };
            self.ids.insert(IdKey {
                segment,
                author,
                ..IdKey::of(&row.conversation_id)
            });
        }
        for parent in rows.iter().filter_map(|r| r.parent_id.as_deref()) {
            let key = IdKey::of(parent);
            if !self.ids.contains(&key) && !found.found.contains_key(parent) {
                self.unresolved_parents.insert(key);
            }
        }
        self.segment_files.push(Vec::new());
    }

    /// The paths of conversations files the last recorded segment wrote.
    pub fn written(&mut self, paths: impl IntoIterator<Item = String>) {
        if let Some(files) = self.segment_files.last_mut() {
            files.extend(paths);
        }
    }

    /// Whether any of `ids` (landed by another writer meanwhile) is one this input lands,
    /// or a parent it found nowhere: then its threads or duplicates may be wrong, and it
    /// must be landed again against the new state.
    pub fn overlaps<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        ids.any(|id| {
            let key = IdKey::of(id);
            self.ids.contains(&key) || self.unresolved_parents.contains(&key)
        })
    }
}

/// Stage 4: fill in every row's `thread_id` from reply links (parents in the lake
/// included), every reply's `parent_author_id` (the parent's author, from the lake first,
/// since the first landing of an id wins, then the earlier segments, then this one), and
/// for TWCS input the brand
/// of each thread (see [`twcs::assign_brands`]).
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str, parent: Option<&str>) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: None, parent_id: parent.map(Into::into), parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: String::new(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// use socialcx::ingest::{readers::Layout, stages::{LakeIds, thread}};
/// let mut rows = vec![msg("2", Some("1")), msg("1", None)];
/// rows[1].author_id = "ann".into();
/// thread(&mut rows, Layout::Ndjson, &LakeIds::default());
/// assert_eq!(rows[0].thread_id.as_deref(), Some("1"));
/// assert_eq!(rows[0].parent_author_id.as_deref(), Some("ann"));
/// assert_eq!(rows[1].parent_author_id, None);
/// ```
pub fn thread(rows: &mut [Conversation], layout: Layout, lake: &LakeIds) {
    let known_threads: HashMap<String, String> = lake
        .found
        .iter()
        .map(|(id, landed)| (id.clone(), landed.thread_id.clone()))
        .collect();
    threads::rebuild_threads(rows, &known_threads);
    if layout == Layout::Twcs {
        let lake_brands: HashMap<String, String> = lake
            .found
            .values()
            .map(|landed| (landed.thread_id.clone(), landed.brand.clone()))
            .collect();
        twcs::assign_brands(rows, &lake_brands);
    }
    let own_authors: datafusion::common::HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.conversation_id.as_str(), r.author_id.as_str()))
        .collect();
    let parent_authors: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            let parent = r.parent_id.as_deref()?;
            match lake.found.get(parent) {
                Some(landed) => Some(landed.author_id.clone()),
                None => lake
                    .earlier_authors
                    .get(parent)
                    .cloned()
                    .or_else(|| own_authors.get(parent).map(|a| a.to_string())),
            }
        })
        .collect();
    drop(own_authors);
    for (row, author) in rows.iter_mut().zip(parent_authors) {
        row.parent_author_id = author;
    }
}

/// Stage 5: drop the rows whose id the lake already holds (first write wins). Returns how
/// many were dropped.
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: None, parent_id: None, parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: 0, text: String::new(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// use socialcx::ingest::stages::{Landed, LakeIds, Rows, drop_landed};
/// let mut lake = LakeIds::default();
/// lake.found.insert("1".into(), Landed::new("1", "b", "a"));
/// let mut rows = Rows::from(vec![msg("1"), msg("2")]);
/// assert_eq!(drop_landed(&mut rows, &lake), 1);
/// assert_eq!(rows.conversations[0].conversation_id, "2");
/// ```
pub fn drop_landed(rows: &mut Rows, lake: &LakeIds) -> u64 {
    if lake.found.is_empty() {
        return 0;
    }
    rows.retain(|c| !lake.found.contains_key(&c.conversation_id))
}

/// Stage 6: `rows` ordered by day, time and id, into the `conversations` files the lake's
/// [`layout`] plans (a busy day's own, a month's or a year's small days together), as
/// batches of at most a row group, written by operation `operation_id`, each row with its
/// `scores` (and each file with their fingerprint; without them the score columns are
/// null, for [`Scorer::score`] to fill). Rows are ordered through an index: none is moved.
///
/// ```
/// # use socialcx::model::Conversation;
/// # fn msg(id: &str, micros: i64) -> Conversation { Conversation {
/// #   conversation_id: id.into(), thread_id: Some(id.into()), parent_id: None, parent_author_id: None,
/// #   channel: "twitter".into(), brand: "b".into(), author_id: "a".into(),
/// #   author_followers: None, is_brand: false, created_at: micros, text: String::new(),
/// #   lang: None, likes: 0, shares: 0, replies: 0, mentions: vec![], hashtags: vec![],
/// #   rating: None } }
/// let day = 86_400_000_000;
/// let rows = vec![msg("late", 20_000 * day + 5), msg("early", 20_000 * day + 1)];
/// let files = socialcx::ingest::stages::plan_files(&rows.into(), None, "op1").unwrap();
/// assert_eq!(files.len(), 1);
/// assert_eq!(files[0].partition.dir.as_deref(), Some("date=2024-10-04"));
/// assert_eq!(files[0].batches[0].num_rows(), 2);
/// ```
pub fn plan_files(
    rows: &Rows,
    scores: Option<&RowScores>,
    operation_id: &str,
) -> Result<Vec<StagedFile>> {
    let Rows {
        conversations: rows,
        positions,
    } = rows;
    let def = lake::table(CONVERSATIONS).expect("a lake table");
    let mut order: Vec<(i32, i64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, c)| (date32(c.day()), c.created_at, i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
            rows[a.2 as usize]
                .conversation_id
                .cmp(&rows[b.2 as usize].conversation_id)
        })
    });
    let days: Vec<(NaiveDate, usize)> = order
        .chunk_by(|a, b| a.0 == b.0)
        .map(|day_rows| (rows[day_rows[0].2 as usize].day(), day_rows.len()))
        .collect();
    let planned: Vec<(Partition, Vec<u32>)> = layout::plan_days("date", &days)
        .into_iter()
        .map(|planned| {
            let picked = planned
                .rows
                .iter()
                .flat_map(|r| order[r.clone()].iter().map(|&(_, _, i)| i))
                .collect();
            (planned.partition, picked)
        })
        .collect();
    // Each file's row groups, built on every core.
    let groups: Vec<(usize, &[u32])> = planned
        .iter()
        .enumerate()
        .flat_map(|(file, (_, picked))| picked.chunks(ROW_GROUP_ROWS).map(move |g| (file, g)))
        .collect();
    let built = on_every_core(&groups, |&(_, group)| -> Result<RecordBatch> {
        let mut b = ConversationBatchBuilder::with_capacity(operation_id, group.len());
        group.iter().for_each(|&i| b.append(&rows[i as usize]));
        let batch = b.finish()?;
        let Some(scores) = scores else {
            return Ok(batch);
        };
        let scores = scores.take(group.iter().map(|&i| positions[i as usize]))?;
        crate::engine::scoring::with_scores(&batch, scores)
    });
    let file_of: Vec<usize> = groups.iter().map(|&(file, _)| file).collect();
    let mut files: Vec<StagedFile> = planned
        .into_iter()
        .map(|(partition, _)| StagedFile {
            def: def.clone(),
            partition,
            batches: Vec::new(),
            fingerprint: scores.map(|s| s.fingerprint.clone()),
        })
        .collect();
    for (file, batch) in file_of.into_iter().zip(built) {
        files[file].batches.push(batch?);
    }
    Ok(files)
}

/// `f` of each of `items`, in their order, the items shared out in runs over as many
/// threads as there are cores.
///
/// ```
/// let squares = socialcx::ingest::stages::on_every_core(&[1, 2, 3], |x| x * x);
/// assert_eq!(squares, [1, 4, 9]);
/// ```
pub fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(cores.min(items.len()));
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per_thread)
            .map(|run| scope.spawn(move || run.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// Replace each batch by its scored self, the batches shared out over the cores.
pub(crate) fn score_batches(engine: &Engine, batches: &mut [&mut RecordBatch]) -> Result<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let scorer = engine.scorer()?;
    let scored = on_every_core(batches, |batch| scorer.score(batch));
    for (batch, scored) in batches.iter_mut().zip(scored) {
        **batch = scored?;
    }
    Ok(())
}

/// Fill in `parent_author_id` where it is null and the lake holds the parent (files
/// written before the column existed, or replies that landed before their parents), with
/// one lookup of all the batches' unresolved parents. Used by `enrich` when it rewrites
/// files.
pub(crate) async fn fill_parent_authors(
    engine: &Engine,
    batches: &mut [&mut RecordBatch],
) -> Result<()> {
    use datafusion::arrow::array::StringBuilder;
    let column = |batch: &RecordBatch, name: &str| -> Result<StringArray> {
        let index = batch.schema().index_of(name)?;
        Ok(
            datafusion::arrow::compute::cast(batch.column(index), &DataType::Utf8)?
                .as_string::<i32>()
                .clone(),
        )
    };
    let columns: Vec<(StringArray, StringArray)> = batches
        .iter()
        .map(|b| Ok((column(b, "parent_id")?, column(b, PARENT_AUTHOR_ID)?)))
        .collect::<Result<_>>()?;
    let mut wanted: HashSet<&str> = HashSet::new();
    for (parents, authors) in &columns {
        for i in 0..parents.len() {
            if parents.is_valid(i) && authors.is_null(i) {
                wanted.insert(parents.value(i));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let lake = engine
        .context()
        .table(CONVERSATIONS)
        .await?
        .select_columns(LANDED_COLUMNS)?;
    let mut found = HashMap::new();
    find_ids(engine, lake, wanted.into_iter(), &mut found).await?;
    if found.is_empty() {
        return Ok(());
    }
    for (batch, (parents, authors)) in batches.iter_mut().zip(&columns) {
        let mut filled = StringBuilder::with_capacity(batch.num_rows(), 0);
        for i in 0..batch.num_rows() {
            if authors.is_valid(i) {
                filled.append_value(authors.value(i));
            } else if parents.is_valid(i) {
                filled.append_option(found.get(parents.value(i)).map(|l| l.author_id.as_str()));
            } else {
                filled.append_null();
            }
        }
        let index = batch.schema().index_of(PARENT_AUTHOR_ID)?;
        let mut columns = batch.columns().to_vec();
        columns[index] = Arc::new(filled.finish());
        **batch = RecordBatch::try_new(batch.schema(), columns)?;
    }
    Ok(())
}

/// Stage 7 (beside the conversations' files): stage the `rejected` rows of input `name`,
/// in line order, as one `quarantine` file of today's partition. Nothing is written when
/// there are none.
///
/// ```no_run
/// # async fn f(lake: std::sync::Arc<socialcx::lake::Lake>) -> socialcx::Result<()> {
/// use socialcx::ingest::{quarantine::Rejected, stages::write_quarantine};
/// let mut tx = lake.begin("ingest");
/// let bad = vec![Rejected { line: Some(2), reason: "missing text".into(), raw: "{}".into() }];
/// write_quarantine(&mut tx, "in.ndjson", bad).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub async fn write_quarantine(
    tx: &mut Transaction,
    name: &str,
    mut rejected: Vec<Rejected>,
) -> Result<()> {
    if rejected.is_empty() {
        return Ok(());
    }
    rejected.sort_by_key(|r| r.line);
    let def = lake::table(QUARANTINE).expect("a lake table");
    let now = Utc::now();
    let batch = quarantine_batch(tx.id(), name, now.timestamp_micros(), &rejected)?;
    let partition = Partition::value("date", now.date_naive().to_string());
    tx.write(&def, partition, vec![batch]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, TimestampMicrosecondArray};

    const DAY: i64 = 86_400_000_000;

    fn msg(id: &str, created_at: i64) -> Conversation {
        Conversation {
            conversation_id: id.into(),
            thread_id: Some(id.into()),
            parent_id: None,
            parent_author_id: None,
            channel: "twitter".into(),
            brand: "b".into(),
            author_id: "a".into(),
            author_followers: None,
            is_brand: false,
            created_at,
            text: format!("text of {id}"),
            lang: None,
            likes: 0,
            shares: 0,
            replies: 0,
            mentions: vec![],
            hashtags: vec![],
            rating: None,
        }
    }

    /// Every row lands in exactly one planned file, in order of time within its file.
    #[test]
    fn planned_files_hold_every_row_once_in_time_order() {
        // A busy day (its own file) and scattered small days of one month.
        let busy = 20_454 * DAY; // 2026-01-01
        let mut rows: Vec<Conversation> = (0..layout::SMALL_ROWS as i64 + 10)
            .rev()
            .map(|i| msg(&format!("busy{i}"), busy + i * 1_000))
            .collect();
        rows.extend((0..20).map(|d| msg(&format!("small{d}"), busy + (5 + d) * DAY)));
        let files = plan_files(&Rows::from(rows.clone()), None, "op").unwrap();
        let dirs: Vec<&str> = files
            .iter()
            .map(|f| f.partition.dir.as_deref().unwrap())
            .collect();
        assert_eq!(dirs, ["date=2026-01-01", "year=2026"]);
        let mut seen = HashSet::new();
        for file in &files {
            let mut last = i64::MIN;
            for batch in &file.batches {
                let ids = batch
                    .column_by_name("conversation_id")
                    .unwrap()
                    .as_string::<i32>();
                let times = batch
                    .column_by_name("created_at")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap();
                for i in 0..batch.num_rows() {
                    assert!(seen.insert(ids.value(i).to_string()), "a row landed twice");
                    assert!(times.value(i) >= last, "rows out of time order");
                    last = times.value(i);
                }
            }
        }
        assert_eq!(seen.len(), rows.len());
    }

    /// The first occurrence of an id is the one kept, with its own content.
    #[test]
    fn the_first_of_repeated_ids_is_kept() {
        let mut first = msg("1", 0);
        first.text = "first".into();
        let mut again = msg("1", 0);
        again.text = "again".into();
        let mut rows = Rows::from(vec![first, msg("2", 0), again]);
        assert_eq!(drop_repeated_ids(&mut rows), 1);
        assert_eq!(rows.conversations.len(), 2);
        assert_eq!(rows.conversations[0].text, "first");
    }

    /// A reply whose parent is in the lake joins the lake's thread and names the lake
    /// message's author as its parent's, even when the segment repeats the parent's id
    /// with another author (the first landing wins).
    #[test]
    fn replies_to_lake_messages_join_the_lake_thread() {
        let mut reply = msg("r", 0);
        reply.thread_id = None;
        reply.parent_id = Some("p".into());
        let mut again = msg("p", 0);
        again.thread_id = Some("root".into());
        again.author_id = "mallory".into();
        let mut lake = LakeIds::default();
        lake.found
            .insert("p".into(), Landed::new("root", "b", "ann"));
        let mut rows = Rows::from(vec![reply, again]);
        thread(&mut rows.conversations, Layout::Ndjson, &lake);
        assert_eq!(rows.conversations[0].thread_id.as_deref(), Some("root"));
        assert_eq!(
            rows.conversations[0].parent_author_id.as_deref(),
            Some("ann")
        );
        assert_eq!(drop_landed(&mut rows, &lake), 1);
    }
}
