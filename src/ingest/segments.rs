//! Reading an input a segment at a time, so that what ingest holds in memory is bounded by
//! the segment size, not by the input's.
//!
//! NDJSON is cut into segments of whole lines, each about
//! [`IngestOptions::segment_bytes`](super::IngestOptions::segment_bytes) long (a line is
//! never split). CSV and Parquet are one segment, the whole input: a CSV record may span
//! lines and TWCS threads are given their brand across the whole file, and a Parquet file's
//! footer comes last. The input's SHA-256 is computed as it is read.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::MAX_STREAM_LINE;
use super::readers;

/// Whole lines of an input.
#[derive(Debug, Clone)]
pub struct Segment {
    pub bytes: Bytes,
    /// The 1-based line number of the segment's first line in its input.
    pub first_line: i64,
    /// The byte offset of the segment in its input.
    pub offset: u64,
}

enum Source {
    /// A file or a stream, read as segments are asked for.
    Reader {
        reader: Box<dyn Read + Send>,
        /// A pipe or a device: a line past [`MAX_STREAM_LINE`] stops the reading.
        stream: bool,
    },
    /// An input already in memory: segments are slices of it, nothing is copied.
    Memory(Bytes),
}

/// An input, read one [`Segment`] at a time.
///
/// ```
/// use socialcx::ingest::segments::Segments;
/// let mut input = Segments::from_bytes("in.ndjson", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n".into(), 8);
/// let first = input.next_segment().unwrap().unwrap();
/// assert_eq!(&first.bytes[..], b"{\"a\":1}\n");
/// let second = input.next_segment().unwrap().unwrap();
/// assert_eq!(second.first_line, 2);
/// ```
pub struct Segments {
    name: String,
    source: Source,
    segment_bytes: usize,
    /// Bytes read past the last segment handed out.
    carry: Vec<u8>,
    next_line: i64,
    offset: u64,
    /// Decided on the first segment: NDJSON is cut in segments, the rest is read whole.
    whole: Option<bool>,
    eof: bool,
    hasher: Option<Sha256>,
    sha256: Option<String>,
    total: Option<u64>,
}

impl Segments {
    /// Open the input at `path` (a file, a pipe or a device).
    ///
    /// ```no_run
    /// let input = socialcx::ingest::segments::Segments::open("in.ndjson".as_ref(), 64 << 20).unwrap();
    /// println!("{:?} bytes", input.total());
    /// ```
    pub fn open(path: &Path, segment_bytes: usize) -> Result<Self, String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if meta.is_dir() {
            return Err("is a directory".into());
        }
        let file = File::open(path).map_err(|e| e.to_string())?;
        let stream = !meta.is_file();
        let source = Source::Reader {
            reader: Box::new(file),
            stream,
        };
        let total = (!stream).then_some(meta.len());
        let name = path.display().to_string();
        Ok(Self::new(name, source, segment_bytes, total, None))
    }

    /// An input already in memory, named `name`.
    pub fn from_bytes(name: &str, bytes: Bytes, segment_bytes: usize) -> Self {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let total = Some(bytes.len() as u64);
        let source = Source::Memory(bytes);
        Self::new(name.to_string(), source, segment_bytes, total, Some(sha256))
    }

    fn new(
        name: String,
        source: Source,
        segment_bytes: usize,
        total: Option<u64>,
        sha256: Option<String>,
    ) -> Self {
        Segments {
            name,
            hasher: sha256.is_none().then(Sha256::new),
            sha256,
            total,
            source,
            segment_bytes: segment_bytes.max(1),
            carry: Vec::new(),
            next_line: 1,
            offset: 0,
            whole: None,
            eof: false,
        }
    }

    /// The input's size in bytes, when known before reading it (not for a pipe).
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The input's SHA-256 (hex), known once the input is read to its end (at once for an
    /// input in memory).
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// Read the input to its end without keeping it, for its SHA-256 (an input of the same
    /// size as one landed before is checked before any work is done).
    pub fn hash_only(path: &Path) -> Result<String, String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Ok(hex::encode(hasher.finalize()));
            }
            hasher.update(&buf[..n]);
        }
    }

    /// The bytes handed out in segments so far: the input's size once it is read.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// The next segment, `None` after the last (an empty input is one empty segment).
    /// `Err` is an input that cannot be read (a read error, or a stream that is not
    /// line-oriented text).
    pub fn next_segment(&mut self) -> Result<Option<Segment>, String> {
        let first = self.whole.is_none();
        let segment = self.next_nonempty()?;
        if segment.is_none() && first {
            self.whole = Some(true);
            return Ok(Some(Segment {
                bytes: Bytes::new(),
                first_line: 1,
                offset: 0,
            }));
        }
        Ok(segment)
    }

    fn next_nonempty(&mut self) -> Result<Option<Segment>, String> {
        let bytes = match &mut self.source {
            Source::Memory(all) => {
                let start = self.offset as usize;
                if start >= all.len() {
                    return Ok(None);
                }
                let whole = *self
                    .whole
                    .get_or_insert_with(|| !readers::reads_in_segments(&self.name, &all[start..]));
                let end = if whole {
                    all.len()
                } else {
                    line_end(all, (start + self.segment_bytes).min(all.len()))
                };
                all.slice(start..end)
            }
            Source::Reader { .. } => match self.read_segment()? {
                Some(bytes) => bytes,
                None => return Ok(None),
            },
        };
        let segment = Segment {
            first_line: self.next_line,
            offset: self.offset,
            bytes,
        };
        self.next_line += segment.bytes.iter().filter(|&&b| b == b'\n').count() as i64;
        self.offset += segment.bytes.len() as u64;
        Ok(Some(segment))
    }

    fn read_segment(&mut self) -> Result<Option<Bytes>, String> {
        let Source::Reader { reader, stream } = &mut self.source else {
            unreachable!("called for readers only");
        };
        let mut want = self.segment_bytes;
        loop {
            // Read until the segment is full or the input ends, into room made once for
            // what is left of a file (a growing buffer is copied each time it doubles).
            let left = self.total.map_or(8 << 20, |total| {
                total.saturating_sub(self.offset + self.carry.len() as u64) as usize
            });
            self.carry
                .reserve(want.saturating_sub(self.carry.len()).min(left));
            while !self.eof && self.carry.len() < want {
                let before = self.carry.len();
                let chunk = (want - before).min(8 << 20) as u64;
                reader
                    .by_ref()
                    .take(chunk)
                    .read_to_end(&mut self.carry)
                    .map_err(|e| e.to_string())?;
                if let Some(h) = &mut self.hasher {
                    h.update(&self.carry[before..]);
                }
                if self.carry.len() == before {
                    self.eof = true;
                    let sha = self.hasher.take().expect("hashed once").finalize();
                    self.sha256 = Some(hex::encode(sha));
                }
            }
            if self.carry.is_empty() {
                return Ok(None);
            }
            let whole = *self
                .whole
                .get_or_insert_with(|| !readers::reads_in_segments(&self.name, &self.carry));
            if whole {
                if self.eof {
                    return Ok(Some(Bytes::from(std::mem::take(&mut self.carry))));
                }
                if *stream && !self.carry.starts_with(b"PAR1") {
                    let last_break = self.carry.iter().rposition(|&b| b == b'\n');
                    let run = self.carry.len() - last_break.map_or(0, |i| i + 1);
                    if run > MAX_STREAM_LINE {
                        return Err(not_lines());
                    }
                }
                want = self.carry.len() + self.segment_bytes;
                continue;
            }
            let cut = if self.eof {
                Some(self.carry.len())
            } else {
                self.carry.iter().rposition(|&b| b == b'\n').map(|i| i + 1)
            };
            match cut {
                Some(cut) => {
                    let rest = self.carry.split_off(cut);
                    let segment = std::mem::replace(&mut self.carry, rest);
                    return Ok(Some(Bytes::from(segment)));
                }
                // One line longer than a segment: read on to its end.
                None if *stream && self.carry.len() > MAX_STREAM_LINE => return Err(not_lines()),
                None => want = self.carry.len() + self.segment_bytes,
            }
        }
    }
}

fn not_lines() -> String {
    format!(
        "a line longer than {} MiB: not line-oriented text (stopped reading)",
        MAX_STREAM_LINE >> 20
    )
}

/// The end of the line that `at` falls in (just past its line break), or the end of `all`.
fn line_end(all: &[u8], at: usize) -> usize {
    if at == 0 {
        return 0;
    }
    match all[at - 1..].iter().position(|&b| b == b'\n') {
        Some(i) => at + i,
        None => all.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(n: usize) -> String {
        (0..n).map(|i| format!("{{\"n\":{i}}}\n")).collect()
    }

    fn all_segments(mut s: Segments) -> Vec<Segment> {
        std::iter::from_fn(|| s.next_segment().unwrap()).collect()
    }

    /// Every byte once, in order, cut only after a line break, line numbers following on.
    #[test]
    fn segments_are_whole_lines_covering_the_input_once() {
        let text = lines(1000);
        let mut file = tempfile::NamedTempFile::with_suffix(".ndjson").unwrap();
        file.write_all(text.as_bytes()).unwrap();
        for size in [1, 7, 100, 4096, 1 << 20] {
            for segments in [
                all_segments(Segments::open(file.path(), size).unwrap()),
                all_segments(Segments::from_bytes("x.ndjson", text.clone().into(), size)),
            ] {
                let mut joined = Vec::new();
                let mut line = 1;
                for s in &segments {
                    assert_eq!(s.offset as usize, joined.len());
                    assert_eq!(s.first_line, line);
                    assert!(s.bytes.ends_with(b"\n"), "a segment ends inside a line");
                    line += s.bytes.iter().filter(|&&b| b == b'\n').count() as i64;
                    joined.extend_from_slice(&s.bytes);
                }
                assert_eq!(joined, text.as_bytes());
                if size <= 100 {
                    assert!(segments.len() > 10, "{size}: {} segments", segments.len());
                }
            }
        }
    }

    /// The hash is the input's, known once it is read; a last line without a break is kept.
    #[test]
    fn the_hash_is_of_the_whole_input_and_the_last_line_is_kept() {
        let text = format!("{}{{\"last\":1}}", lines(50));
        let mut file = tempfile::NamedTempFile::with_suffix(".ndjson").unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut input = Segments::open(file.path(), 64).unwrap();
        let mut joined = Vec::new();
        while let Some(s) = input.next_segment().unwrap() {
            joined.extend_from_slice(&s.bytes);
        }
        assert_eq!(joined, text.as_bytes());
        let expected = hex::encode(Sha256::digest(text.as_bytes()));
        assert_eq!(input.sha256(), Some(expected.as_str()));
        assert_eq!(Segments::hash_only(file.path()).unwrap(), expected);
    }

    /// CSV is one segment, whatever the segment size.
    #[test]
    fn csv_is_read_whole() {
        let text = "conversation_id,text\n1,\"two\nlines\"\n2,b\n".repeat(20);
        let mut file = tempfile::NamedTempFile::with_suffix(".csv").unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let segments = all_segments(Segments::open(file.path(), 16).unwrap());
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].bytes.len(), text.len());
    }
}
