//! The one way the command line runs SQL: `socialcx sql "..."`, `sql -f FILE`, SQL on
//! standard input, the shell's statements and its `.tables` / `.describe`, and the demo.
//!
//! A script's statements run in order, each to its end (so `CREATE VIEW` then `SELECT`
//! works, and an `INSERT` whose count is not shown still inserts); the first error stops
//! it. A statement without a result (`CREATE VIEW`, `SET`) writes nothing. Which results
//! are written is [`Results`]: every one (the table, the shell), or only the last
//! statement's (the formats that hold one result: CSV, JSON, NDJSON, Parquet, HTML), with a
//! note on stderr for each earlier result left out.

use std::io::Write;
use std::time::Instant;

use crate::engine::Engine;
use crate::engine::explain::explain_error;
use crate::output::{OutputFormat, discard, write_stream};
use crate::{Error, Result};

/// Which statements' results a script writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Results {
    /// Each statement's, one after the other (the table format; the shell).
    Each,
    /// The last statement's only: the earlier ones run and their rows are not written.
    Last,
}

/// How [`run_sql`] writes results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlOptions {
    /// The output format.
    pub format: OutputFormat,
    /// Rows the table format shows (0: all).
    pub max_rows: usize,
    /// Whether each statement's row count and time go to stderr.
    pub timer: bool,
    /// Which results are written.
    pub results: Results,
}

impl SqlOptions {
    /// The options of `socialcx sql --format FORMAT --max-rows N`: a format that holds one
    /// result gets the last statement's, the table shows each; row counts and times on.
    ///
    /// ```
    /// use socialcx::cli::exec::{Results, SqlOptions};
    /// use socialcx::output::OutputFormat;
    /// assert_eq!(SqlOptions::new(OutputFormat::Parquet, 0).results, Results::Last);
    /// assert_eq!(SqlOptions::new(OutputFormat::Table, 40).results, Results::Each);
    /// ```
    pub fn new(format: OutputFormat, max_rows: usize) -> SqlOptions {
        SqlOptions {
            format,
            max_rows,
            timer: true,
            results: if format.holds_one_result() {
                Results::Last
            } else {
                Results::Each
            },
        }
    }
}

/// What a script did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlOutcome {
    /// The statements it held (all of them ran).
    pub statements: usize,
    /// Results written (with [`Results::Last`], 0 when the last statement has none).
    pub written: usize,
}

/// Run every statement of `sql` in order and write their results to `out` as `options`
/// say; the first error stops the script (the statements before it have run). A query
/// error comes back in plain words ([`crate::engine::explain`]: impossible dates, unknown
/// tables with the closest name, syntax errors with a caret under their place).
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// use socialcx::cli::exec::{SqlOptions, run_sql};
/// use socialcx::output::OutputFormat;
/// let sql = "CREATE VIEW v AS SELECT 1 AS a; SELECT a + 1 AS b FROM v";
/// let outcome = run_sql(&engine, sql, &SqlOptions::new(OutputFormat::Csv, 0), &mut std::io::stdout()).await?;
/// assert_eq!((outcome.statements, outcome.written), (2, 1)); // prints "b\n2\n"
/// # Ok(()) }
/// ```
pub async fn run_sql(
    engine: &Engine,
    sql: &str,
    options: &SqlOptions,
    out: &mut (dyn Write + Send),
) -> Result<SqlOutcome> {
    run_statements(engine, sql, options, out)
        .await
        .map_err(|e| match e {
            Error::Query(query) => Error::Usage(explain_error(engine, sql, &query)),
            other => other,
        })
}

async fn run_statements(
    engine: &Engine,
    sql: &str,
    options: &SqlOptions,
    out: &mut (dyn Write + Send),
) -> Result<SqlOutcome> {
    let statements = engine.parse(sql)?;
    let count = statements.len();
    let mut written = 0;
    for (i, statement) in statements.into_iter().enumerate() {
        let started = Instant::now();
        let text = statement.to_string();
        let df = engine.execute_statement(statement).await?;
        let stream = engine.stream(df).await?;
        let has_result = !stream.schema().fields().is_empty();
        let write = options.results == Results::Each || i + 1 == count;
        let rows = if write {
            write_stream(stream, options.format, out, options.max_rows).await?
        } else {
            discard(stream).await?
        };
        if write && has_result {
            written += 1;
        }
        if !write && has_result {
            eprintln!(
                "note: statement {} of {count} ({}) returned {rows} row{}, not written: \
                 --format {} holds one result, the last statement's (run the statements \
                 one at a time to keep each)",
                i + 1,
                abridged(&text),
                plural(rows),
                options.format.name()
            );
        }
        if options.timer {
            eprintln!(
                "{rows} row{} in {:.3}s",
                plural(rows),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(SqlOutcome {
        statements: count,
        written,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A statement's text on one line, cut to a readable length.
fn abridged(sql: &str) -> String {
    const LONGEST: usize = 60;
    let line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= LONGEST {
        line
    } else {
        let cut: String = line.chars().take(LONGEST - 3).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::abridged;

    #[test]
    fn a_statement_is_shown_on_one_short_line() {
        assert_eq!(abridged("SELECT 10\n  AS a"), "SELECT 10 AS a");
        let long = format!("SELECT {} AS a", "1 + ".repeat(40));
        let short = abridged(&long);
        assert_eq!(short.chars().count(), 60);
        assert!(short.starts_with("SELECT 1 + 1") && short.ends_with("..."));
    }
}
