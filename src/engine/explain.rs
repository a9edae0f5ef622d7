//! Query errors in plain words, for the person who wrote the SQL. Every interface that runs
//! someone's SQL (`socialcx sql`, the shell, the Flight SQL server) turns a DataFusion error
//! into its message with [`explain_error`], which knows three common mistakes and leaves
//! every other message as DataFusion wrote it:
//!
//! - a date that does not exist (`DATE '2026-02-30'`, `'2026-13-01'::date`):
//!   `'2026-02-30' is not a valid date (expected YYYY-MM-DD, a day that exists)`, and the
//!   same for a timestamp;
//! - a table that is not there: `table 'conversation' not found; did you mean
//!   'conversations'?`, with the closest table or view name (`metrics.*` among them);
//! - a syntax error: where it is, what the parser expected, and the line of the SQL with a
//!   caret under the place.
//!
//! DataFusion's own message is logged at info level (`-v` on the command line) whenever it
//! is replaced.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

use super::{CATALOG, Engine, SCHEMA};
use crate::lake::metrics::METRICS;

/// `error`, met running `sql` on `engine`, in plain words (see the module docs); any other
/// error as DataFusion says it, without backtraces.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) {
/// use socialcx::engine::explain::explain_error;
/// let sql = "SELECT count(*) FROM conversation";
/// let err = engine.sql(sql).await.unwrap_err();
/// let socialcx::Error::Query(e) = err else { unreachable!() };
/// assert_eq!(explain_error(&engine, sql, &e), "table 'conversation' not found; did you mean 'conversations'?");
/// # }
/// ```
pub fn explain_error(engine: &Engine, sql: &str, error: &DataFusionError) -> String {
    let original = error.strip_backtrace();
    match explain_with(sql, error, || known_tables(engine)) {
        Some(plain) => {
            tracing::info!(target: "socialcx::engine", "DataFusion's message: {original}");
            plain
        }
        None => original,
    }
}

/// A crate error met running `sql` on `engine` as its message: a query error through
/// [`explain_error`], any other as it displays.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) {
/// let sql = "SELEC 1";
/// let err = engine.parse(sql).unwrap_err();
/// let message = socialcx::engine::explain::explain(&engine, sql, &err);
/// assert!(message.starts_with("syntax error at line 1, column 1"), "{message}");
/// # }
/// ```
pub fn explain(engine: &Engine, sql: &str, error: &crate::Error) -> String {
    match error {
        crate::Error::Query(e) => explain_error(engine, sql, e),
        other => other.to_string(),
    }
}

/// The tables and views of `engine` as a query names them: bare in the default schema,
/// `metrics.NAME` for the jobs' tables.
fn known_tables(engine: &Engine) -> Vec<String> {
    let mut names = engine.table_names();
    if let Some(metrics) = engine
        .context()
        .catalog(CATALOG)
        .and_then(|c| c.schema(METRICS))
    {
        names.extend(
            metrics
                .table_names()
                .into_iter()
                .map(|t| format!("{METRICS}.{t}")),
        );
    }
    names
}

/// The plain-words message for `error` met running `sql`, when it is one of the mistakes
/// this module knows; `tables` gives the names an unknown table is compared with (called
/// only then).
///
/// ```
/// use datafusion::error::DataFusionError;
/// use socialcx::engine::explain::explain_with;
/// let tables = || vec!["conversations".to_string(), "metrics.daily".to_string()];
/// let unknown = DataFusionError::Plan("table 'socialcx.metrics.dayly' not found".into());
/// assert_eq!(
///     explain_with("SELECT * FROM metrics.dayly", &unknown, tables).as_deref(),
///     Some("table 'metrics.dayly' not found; did you mean 'metrics.daily'?")
/// );
/// let other = DataFusionError::Plan("something else".into());
/// assert_eq!(explain_with("SELECT 1", &other, tables), None);
/// ```
pub fn explain_with(
    sql: &str,
    error: &DataFusionError,
    tables: impl FnOnce() -> Vec<String>,
) -> Option<String> {
    if let DataFusionError::SQL(parser, _) = error.find_root() {
        return Some(syntax_error(sql, parser));
    }
    let message = error.strip_backtrace();
    if let Some(value) = between(&message, "Cannot cast string '", "' to value of Date") {
        return Some(format!(
            "'{value}' is not a valid date (expected YYYY-MM-DD, a day that exists)"
        ));
    }
    if let Some(value) = between(&message, "Error parsing timestamp from '", "': ") {
        return Some(format!(
            "'{value}' is not a valid timestamp (expected YYYY-MM-DD HH:MM:SS, a time that \
             exists)"
        ));
    }
    if let Some(name) = between(&message, "table '", "' not found") {
        let name = unqualified(name);
        return Some(match closest(name, &tables()) {
            Some(near) => format!("table '{name}' not found; did you mean '{near}'?"),
            None => format!("table '{name}' not found (SHOW TABLES lists them)"),
        });
    }
    None
}

/// The text of `message` between the first `open` and the next `close` after it.
fn between<'a>(message: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = message.find(open)? + open.len();
    let end = message[start..].find(close)? + start;
    Some(&message[start..end])
}

/// A table name as the engine resolved it (`socialcx.public.conversation`), as the user
/// wrote it (`conversation`; `metrics.daily` keeps its schema).
fn unqualified(name: &str) -> &str {
    let name = name.strip_prefix(&format!("{CATALOG}.")).unwrap_or(name);
    name.strip_prefix(&format!("{SCHEMA}.")).unwrap_or(name)
}

/// The name among `names` closest to `name` (fewest edits, case aside), if it is close
/// enough to be what was meant: at most 2 edits, or a third of the name's length. A name
/// may also match a qualified one by its last part (`daily` for `metrics.daily`).
///
/// ```
/// use socialcx::engine::explain::closest;
/// let names = ["alerts".to_string(), "conversations".to_string(), "metrics.daily".to_string()];
/// assert_eq!(closest("conversation", &names), Some("conversations"));
/// assert_eq!(closest("Alert", &names), Some("alerts"));
/// assert_eq!(closest("daily", &names), Some("metrics.daily"));
/// assert_eq!(closest("quarantine_rows", &names), None);
/// ```
pub fn closest<'a>(name: &str, names: &'a [String]) -> Option<&'a str> {
    let wanted = name.to_lowercase();
    let limit = 2.max(wanted.chars().count() / 3);
    names
        .iter()
        .map(|candidate| {
            let lower = candidate.to_lowercase();
            let last = lower.rsplit('.').next().unwrap_or(&lower);
            let distance = edit_distance(&wanted, &lower).min(edit_distance(&wanted, last));
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str())
}

/// The Levenshtein distance between `a` and `b`: insertions, deletions and substitutions of
/// one character each.
///
/// ```
/// use socialcx::engine::explain::edit_distance;
/// assert_eq!(edit_distance("conversation", "conversations"), 1);
/// assert_eq!(edit_distance("kitten", "sitting"), 3);
/// assert_eq!(edit_distance("", "abc"), 3);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// A parser error on `sql`: where, what the parser expected, and the line with a caret
/// under the place when the parser says where it is.
fn syntax_error(sql: &str, error: &ParserError) -> String {
    let text = match error {
        ParserError::ParserError(text) | ParserError::TokenizerError(text) => text.clone(),
        ParserError::RecursionLimitExceeded => "the statement nests too deeply".to_string(),
    };
    match position(&text) {
        Some((what, line, column)) => {
            let mut message = format!("syntax error at line {line}, column {column}: {what}");
            if let Some(shown) = caret(sql, line, column) {
                message.push('\n');
                message.push_str(&shown);
            }
            message
        }
        None => format!("syntax error: {text}"),
    }
}

/// A parser message without its ` at Line: L, Column: C` tail, and L and C.
fn position(text: &str) -> Option<(&str, usize, usize)> {
    let at = text.rfind(" at Line: ")?;
    let rest = &text[at + " at Line: ".len()..];
    let (line, column) = rest.split_once(", Column: ")?;
    let line = line.trim().parse().ok()?;
    let column = column
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((&text[..at], line, column))
}

/// Line `line` of `sql` (from 1) and a caret under its character `column` (from 1), each
/// indented by two spaces; tabs before the place are kept so the caret lines up.
///
/// ```
/// use socialcx::engine::explain::caret;
/// assert_eq!(caret("SELECT 1\nFORM t", 2, 1).unwrap(), "  FORM t\n  ^");
/// assert_eq!(caret("SELECT\n\tcount(* FROM t", 2, 8).unwrap(), "  \tcount(* FROM t\n  \t      ^");
/// assert_eq!(caret("SELECT 1", 3, 1), None);
/// ```
pub fn caret(sql: &str, line: usize, column: usize) -> Option<String> {
    let text = sql.lines().nth(line.checked_sub(1)?)?;
    let indent: String = text
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!("  {text}\n  {indent}^"))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::error::ArrowError;
    use datafusion::error::DataFusionError;
    use datafusion::sql::sqlparser::parser::ParserError;

    use super::explain_with;

    fn tables() -> Vec<String> {
        [
            "alerts",
            "conversations",
            "job_runs",
            "quarantine",
            "metrics.baseline_daily",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect()
    }

    fn syntax(sql: &str, message: &str) -> String {
        let error = DataFusionError::SQL(Box::new(ParserError::ParserError(message.into())), None);
        explain_with(sql, &error, tables).unwrap()
    }

    #[test]
    fn an_impossible_date_is_named_with_the_form_expected() {
        // As the optimizer reports a constant cast that fails.
        let error = DataFusionError::Context(
            "Optimizer rule 'simplify_expressions' failed".into(),
            Box::new(DataFusionError::ArrowError(
                Box::new(ArrowError::CastError(
                    "Cannot cast string '2026-02-30' to value of Date32 type".into(),
                )),
                None,
            )),
        );
        assert_eq!(
            explain_with("SELECT DATE '2026-02-30'", &error, tables).unwrap(),
            "'2026-02-30' is not a valid date (expected YYYY-MM-DD, a day that exists)"
        );
        let timestamp = DataFusionError::ArrowError(
            Box::new(ArrowError::ParseError(
                "Error parsing timestamp from '2026-13-01 10:00': error parsing date".into(),
            )),
            None,
        );
        assert!(
            explain_with("", &timestamp, tables)
                .unwrap()
                .starts_with("'2026-13-01 10:00' is not a valid timestamp")
        );
        // Other casts keep DataFusion's words.
        let int = DataFusionError::ArrowError(
            Box::new(ArrowError::CastError(
                "Cannot cast string 'seven' to value of Int64 type".into(),
            )),
            None,
        );
        assert_eq!(explain_with("", &int, tables), None);
    }

    #[test]
    fn an_unknown_table_gets_the_closest_name() {
        let unknown = |name: &str| {
            let error = DataFusionError::Plan(format!("table '{name}' not found"));
            explain_with("", &error, tables).unwrap()
        };
        assert_eq!(
            unknown("socialcx.public.conversation"),
            "table 'conversation' not found; did you mean 'conversations'?"
        );
        assert_eq!(
            unknown("socialcx.public.quarantined"),
            "table 'quarantined' not found; did you mean 'quarantine'?"
        );
        assert_eq!(
            unknown("socialcx.metrics.baseline_dayly"),
            "table 'metrics.baseline_dayly' not found; did you mean 'metrics.baseline_daily'?"
        );
        assert_eq!(
            unknown("socialcx.public.tweets"),
            "table 'tweets' not found (SHOW TABLES lists them)"
        );
        // A table function is not a table.
        let function = DataFusionError::Plan("table function 'nope' not found".into());
        assert_eq!(explain_with("", &function, tables), None);
    }

    #[test]
    fn a_syntax_error_points_at_its_place() {
        assert_eq!(
            syntax(
                "SELEC 1",
                "Expected: an SQL statement, found: SELEC at Line: 1, Column: 1"
            ),
            "syntax error at line 1, column 1: Expected: an SQL statement, found: SELEC\n  \
             SELEC 1\n  ^"
        );
        assert_eq!(
            syntax(
                "SELECT brand\nFROM conversations\nGROUP brand",
                "Expected: BY, found: brand at Line: 3, Column: 7"
            ),
            "syntax error at line 3, column 7: Expected: BY, found: brand\n  GROUP brand\n        ^"
        );
        // At the end of the input the parser gives no place.
        assert_eq!(
            syntax("SELECT", "Expected: an expression, found: EOF"),
            "syntax error: Expected: an expression, found: EOF"
        );
    }
}
