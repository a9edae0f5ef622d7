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

/// A lake URL, resolved: the store rooted at the lake, and a printable URL.
#[derive(Debug, Clone)]
pub struct LakeLocation {
    /// The URL as shown to people (no credentials).
    pub display: String,
    /// The object store, rooted at the lake: every lake path is relative to it.
    pub store: Arc<dyn ObjectStore>,
}

/// Resolve a lake URL.
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
    let err = |message: String| Error::Lake {
        url: redact(lake),
        message,
    };
    match Url::parse(lake) {
        Ok(url) if url.scheme() == "file" => {
            let path = url
                .to_file_path()
                .map_err(|_| err("not a local path".into()))?;
            local(path, lake)
        }
        Ok(url) if url.scheme() == "memory" => Ok(LakeLocation {
            display: "memory://".into(),
            store: Arc::new(InMemory::new()),
        }),
        Ok(url) if super::cloud::is_cloud(&url) => {
            if url.host_str().unwrap_or_default().is_empty() {
                return Err(err("no bucket in the URL (s3://bucket/prefix)".into()));
            }
            let store = super::cloud::store(&url, options).map_err(err)?;
            Ok(LakeLocation {
                display: redact(lake),
                store,
            })
        }
        // A Windows drive letter parses as a one-letter scheme: treat it as a path.
        Ok(url) if url.scheme().len() > 1 => Err(err(format!(
            "unsupported scheme '{}': use a local path, file://, memory://, s3://, gs:// or az://",
            url.scheme()
        ))),
        _ => local(PathBuf::from(lake), lake),
    }
}

fn local(path: PathBuf, original: &str) -> Result<LakeLocation> {
    std::fs::create_dir_all(&path).map_err(|e| Error::Lake {
        url: original.into(),
        message: format!("cannot create the lake directory: {e}"),
    })?;
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
    })
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
