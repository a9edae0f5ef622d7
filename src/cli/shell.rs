//! The interactive SQL shell, in the manner of duckdb's and datafusion-cli's.
//!
//! Statements end with `;` and may span lines; dot commands (`.tables`, `.describe T`,
//! `.format csv`, `.maxrows 100`, `.timer off`, `.help`, `.quit`) act at once.
//! Ctrl-C cancels the running query (or clears the line being typed); Ctrl-D quits.
//!
//! The same lines can come from a script: standard input when it is not a terminal
//! (`socialcx shell < script.sql`) or `-c SQL`. A script runs without prompts or banner
//! and stops at its first error (exit status 1), like `duckdb -bail` and datafusion-cli; a
//! last statement without its `;` runs too. Statements run through [`super::exec`], as
//! `socialcx sql` runs them, each result written in turn.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::exec::{Results, SqlOptions, run_sql};
use crate::engine::Engine;
use crate::output::OutputFormat;
use crate::{Error, Result};

const HELP: &str = "\
Statements end with ';' and may span several lines. EXPLAIN and EXPLAIN ANALYZE work.
  .tables              list tables (also: \\dt, SHOW TABLES;)
  .describe TABLE      columns and types of TABLE (also: \\d TABLE)
  .format FORMAT       table | csv | json | ndjson (now: {format})
  .maxrows N           rows the table format shows, 0 for all (now: {maxrows})
  .timer on|off        print row count and time after each statement
  .help                this text
  .quit                leave (also: \\q, Ctrl-D)
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

/// Act on one input; `Ok(false)` means quit.
async fn act(engine: &Engine, input: Input, settings: &mut Settings) -> Result<bool> {
    match input {
        Input::Nothing => Ok(true),
        Input::Command(line) => command(engine, &line, settings).await,
        Input::Sql(sql) => {
            statements(engine, &sql, settings).await?;
            Ok(true)
        }
    }
}

/// Run `sql` and write its results to stdout.
async fn statements(engine: &Engine, sql: &str, settings: &Settings) -> Result<()> {
    let mut out = std::io::stdout();
    run_sql(engine, sql, &settings.options(), &mut out).await?;
    out.flush()?;
    Ok(())
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
        match act(engine, item, settings).await {
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
    let mut editor = DefaultEditor::new().map_err(|e| Error::Usage(format!("shell: {e}")))?;
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
        // Dropping the work on Ctrl-C drops its stream, which stops the query.
        tokio::select! {
            result = act(engine, input, &mut settings) => match result {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => eprintln!("error: {e}"),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("query cancelled");
            }
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
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

/// Run a dot command; `Ok(false)` means quit.
async fn command(engine: &Engine, line: &str, settings: &mut Settings) -> Result<bool> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or_default();
    let arg = words.next();
    match (name, arg) {
        (".quit" | ".exit" | "\\q", _) => return Ok(false),
        (".help" | "\\?" | "\\h", _) => println!(
            "{}",
            HELP.replace("{format}", settings.format.name())
                .replace("{maxrows}", &settings.max_rows.to_string())
        ),
        (".tables" | "\\dt", _) => {
            statements(
                engine,
                "SELECT table_schema AS schema, table_name AS name, table_type AS type \
                 FROM information_schema.tables ORDER BY 1, 2;",
                settings,
            )
            .await?
        }
        (".functions" | "\\df", _) => {
            statements(
                engine,
                "SELECT function_name, function_type, origin, syntax, description \
                 FROM socialcx_functions();",
                settings,
            )
            .await?
        }
        (".describe" | ".schema" | "\\d", Some(table)) => {
            statements(engine, &format!("DESCRIBE {table};"), settings).await?
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
    use super::{Input, Lines, statement_complete};

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
