//! Files that appear whole or not at all, and stdout, behind one writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::OutputFormat;
use crate::{Error, Result};

/// Where a result goes: stdout, or a file that appears whole or not at all. A file is
/// written under a hidden temporary name beside it and renamed into place by
/// [`Destination::commit`]; dropped without a commit (an error, Ctrl-C), the temporary file
/// is removed and any earlier file of that name stays as it was.
///
/// ```
/// use std::io::Write;
/// use socialcx::output::{Destination, OutputFormat};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.csv");
/// let mut out = Destination::open(Some(&path), OutputFormat::Csv).unwrap();
/// out.write_all(b"a\n1\n").unwrap();
/// assert!(!path.exists());
/// out.commit().unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\n1\n");
/// ```
pub struct Destination {
    writer: Option<Box<dyn Write + Send>>,
    /// (temporary, final) paths of a file destination.
    file: Option<(PathBuf, PathBuf)>,
}

impl Destination {
    /// The file at `path`, else stdout (Parquet needs a file).
    pub fn open(path: Option<&Path>, format: OutputFormat) -> Result<Destination> {
        let Some(path) = path else {
            if format == OutputFormat::Parquet {
                return Err(Error::Usage(
                    "--format parquet needs an output file: add -o FILE.parquet".into(),
                ));
            }
            return Ok(Destination {
                writer: Some(Box::new(BufWriter::new(std::io::stdout()))),
                file: None,
            });
        };
        // A device, a FIFO or a socket (`-o /dev/null`, a named pipe) is written through:
        // replacing it with a regular file would break it.
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::Usage(format!(
                    "-o {}: is a directory, not a file",
                    path.display()
                )));
            }
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io(path.display().to_string(), e))?;
                return Ok(Destination {
                    writer: Some(Box::new(BufWriter::new(file))),
                    file: None,
                });
            }
            _ => {}
        }
        // A symlink stays a symlink: the file it points to is replaced.
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let target = if is_link {
            resolve_link(path)?
        } else {
            path.to_path_buf()
        };
        let name = target
            .file_name()
            .ok_or_else(|| Error::Usage(format!("-o {}: not a file name", path.display())))?;
        let temporary = target.with_file_name(format!(
            ".{}.partial-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file =
            File::create(&temporary).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(Destination {
            writer: Some(Box::new(BufWriter::new(file))),
            file: Some((temporary, target)),
        })
    }

    /// Finish: flush, and move a file into place.
    pub fn commit(mut self) -> Result<()> {
        let mut writer = self.writer.take().expect("not yet committed");
        let target = self.file.as_ref().map(|(_, p)| p.display().to_string());
        writer
            .flush()
            .map_err(|e| Error::io(target.clone().unwrap_or_else(|| "stdout".into()), e))?;
        drop(writer);
        if let Some((temporary, path)) = self.file.take() {
            std::fs::rename(&temporary, &path).map_err(|e| {
                let _ = std::fs::remove_file(&temporary);
                Error::io(path.display().to_string(), e)
            })?;
        }
        Ok(())
    }
}

/// The file a symlink finally points to (which may not exist yet).
fn resolve_link(link: &Path) -> Result<PathBuf> {
    let mut current = link.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Err(_) => return Ok(current),
        }
    }
    Err(Error::Usage(format!(
        "-o {}: too many levels of symbolic links",
        link.display()
    )))
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.as_mut().expect("not committed").flush()
    }
}

impl Drop for Destination {
    fn drop(&mut self) {
        if let Some((temporary, _)) = self.file.take() {
            self.writer = None;
            let _ = std::fs::remove_file(temporary);
        }
    }
}
