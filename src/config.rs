//! The one loader of TOML configuration files (the server's, the jobs file, lexicons,
//! taxonomies, the routing table). Every one is read and parsed here, and every failure is
//! one [`Error::Config`]: the file (or where the text came from), the line and column when
//! known, and what is wrong in plain words. Callers check what the file says afterwards and
//! report that with [`Error::config`], in the same shape.

use std::io::ErrorKind;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::{Error, Result};

/// Parse `text` as TOML into a `T`; `origin` names the text in errors (a path, or
/// `taxonomy.toml (shipped)`).
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Routing {
///     teams: std::collections::BTreeMap<String, String>,
/// }
/// let r: Routing = socialcx::config::parse_toml("[teams]\nservice = \"care\"\n", "routing.toml").unwrap();
/// assert_eq!(r.teams["service"], "care");
///
/// let e = socialcx::config::parse_toml::<Routing>("[teams\n", "routing.toml").unwrap_err();
/// assert!(e.to_string().starts_with("routing.toml, line 1, column "), "{e}");
/// ```
pub fn parse_toml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| toml_error(&e, text, origin))
}

/// Read the TOML file at `path` and parse it into a `T` (errors name the path).
///
/// ```no_run
/// #[derive(serde::Deserialize)]
/// struct Routing {
///     teams: std::collections::BTreeMap<String, String>,
/// }
/// let routing: Routing = socialcx::config::load_toml(std::path::Path::new("routing.toml"))?;
/// println!("{} stages routed", routing.teams.len());
/// # Ok::<(), socialcx::Error>(())
/// ```
pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::config(&origin, unreadable(&e)))?;
    parse_toml(&text, &origin)
}

/// A TOML error as an [`Error::Config`]: where it is in `text`, and what it says.
fn toml_error(e: &toml::de::Error, text: &str, origin: &str) -> Error {
    match e.span() {
        Some(span) => {
            let (line, column) = position(text, span.start);
            Error::Config {
                path: origin.to_string(),
                line: Some(line),
                column: Some(column),
                message: e.message().to_string(),
            }
        }
        // No place to point at: the whole text, which names the keys if there are any.
        None => {
            let shown = e.to_string();
            let words: Vec<&str> = shown.lines().map(str::trim).collect();
            Error::config(origin, words.join(" ").trim())
        }
    }
}

/// The line and column (from 1, the column in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Why a file cannot be read, in plain words.
fn unreadable(e: &std::io::Error) -> String {
    let reason = match e.kind() {
        ErrorKind::NotFound => "no such file".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::IsADirectory => "it is a directory".to_string(),
        ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
        _ => e.to_string(),
    };
    format!("cannot read it: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Routing {
        teams: std::collections::BTreeMap<String, String>,
    }

    #[test]
    fn a_good_file_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("routing.toml");
        std::fs::write(&path, "[teams]\nservice = \"care\"\n").unwrap();
        let r: Routing = load_toml(&path).unwrap();
        assert_eq!(r.teams["service"], "care");
        let r: Routing = parse_toml("[teams]\npurchase = \"sales\"\n", "text").unwrap();
        assert_eq!(r.teams["purchase"], "sales");
    }

    #[test]
    fn a_syntax_error_names_the_origin_and_line() {
        let e =
            parse_toml::<Routing>("[teams]\nservice = \"care\"\n[more\n", "mine.toml").unwrap_err();
        let Error::Config {
            path, line, column, ..
        } = &e
        else {
            panic!("not a config error: {e:?}");
        };
        assert_eq!((path.as_str(), *line), ("mine.toml", Some(3)), "{e}");
        assert_eq!(*column, Some(6), "{e}");
        let text = e.to_string();
        assert!(text.starts_with("mine.toml, line 3, column 6: "), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }

    #[test]
    fn a_wrong_key_is_a_config_error_too() {
        let e = parse_toml::<Routing>("[teams]\n[tems]\n", "mine.toml").unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("mine.toml") && text.contains("tems"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nowhere.toml");
        let e = load_toml::<Routing>(&path).unwrap_err();
        let shown = path.display().to_string();
        assert!(
            matches!(&e, Error::Config { path, line: None, .. } if *path == shown),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("{shown}: cannot read it: no such file")
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é=x", 2), (1, 2));
        assert_eq!(position("ab", 99), (1, 3));
    }
}
