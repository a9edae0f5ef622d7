//! The interactive SQL shell, in the manner of duckdb's and datafusion-cli's.
//!
//! Statements end with `;` and may span lines; dot commands (`.tables`, `.describe T`,
//! `.format csv`, `.maxrows 100`, `.timer off`, `.help`, `.quit`) act at once. Tab
//! completes keywords, tables, columns and dot commands (see [`super::complete`]).
//! Ctrl-C cancels the running query (or clears the line being typed); Ctrl-D quits.
//!
//! Ctrl-C stops a query at once in both of its states: waiting for batches (the
//! statement's work is dropped, which stops it on the engine's pool) and writing them (the
//! output fails at its next write, so a result pouring onto a slow terminal does not hold
//! the prompt back until it is all written).
//!
//! The same lines can come from a script: standard input when it is not a terminal
//! (`socialcx shell < script.sql`) or `-c SQL`. A script runs without prompts or banner
//! and stops at its first error (exit status 1), like `duckdb -bail` and datafusion-cli; a
//! last statement without its `;` runs too. Statements run through [`super::exec`], as
//! `socialcx sql` runs them, each result written in turn.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use super::complete::{ShellHelper, Vocabulary};
use super::exec::{Results, SqlOptions, run_sql};
use crate::engine::Engine;
use crate::engine::exec::{CANCELLED, CancelToken};
use crate::output::OutputFormat;
use crate::{Error, Result};

const HELP: &str = "\
Statements end with ';' and may span several lines. EXPLAIN and EXPLAIN ANALYZE work.
  .tables              list tables (also: \\dt, SHOW TABLES;)
  .functions           socialcx's functions first, then DataFusion's (also: \\df)
  .describe TABLE      columns and types of TABLE (also: \\d TABLE)
  .format FORMAT       table | csv | json | ndjson (now: {format})
  .maxrows N           rows the table format shows, 0 for all (now: {maxrows})
  .timer on|off        print row count and time after each statement
  .help                this text
  .quit                leave (also: \\q, Ctrl-D)
Tab completes keywords, table and column names, and these commands.
Ctrl-C cancels a running query.";

/// The shell's settings, changed by dot commands.
struct Settings {
    format: OutputFormat,
    max_rows: usize,
    timer: bool,
}

impl Settings {
    /// A session's settings: the timer is on at a prompt, off in a script.
    fn new(timer: bool) -> Settings {
        Settings {
            format: OutputFormat::Table,
            max_rows: 40,
            timer,
        }
    }

    /// How statements write: every result, in the shell's format.
    fn options(&self) -> SqlOptions {
        SqlOptions {
            format: self.format,
            max_rows: self.max_rows,
            timer: self.timer,
            results: Results::Each,
        }
    }
}

/// Run the shell: the `-c` texts given in `commands`, else the script on standard input
/// when it is not a terminal, else the interactive shell (history in `history`, by default
/// `~/.socialcx_history`) until the user quits. Returns the exit status: 1 when a script
/// stopped at an error (printed on stderr), else 0.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> socialcx::Result<()> {
/// let status = socialcx::cli::shell::run(&engine, None, &[".format csv".to_string(), "SELECT 1 AS n".to_string()]).await?;
/// assert_eq!(status, 0); // printed "n\n1\n"
/// # Ok(()) }
/// ```
pub async fn run(engine: &Engine, history: Option<PathBuf>, commands: &[String]) -> Result<i32> {
    use std::io::IsTerminal;
    let mut settings = Settings::new(false);
    if !commands.is_empty() {
        for (i, text) in commands.iter().enumerate() {
            let source = format!("-c #{}", i + 1);
            match script(engine, &mut text.as_bytes(), &source, &mut settings).await {
                Flow::Go => {}
                Flow::Quit => break,
                Flow::Failed => return Ok(1),
            }
        }
        return Ok(0);
    }
    if !std::io::stdin().is_terminal() {
        let mut input = BufReader::new(std::io::stdin());
        return Ok(
            match script(engine, &mut input, "standard input", &mut settings).await {
                Flow::Failed => 1,
                Flow::Go | Flow::Quit => 0,
            },
        );
    }
    interactive(engine, history).await?;
    Ok(0)
}

/// What a line of input completes: nothing yet, a dot command, or SQL ending with `;`.
#[derive(Debug, PartialEq, Eq)]
enum Input {
    Nothing,
    Command(String),
    Sql(String),
}

/// Lines of input, gathered into dot commands and statements.
#[derive(Debug, Default)]
struct Lines {
    buffer: String,
}

impl Lines {
    /// Take one line (without its line break).
    fn push(&mut self, line: &str) -> Input {
        let trimmed = line.trim();
        if self.buffer.is_empty() && (trimmed.starts_with('.') || trimmed.starts_with('\\')) {
            return Input::Command(trimmed.to_string());
        }
        if self.buffer.is_empty() && (trimmed.is_empty() || trimmed.starts_with("--")) {
            // Blank lines and comments between statements: a dot command may follow.
            return Input::Nothing;
        }
        self.buffer.push_str(line);
        self.buffer.push('\n');
        if statement_complete(&self.buffer) {
            Input::Sql(std::mem::take(&mut self.buffer))
        } else {
            Input::Nothing
        }
    }

    /// The end of the input: what is left of a statement without its `;`.
    fn finish(&mut self) -> Input {
        let rest = std::mem::take(&mut self.buffer);
        if rest.trim().is_empty() {
            Input::Nothing
        } else {
            Input::Sql(rest)
        }
    }

    /// Whether a statement is under way (its first lines read, not its `;`).
    fn pending(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// Forget the statement under way.
    fn clear(&mut self) {
        self.buffer.clear();
    }
}

/// Act on one input, writing results to `out`; `Ok(false)` means quit.
async fn act(
    engine: &Engine,
    input: Input,
    settings: &mut Settings,
    out: &mut (dyn Write + Send),
) -> Result<bool> {
    match input {
        Input::Nothing => Ok(true),
        Input::Command(line) => command(engine, &line, settings, out).await,
        Input::Sql(sql) => {
            statements(engine, &sql, settings, out).await?;
            Ok(true)
        }
    }
}

/// Run `sql` and write its results to `out`.
async fn statements(
    engine: &Engine,
    sql: &str,
    settings: &Settings,
    out: &mut (dyn Write + Send),
) -> Result<()> {
    run_sql(engine, sql, &settings.options(), out).await?;
    out.flush()?;
    Ok(())
}

/// Standard output (or another writer) that fails once its [`CancelToken`] is set, and
/// remembers whether what it wrote last ended a line.
struct Stoppable<W> {
    inner: W,
    stop: CancelToken,
    last: Option<u8>,
}

impl<W: Write> Stoppable<W> {
    fn new(inner: W, stop: CancelToken) -> Stoppable<W> {
        Stoppable {
            inner,
            stop,
            last: None,
        }
    }

    /// Whether the output so far stops in the middle of a line.
    fn mid_line(&self) -> bool {
        self.last.is_some_and(|b| b != b'\n')
    }

    fn check(&self) -> std::io::Result<()> {
        if self.stop.is_cancelled() {
            Err(std::io::Error::other(CANCELLED))
        } else {
            Ok(())
        }
    }
}

impl<W: Write> Write for Stoppable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.check()?;
        let n = self.inner.write(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.check()?;
        self.inner.flush()
    }
}

/// How a script ended.
enum Flow {
    /// At its end.
    Go,
    /// At `.quit`.
    Quit,
    /// At an error (already reported).
    Failed,
}

/// Run the lines of `input` (named `source` in messages) as a script: no prompt, and the
/// first error stops it.
async fn script(
    engine: &Engine,
    input: &mut (dyn BufRead + Send),
    source: &str,
    settings: &mut Settings,
) -> Flow {
    let mut lines = Lines::default();
    let mut line = String::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let (item, end) = match input.read_line(&mut line) {
            Ok(0) => (lines.finish(), true),
            Ok(_) => {
                number += 1;
                (lines.push(line.trim_end_matches(['\n', '\r'])), false)
            }
            Err(e) => {
                eprintln!("error: {source}: {e}");
                return Flow::Failed;
            }
        };
        match act(engine, item, settings, &mut std::io::stdout()).await {
            Ok(true) if end => return Flow::Go,
            Ok(true) => {}
            Ok(false) => return Flow::Quit,
            Err(e) => {
                eprintln!("error: {e}");
                eprintln!("stopped at line {number} of {source}: the rest did not run");
                return Flow::Failed;
            }
        }
    }
}

/// The shell at a prompt, on the terminal, until the user quits.
async fn interactive(engine: &Engine, history: Option<PathBuf>) -> Result<()> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| Error::Usage(format!("shell: {e}")))?;
    editor.set_helper(Some(ShellHelper::new(Vocabulary::of(engine).await)));
    let history = history
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".socialcx_history")));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut settings = Settings::new(true);
    println!(
        "socialcx {} on {} ({} tables). Type .help for help.",
        env!("CARGO_PKG_VERSION"),
        engine.lake().url(),
        engine.table_names().len()
    );
    let mut lines = Lines::default();
    loop {
        let prompt = if lines.pending() {
            "     ...> "
        } else {
            "socialcx> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                lines.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("shell: {e}"))),
        };
        let input = lines.push(&line);
        match &input {
            Input::Nothing => continue,
            Input::Command(text) | Input::Sql(text) => {
                let _ = editor.add_history_entry(text.trim());
            }
        }
        let changes_catalog = matches!(&input, Input::Sql(sql) if is_ddl(sql));
        match interruptible(engine, input, &mut settings).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => eprintln!("error: {e}"),
        }
        if changes_catalog && let Some(helper) = editor.helper_mut() {
            // A view made or dropped: Tab knows it from the next line on.
            helper.vocabulary = Vocabulary::of(engine).await;
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

/// [`act`] on `input`, stopped by Ctrl-C: the query's work is dropped while it waits for
/// batches, and its output fails at the next write while it prints them. A cancelled input
/// prints `query cancelled` and counts as done (`Ok(true)`).
async fn interruptible(engine: &Engine, input: Input, settings: &mut Settings) -> Result<bool> {
    let stop = CancelToken::default();
    let (pressed, interrupted) = tokio::sync::oneshot::channel::<()>();
    // The signal is watched on a task of its own: it is seen even while this one is busy
    // writing to a slow terminal.
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
                let _ = pressed.send(());
            }
        })
    };
    let mut out = Stoppable::new(std::io::stdout(), stop.clone());
    let outcome = tokio::select! {
        result = act(engine, input, settings, &mut out) => Some(result),
        Ok(()) = interrupted => None,
    };
    watcher.abort();
    match outcome {
        Some(Err(_)) | None if stop.is_cancelled() => {
            if out.mid_line() {
                let mut stdout = std::io::stdout();
                let _ = stdout.write_all(b"\n");
                let _ = stdout.flush();
            }
            eprintln!("query cancelled");
            Ok(true)
        }
        Some(result) => result,
        None => Ok(true),
    }
}

/// Whether `sql` may change the tables there are (`CREATE`, `DROP`, `ALTER`).
fn is_ddl(sql: &str) -> bool {
    sql.split(';').any(|statement| {
        let first = statement
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("--"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default();
        ["CREATE", "DROP", "ALTER"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(first))
    })
}

/// Whether `sql` ends with a `;` outside quotes and comments.
fn statement_complete(sql: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut last = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                last = Some(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                last = Some(c);
            }
            None if c == '-' && chars.peek() == Some(&'-') => {
                // A line comment: skip to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                continue;
            }
            None if !c.is_whitespace() => last = Some(c),
            None => {}
        }
    }
    quote.is_none() && last == Some(';')
}

/// Run a dot command, writing what it shows to `out`; `Ok(false)` means quit.
async fn command(
    engine: &Engine,
    line: &str,
    settings: &mut Settings,
    out: &mut (dyn Write + Send),
) -> Result<bool> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or_default();
    let arg = words.next();
    match (name, arg) {
        (".quit" | ".exit" | "\\q", _) => return Ok(false),
        (".help" | "\\?" | "\\h", _) => writeln!(
            out,
            "{}",
            HELP.replace("{format}", settings.format.name())
                .replace("{maxrows}", &settings.max_rows.to_string())
        )?,
        (".tables" | "\\dt", _) => {
            statements(
                engine,
                "SELECT table_schema AS schema, table_name AS name, table_type AS type \
                 FROM information_schema.tables ORDER BY 1, 2;",
                settings,
                out,
            )
            .await?
        }
        (".functions" | "\\df", _) => {
            statements(
                engine,
                "SELECT function_name, function_type, origin, syntax, description \
                 FROM socialcx_functions();",
                settings,
                out,
            )
            .await?
        }
        (".describe" | ".schema" | "\\d", Some(table)) => {
            statements(engine, &format!("DESCRIBE {table};"), settings, out).await?
        }
        (".describe" | ".schema" | "\\d", None) => {
            return Err(Error::Usage("usage: .describe TABLE".into()));
        }
        (".format", Some(f)) => {
            let format = OutputFormat::from_str(f, true)
                .ok()
                .filter(|f| !matches!(f, OutputFormat::Parquet | OutputFormat::Html))
                .ok_or_else(|| Error::Usage("formats: table, csv, json, ndjson".into()))?;
            settings.format = format;
        }
        (".maxrows", Some(n)) => {
            settings.max_rows = n
                .parse()
                .map_err(|_| Error::Usage("usage: .maxrows N (0 for all)".into()))?;
        }
        (".timer", Some("on")) => settings.timer = true,
        (".timer", Some("off")) => settings.timer = false,
        _ => return Err(Error::Usage(format!("unknown command {line}: try .help"))),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{Input, Lines, Stoppable, is_ddl, statement_complete};
    use crate::engine::exec::CancelToken;

    #[test]
    fn output_fails_at_its_next_write_once_cancelled() {
        let stop = CancelToken::default();
        let mut out = Stoppable::new(Vec::new(), stop.clone());
        write!(out, "a,b\n1,").unwrap();
        assert!(out.mid_line());
        stop.cancel();
        let err = out.write_all(b"2\n").unwrap_err();
        assert_eq!(err.to_string(), crate::engine::exec::CANCELLED);
        assert!(out.flush().is_err());
        assert_eq!(out.inner, b"a,b\n1,", "nothing written after the cancel");
        let mut whole = Stoppable::new(Vec::new(), CancelToken::default());
        whole.write_all(b"n\n1\n").unwrap();
        assert!(!whole.mid_line());
    }

    #[test]
    fn statements_that_change_the_tables_are_told_apart() {
        assert!(is_ddl("CREATE VIEW v AS SELECT 1;"));
        assert!(is_ddl("-- a view\ncreate view v AS SELECT 1;"));
        assert!(is_ddl("SELECT 1; DROP VIEW v;"));
        assert!(!is_ddl("SELECT 'CREATE' AS word;"));
        assert!(!is_ddl("EXPLAIN SELECT 1;"));
    }

    #[test]
    fn statements_end_with_a_semicolon_outside_quotes_and_comments() {
        assert!(statement_complete("SELECT 1;"));
        assert!(statement_complete("SELECT 1;  \n"));
        assert!(!statement_complete("SELECT ';'"));
        assert!(statement_complete("SELECT ';';"));
        assert!(!statement_complete("SELECT 1 -- done;"));
        assert!(statement_complete("SELECT 1; -- done"));
        assert!(!statement_complete("SELECT\n  1"));
    }

    #[test]
    fn lines_gather_into_commands_and_statements() {
        let mut lines = Lines::default();
        assert_eq!(
            lines.push("  .format csv "),
            Input::Command(".format csv".into())
        );
        assert_eq!(lines.push(""), Input::Nothing);
        assert_eq!(
            lines.push("-- a comment between statements"),
            Input::Nothing
        );
        assert!(!lines.pending());
        assert_eq!(lines.push(".tables"), Input::Command(".tables".into()));
        assert_eq!(lines.push("SELECT 1"), Input::Nothing);
        assert!(lines.pending());
        // A dot inside a statement is SQL, not a command.
        assert_eq!(
            lines.push(".5 AS x;"),
            Input::Sql("SELECT 1\n.5 AS x;\n".into())
        );
        assert!(!lines.pending());
        assert_eq!(lines.push("SELECT 2"), Input::Nothing);
        assert_eq!(lines.finish(), Input::Sql("SELECT 2\n".into()));
        assert_eq!(lines.finish(), Input::Nothing);
    }
}
