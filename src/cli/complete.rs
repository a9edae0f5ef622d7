//! Tab completion in the interactive shell: SQL keywords, the engine's functions, table
//! names (`conversations`, `metrics.daily`), their column names, the dot commands and
//! their arguments (`.describe conv<Tab>`, `.format c<Tab>`).
//!
//! What to offer is [`candidates`], a plain function of the line, the cursor and a
//! [`Vocabulary`] read from the engine's catalog; [`ShellHelper`] hands it to rustyline.
//! Completion follows the typed case for keywords (`sel` gives `select`, `SEL` gives
//! `SELECT`), and offers nothing inside a string literal.

use std::collections::BTreeSet;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::engine::{CATALOG, Engine, SCHEMA};

/// The shell's dot commands, as Tab completes them.
pub const DOT_COMMANDS: &[&str] = &[
    ".describe",
    ".exit",
    ".format",
    ".functions",
    ".help",
    ".maxrows",
    ".quit",
    ".schema",
    ".tables",
    ".timer",
];

/// The formats `.format` takes.
const FORMATS: &[&str] = &["table", "csv", "json", "ndjson"];

/// The SQL keywords Tab completes (the common ones: all of the dialect's would drown them).
const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COPY",
    "CREATE",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIMESTAMP",
    "DATE",
    "DESC",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "EXCEPT",
    "EXISTS",
    "EXPLAIN",
    "EXTERNAL",
    "FALSE",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOCATION",
    "NOT",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PRECEDING",
    "RANGE",
    "RECURSIVE",
    "REPLACE",
    "RIGHT",
    "ROWS",
    "SELECT",
    "SET",
    "SHOW",
    "STORED",
    "TABLE",
    "TABLES",
    "THEN",
    "TIMESTAMP",
    "TO",
    "TRUE",
    "UNBOUNDED",
    "UNION",
    "UNNEST",
    "USING",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
];

/// Keywords after which a table name comes.
const BEFORE_A_TABLE: &[&str] = &["DESCRIBE", "FROM", "INTO", "JOIN", "TABLE", "UPDATE"];

/// What Tab can complete to, read from an engine's catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    /// Table and view names: bare in the default schema (`conversations`), qualified
    /// elsewhere (`metrics.daily`); sorted.
    pub tables: Vec<String>,
    /// The column names of those tables, sorted, each once.
    pub columns: Vec<String>,
    /// Scalar, aggregate, window and table function names, sorted.
    pub functions: Vec<String>,
}

impl Vocabulary {
    /// The tables, columns and functions `engine` has now (the `information_schema`
    /// views left out).
    ///
    /// ```no_run
    /// # async fn f(engine: socialcx::Engine) {
    /// let words = socialcx::cli::complete::Vocabulary::of(&engine).await;
    /// assert!(words.tables.contains(&"conversations".to_string()));
    /// assert!(words.columns.contains(&"brand".to_string()));
    /// # }
    /// ```
    pub async fn of(engine: &Engine) -> Vocabulary {
        let ctx = engine.context();
        let mut tables = Vec::new();
        let mut columns = BTreeSet::new();
        if let Some(catalog) = ctx.catalog(CATALOG) {
            for schema_name in catalog.schema_names() {
                if schema_name == "information_schema" {
                    continue;
                }
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table in schema.table_names() {
                    if let Ok(Some(provider)) = schema.table(&table).await {
                        let table_schema = provider.schema();
                        columns.extend(table_schema.fields().iter().map(|f| f.name().clone()));
                    }
                    tables.push(if schema_name == SCHEMA {
                        table
                    } else {
                        format!("{schema_name}.{table}")
                    });
                }
            }
        }
        tables.sort();
        let state = ctx.state();
        let functions: BTreeSet<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .chain(state.table_functions().keys())
            .filter(|name| is_identifier(name))
            .cloned()
            .collect();
        Vocabulary {
            tables,
            columns: columns.into_iter().collect(),
            functions: functions.into_iter().collect(),
        }
    }
}

/// Whether `name` is a plain SQL identifier (letters, digits, `_`), as completion offers.
fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// What Tab offers at byte `pos` of `line`: the byte where the word being completed starts,
/// and the words that may replace it.
///
/// ```
/// use socialcx::cli::complete::{Vocabulary, candidates};
/// let words = Vocabulary {
///     tables: vec!["conversations".into(), "metrics.daily".into()],
///     columns: vec!["brand".into(), "channel".into()],
///     functions: vec!["sentiment".into()],
/// };
/// assert_eq!(candidates("SELECT * FROM conv", 18, &words), (14, vec!["conversations".to_string()]));
/// assert_eq!(candidates("select bra", 10, &words), (7, vec!["brand".to_string()]));
/// assert_eq!(candidates(".ta", 3, &words), (0, vec![".tables".to_string()]));
/// ```
pub fn candidates(line: &str, pos: usize, vocabulary: &Vocabulary) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '\\'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let trimmed = before.trim_start();
    if trimmed.starts_with('.') || trimmed.starts_with('\\') {
        return (start, dot_command(trimmed, word, vocabulary));
    }
    if before.matches('\'').count() % 2 == 1 {
        // Inside a string literal.
        return (pos, Vec::new());
    }
    let after_table_keyword = previous_word(&before[..start])
        .is_some_and(|w| BEFORE_A_TABLE.iter().any(|k| k.eq_ignore_ascii_case(w)));
    if let Some(dot) = word.rfind('.') {
        let tables = matching(&vocabulary.tables, word);
        if !tables.is_empty() || after_table_keyword {
            return (start, tables);
        }
        // `alias.col`: the column after the dot.
        return (
            start + dot + 1,
            matching(&vocabulary.columns, &word[dot + 1..]),
        );
    }
    if after_table_keyword {
        return (start, matching(&vocabulary.tables, word));
    }
    if word.is_empty() {
        // Anywhere else every word would do: too many to list.
        return (start, Vec::new());
    }
    let lower = word.chars().any(|c| c.is_lowercase()) && !word.chars().any(|c| c.is_uppercase());
    let keywords = KEYWORDS
        .iter()
        .filter(|k| starts_with_ignoring_case(k, word))
        .map(|k| {
            if lower {
                k.to_lowercase()
            } else {
                k.to_string()
            }
        });
    let mut words: Vec<String> = Vec::new();
    for w in matching(&vocabulary.columns, word)
        .into_iter()
        .chain(matching(&vocabulary.tables, word))
        .chain(matching(&vocabulary.functions, word))
        .chain(keywords)
    {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    (start, words)
}

/// Candidates on a dot-command line (`trimmed`, up to the cursor): the command itself, or
/// its argument.
fn dot_command(trimmed: &str, word: &str, vocabulary: &Vocabulary) -> Vec<String> {
    let mut words = trimmed.split_whitespace();
    let command = words.next().unwrap_or_default();
    if !trimmed.contains(char::is_whitespace) {
        return DOT_COMMANDS
            .iter()
            .filter(|c| c.starts_with(word))
            .map(|c| c.to_string())
            .collect();
    }
    // Only the first argument is completed.
    let arguments = trimmed[command.len()..].split_whitespace().count();
    let typing_first = arguments == 0 || (arguments == 1 && !word.is_empty());
    if !typing_first {
        return Vec::new();
    }
    match command {
        ".describe" | ".schema" | "\\d" => matching(&vocabulary.tables, word),
        ".format" => FORMATS
            .iter()
            .filter(|f| f.starts_with(word))
            .map(|f| f.to_string())
            .collect(),
        ".timer" => ["on", "off"]
            .iter()
            .filter(|f| f.starts_with(word))
            .map(|f| f.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// The words of `names` that start with `prefix`, whatever the case.
fn matching(names: &[String], prefix: &str) -> Vec<String> {
    names
        .iter()
        .filter(|n| starts_with_ignoring_case(n, prefix))
        .cloned()
        .collect()
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The last word of `text` (letters, digits and `_`), if it ends with one and blanks.
fn previous_word(text: &str) -> Option<&str> {
    let text = text.trim_end();
    let start = text
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &text[start..];
    (!word.is_empty()).then_some(word)
}

/// The shell's line-editor helper: Tab completion from a [`Vocabulary`]; no hints,
/// colours or validation (a statement ends at its `;`, which the shell sees itself).
///
/// ```
/// use rustyline::completion::Completer;
/// use rustyline::history::DefaultHistory;
/// use socialcx::cli::complete::{ShellHelper, Vocabulary};
/// let helper = ShellHelper::new(Vocabulary { tables: vec!["alerts".into()], ..Default::default() });
/// let history = DefaultHistory::new();
/// let (start, words) = helper.complete("SELECT * FROM al", 16, &rustyline::Context::new(&history)).unwrap();
/// assert_eq!((start, words), (14, vec!["alerts".to_string()]));
/// ```
#[derive(Debug, Default)]
pub struct ShellHelper {
    /// What Tab completes to (the shell refreshes it after each statement).
    pub vocabulary: Vocabulary,
}

impl ShellHelper {
    /// A helper completing from `vocabulary`.
    ///
    /// ```
    /// use socialcx::cli::complete::{ShellHelper, Vocabulary};
    /// let helper = ShellHelper::new(Vocabulary::default());
    /// assert!(helper.vocabulary.tables.is_empty());
    /// ```
    pub fn new(vocabulary: Vocabulary) -> ShellHelper {
        ShellHelper { vocabulary }
    }
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(candidates(line, pos, &self.vocabulary))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::{Vocabulary, candidates};

    fn words() -> Vocabulary {
        Vocabulary {
            tables: vec![
                "alerts".into(),
                "conversations".into(),
                "metrics.baseline_daily".into(),
                "metrics.daily".into(),
            ],
            columns: vec!["author_id".into(), "brand".into(), "channel".into()],
            functions: vec!["sentiment".into(), "sum".into()],
        }
    }

    fn complete(line: &str) -> (usize, Vec<String>) {
        candidates(line, line.len(), &words())
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn tables_come_after_from_and_join_in_any_case() {
        assert_eq!(
            complete("SELECT * FROM conv"),
            (14, strings(&["conversations"]))
        );
        assert_eq!(
            complete("select * from CONV"),
            (14, strings(&["conversations"]))
        );
        assert_eq!(
            complete("SELECT * FROM conversations c JOIN al"),
            (35, strings(&["alerts"]))
        );
        // An empty word after FROM lists every table; elsewhere nothing.
        assert_eq!(complete("SELECT * FROM ").1.len(), 4);
        assert_eq!(complete("SELECT ").1, Vec::<String>::new());
    }

    #[test]
    fn schema_qualified_tables_and_alias_columns() {
        assert_eq!(
            complete("SELECT * FROM metrics.d"),
            (14, strings(&["metrics.daily"]))
        );
        assert_eq!(
            complete("SELECT * FROM metrics."),
            (14, strings(&["metrics.baseline_daily", "metrics.daily"]))
        );
        // `c.` is an alias: the column after the dot.
        assert_eq!(complete("SELECT c.bra"), (9, strings(&["brand"])));
    }

    #[test]
    fn columns_functions_and_keywords_in_the_typed_case() {
        assert_eq!(complete("SELECT bra"), (7, strings(&["brand"])));
        assert_eq!(
            complete("SELECT SE"),
            (7, strings(&["sentiment", "SELECT", "SET"]))
        );
        assert_eq!(
            complete("SELECT se"),
            (7, strings(&["sentiment", "select", "set"]))
        );
        assert_eq!(complete("sel"), (0, strings(&["select"])));
        assert_eq!(complete("SEL"), (0, strings(&["SELECT"])));
        assert_eq!(
            complete("SELECT count(*) FROM conversations WHER"),
            (35, strings(&["WHERE"]))
        );
        // Functions come before keywords.
        assert_eq!(
            complete("SELECT s").1[..2],
            strings(&["sentiment", "sum"])[..]
        );
    }

    #[test]
    fn nothing_inside_a_string_literal() {
        assert_eq!(
            complete("SELECT * FROM conversations WHERE text = 'conv")
                .1
                .len(),
            0
        );
        // After the literal closes, completion is back.
        assert_eq!(
            complete("SELECT 'x' AS a FROM conv"),
            (21, strings(&["conversations"]))
        );
    }

    #[test]
    fn dot_commands_and_their_arguments() {
        assert_eq!(complete(".ta"), (0, strings(&[".tables"])));
        assert_eq!(complete("  .de"), (2, strings(&[".describe"])));
        assert_eq!(
            complete(".describe conv"),
            (10, strings(&["conversations"]))
        );
        assert_eq!(
            complete(".describe metrics.d"),
            (10, strings(&["metrics.daily"]))
        );
        assert_eq!(complete("\\d al"), (3, strings(&["alerts"])));
        assert_eq!(complete(".format c"), (8, strings(&["csv"])));
        assert_eq!(
            complete(".format "),
            (8, strings(&["table", "csv", "json", "ndjson"]))
        );
        assert_eq!(complete(".timer o"), (7, strings(&["on", "off"])));
        // Only the first argument.
        assert_eq!(complete(".format csv j").1.len(), 0);
        assert_eq!(complete(".maxrows 1").1.len(), 0);
    }

    #[test]
    fn the_cursor_may_be_inside_the_line() {
        // Completing the word before the cursor, whatever follows it.
        let line = "SELECT * FROM conv WHERE x";
        assert_eq!(
            candidates(line, 18, &words()),
            (14, strings(&["conversations"]))
        );
        // A cursor in the middle of a multi-byte character is moved back to its start.
        assert_eq!(candidates("SELECT 'é", 9, &words()).1.len(), 0);
    }
}
