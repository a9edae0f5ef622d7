//! Progress of long work (ingest, generation), reported to whoever supplies a
//! [`Progress`]: the CLI draws bars, a library caller may ignore it ([`Silent`]).

/// What a step counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Files,
    Rows,
    /// Steps of work of no common size (a report's graph, say).
    Steps,
}

/// Receives the progress of one piece of long work, one step at a time.
///
/// ```
/// use socialcx::progress::{Progress, Silent, Unit};
/// let p = Silent;
/// p.start("reading in.ndjson", 1024, Unit::Bytes);
/// p.set(512);
/// p.message("checking the lake");
/// p.finish();
/// ```
pub trait Progress: Send + Sync {
    /// A new step (`reading in.ndjson`) of `total` units.
    fn start(&self, message: &str, total: u64, unit: Unit);
    /// `done` units of the current step are finished.
    fn set(&self, done: u64);
    /// What is happening now, within the current step.
    fn message(&self, message: &str);
    /// The work is over: clear whatever was shown.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64, _: Unit) {}
    fn set(&self, _: u64) {}
    fn message(&self, _: &str) {}
    fn finish(&self) {}
}
