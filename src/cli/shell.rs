//! The interactive SQL shell, in the manner of duckdb's and datafusion-cli's.
//!
//! Statements end with `;` and may span lines; dot commands (`.tables`, `.describe T`,
//! `.format csv`, `.maxrows 100`, `.timer off`, `.help`, `.quit`) act at once.
//! Ctrl-C cancels the running query (or clears the line being typed); Ctrl-D quits.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::output::{OutputFormat, write_stream};
use crate::engine::Engine;
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

struct Settings {
    format: OutputFormat,
    max_rows: usize,
    timer: bool,
}

/// Run the shell on stdin/stdout until the user quits.
pub async fn run(engine: &Engine, history: Option<PathBuf>) -> Result<()> {
    let mut editor = DefaultEditor::new().map_err(|e| Error::Usage(format!("shell: {e}")))?;
    let history = history
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".socialcx_history")));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut settings = Settings {
        format: OutputFormat::Table,
        max_rows: 40,
        timer: true,
    };
    println!(
        "socialcx {} on {} ({} tables). Type .help for help.",
        env!("CARGO_PKG_VERSION"),
        engine.lake().url(),
        engine.table_names().len()
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "socialcx> "
        } else {
            "     ...> "
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("shell: {e}"))),
        };
        let trimmed = line.trim();
        if buffer.is_empty() && (trimmed.starts_with('.') || trimmed.starts_with('\\')) {
            let _ = editor.add_history_entry(trimmed);
            match command(engine, trimmed, &mut settings).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    eprintln!("error: {e}");
                    continue;
                }
            }
        }
        if trimmed.is_empty() && buffer.is_empty() {
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !statement_complete(&buffer) {
            continue;
        }
        let sql = std::mem::take(&mut buffer);
        let _ = editor.add_history_entry(sql.trim());
        tokio::select! {
            result = execute(engine, &sql, &settings) => {
                if let Err(e) = result {
                    eprintln!("error: {e}");
                }
            }
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

async fn execute(engine: &Engine, sql: &str, settings: &Settings) -> Result<()> {
    for statement in engine.parse(sql)? {
        let started = Instant::now();
        let df = engine.execute_statement(statement).await?;
        let stream = engine.stream(df).await?;
        let mut out = std::io::stdout();
        let rows = write_stream(stream, settings.format, &mut out, settings.max_rows).await?;
        out.flush()?;
        if settings.timer {
            eprintln!(
                "{rows} row{} in {:.3}s",
                if rows == 1 { "" } else { "s" },
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
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
            HELP.replace("{format}", &format!("{:?}", settings.format).to_lowercase())
                .replace("{maxrows}", &settings.max_rows.to_string())
        ),
        (".tables" | "\\dt", _) => {
            execute(
                engine,
                "SELECT table_schema AS schema, table_name AS name, table_type AS type \
                 FROM information_schema.tables ORDER BY 1, 2;",
                settings,
            )
            .await?
        }
        (".describe" | ".schema" | "\\d", Some(table)) => {
            execute(engine, &format!("DESCRIBE {table};"), settings).await?
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
    use super::statement_complete;

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
}
