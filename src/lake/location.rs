//! Where the lake lives: turning a lake URL into an `object_store` rooted at the lake.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use url::Url;

use crate::{Error, Result};

/// The default lake: `./lake` on the local filesystem.
pub const DEFAULT_LAKE: &str = "./lake";

/// What a command does with its lake, which decides what a local lake directory that does
/// not exist means.
///
/// ```
/// use socialcx::lake::location::Access;
/// assert_eq!(Access::default(), Access::Write); // the library's `open` creates, as before
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Only read (`sql`, `shell`, `report`, `serve`, `jobs list`): a local lake directory
    /// that does not exist is an error saying how to make one, and nothing is created, so
    /// a mistyped `--lake` never reads as an empty lake. `memory://` and object storage
    /// are unchanged: an object-store prefix with no commit log is an empty lake.
    Read,
    /// Read and write (`ingest`, `demo`, `jobs run`): a local lake directory that does
    /// not exist is created (see [`LakeLocation::created`]).
    #[default]
    Write,
}

/// A lake URL, resolved: the store rooted at the lake, and a printable URL.
#[derive(Debug, Clone)]
pub struct LakeLocation {
    /// The URL as shown to people (no credentials).
    pub display: String,
    /// The object store, rooted at the lake: every lake path is relative to it.
    pub store: Arc<dyn ObjectStore>,
    /// Whether resolving made a new local lake directory ([`Access::Write`] only).
    pub created: bool,
}

/// Resolve a lake URL to read and write it ([`Access::Write`]).
///
/// A path or `file://` URL is a local directory (created if missing); `memory://` is
/// an in-process store (for tests and experiments); `s3://bucket/prefix`,
/// `gs://bucket/prefix` and `az://container/prefix` are object storage, configured from the
/// environment (see [`super::cloud`]).
///
/// ```
/// let loc = socialcx::lake::location::resolve("memory://").unwrap();
/// assert_eq!(loc.display, "memory://");
/// ```
pub fn resolve(lake: &str) -> Result<LakeLocation> {
    resolve_with(lake, &[])
}

/// Resolve a lake URL with object-store `options` (see [`super::cloud::store`]), which
/// override the environment's configuration.
///
/// ```
/// let options = [("aws_endpoint".to_string(), "http://localhost:9000".to_string())];
/// let loc = socialcx::lake::location::resolve_with("s3://bucket/lake", &options).unwrap();
/// assert_eq!(loc.display, "s3://bucket/lake");
/// ```
pub fn resolve_with(lake: &str, options: &[(String, String)]) -> Result<LakeLocation> {
    resolve_for(lake, options, Access::Write)
}

/// Resolve a lake URL with object-store `options` for `access`: with [`Access::Read`] a
/// local lake directory that does not exist is an error that says how to make one, and
/// nothing is created.
///
/// ```
/// use socialcx::lake::location::{Access, resolve_for};
/// let missing = std::env::temp_dir().join("socialcx-doc-no-such-lake");
/// let err = resolve_for(missing.to_str().unwrap(), &[], Access::Read).unwrap_err();
/// assert!(err.to_string().contains("socialcx ingest FILE --lake"), "{err}");
/// assert!(!missing.exists());
/// assert!(resolve_for("memory://", &[], Access::Read).is_ok());
/// ```
pub fn resolve_for(
    lake: &str,
    options: &[(String, String)],
    access: Access,
) -> Result<LakeLocation> {
    let err = |message: String| Error::Lake {
        url: redact(lake),
        message,
    };
    match Url::parse(lake) {
        Ok(url) if url.scheme() == "file" => {
            let path = url
                .to_file_path()
                .map_err(|_| err("not a local path".into()))?;
            local(path, lake, access)
        }
        Ok(url) if url.scheme() == "memory" => Ok(LakeLocation {
            display: "memory://".into(),
            store: Arc::new(InMemory::new()),
            created: false,
        }),
        Ok(url) if super::cloud::is_cloud(&url) => {
            if url.host_str().unwrap_or_default().is_empty() {
                return Err(err("no bucket in the URL (s3://bucket/prefix)".into()));
            }
            let store = super::cloud::store(&url, options).map_err(err)?;
            // An empty prefix is a lake with no commits: nothing to create or refuse.
            Ok(LakeLocation {
                display: redact(lake),
                store,
                created: false,
            })
        }
        // A Windows drive letter parses as a one-letter scheme: treat it as a path.
        Ok(url) if url.scheme().len() > 1 => Err(err(format!(
            "unsupported scheme '{}': use a local path, file://, memory://, s3://, gs:// or az://",
            url.scheme()
        ))),
        _ => local(PathBuf::from(lake), lake, access),
    }
}

/// The local lake directory at `path` (`original` as given, for messages): created when
/// missing for [`Access::Write`], refused when missing for [`Access::Read`].
fn local(path: PathBuf, original: &str, access: Access) -> Result<LakeLocation> {
    let err = |message: String| Error::Lake {
        url: original.into(),
        message,
    };
    let created = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => false,
        Ok(_) => return Err(err("this is a file, not a lake directory".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match access {
            Access::Read => return Err(err(missing_lake(original))),
            Access::Write => {
                std::fs::create_dir_all(&path)
                    .map_err(|e| err(format!("cannot create the lake directory: {e}")))?;
                true
            }
        },
        Err(e) => return Err(err(format!("cannot read the lake directory: {e}"))),
    };
    let path = path.canonicalize().map_err(|e| Error::Lake {
        url: original.into(),
        message: e.to_string(),
    })?;
    let store = LocalFileSystem::new_with_prefix(&path).map_err(|e| Error::Lake {
        url: original.into(),
        message: e.to_string(),
    })?;
    Ok(LakeLocation {
        display: format!("file://{}", path.display()),
        store: Arc::new(store),
        created,
    })
}

/// What a read of a local lake that is not there says: nothing was created, and how to
/// make one.
fn missing_lake(original: &str) -> String {
    let quoted = if original.contains(|c: char| c.is_whitespace() || c == '\'') {
        format!("'{}'", original.replace('\'', r"'\''"))
    } else {
        original.to_string()
    };
    format!(
        "no lake here: the directory does not exist (nothing was created). Check the path, or \
         make a lake there: socialcx ingest FILE --lake {quoted} (or socialcx demo --lake \
         {quoted} for the shipped sample)"
    )
}

/// A URL without the user-info part, safe to print.
///
/// ```
/// assert_eq!(socialcx::lake::location::redact("s3://key:secret@bucket/x"), "s3://bucket/x");
/// ```
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.scheme().len() > 1 => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Access, resolve_for};

    #[test]
    fn a_read_refuses_a_missing_lake_directory_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("lakee");
        let url = missing.to_str().unwrap();
        let err = resolve_for(url, &[], Access::Read).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("lake {url}: no lake here")),
            "{err}"
        );
        assert!(
            err.contains(&format!("socialcx ingest FILE --lake {url}")),
            "{err}"
        );
        assert!(!missing.exists(), "a read created the directory");
        // The same through a file:// URL.
        let file_url = format!("file://{url}");
        assert!(resolve_for(&file_url, &[], Access::Read).is_err());
        assert!(!missing.exists());
    }

    #[test]
    fn a_write_creates_a_missing_lake_directory_and_says_it_did() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("new/lake");
        let url = missing.to_str().unwrap();
        let created = resolve_for(url, &[], Access::Write).unwrap();
        assert!(created.created && missing.is_dir());
        assert!(
            created.display.starts_with("file://"),
            "{}",
            created.display
        );
        // Once there, neither a write nor a read creates it again.
        assert!(!resolve_for(url, &[], Access::Write).unwrap().created);
        assert!(!resolve_for(url, &[], Access::Read).unwrap().created);
    }

    #[test]
    fn a_file_is_not_a_lake() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lake");
        std::fs::write(&file, "not a lake").unwrap();
        for access in [Access::Read, Access::Write] {
            let err = resolve_for(file.to_str().unwrap(), &[], access).unwrap_err();
            assert!(
                err.to_string().contains("a file, not a lake directory"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_quoted_path_in_the_advice_can_be_pasted() {
        let advice = super::missing_lake("my lake");
        assert!(advice.contains("--lake 'my lake'"), "{advice}");
    }
}
