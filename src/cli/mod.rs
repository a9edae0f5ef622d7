//! The analyst's command line: `socialcx demo | generate | ingest | sql | shell | serve | report
//! | jobs | completions`.

pub mod complete;
pub mod demo;
pub mod exec;
pub mod jobs;
pub mod progress;
pub mod shell;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::BoolishValueParser;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::engine::{EngineConfig, parse_size};
use crate::generator::{GeneratorConfig, OutputLayout};
use crate::ingest::{IngestOptions, ingest_files, is_input_file};
use crate::lake::location::{Access, DEFAULT_LAKE};
use crate::output::{Destination, OutputFormat, write_stream};
use crate::reports::text_values;
use crate::{Error, Result};
use exec::{SqlOptions, run_sql};

/// The heading of the options every command takes, apart from each command's own.
const GLOBAL: &str = "Global options";

/// socialcx: SQL analytics over social customer-experience conversations.
#[derive(Debug, Parser)]
#[command(name = "socialcx", version, about, max_term_width = 100)]
pub struct Cli {
    /// The lake: a local directory (./lake), file:///path, memory:// (this process only), or
    /// object storage: s3://bucket/prefix, gs://bucket/prefix, az://container/prefix.
    /// Commands that only read (sql, shell, report, serve, jobs list) refuse a local
    /// directory that does not exist; ingest, demo and jobs run create it.
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_LAKE",
        default_value = DEFAULT_LAKE,
        value_name = "URL",
        help_heading = GLOBAL
    )]
    pub lake: String,
    /// Memory the engine may use before spilling to disk (e.g. 4GiB); default 75% of RAM.
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_MEMORY_LIMIT",
        value_name = "SIZE",
        help_heading = GLOBAL
    )]
    pub memory_limit: Option<String>,
    /// Directory for spill files (default: the system temporary directory).
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_SPILL_DIR",
        value_name = "DIR",
        help_heading = GLOBAL
    )]
    pub spill_dir: Option<PathBuf>,
    /// A domain lexicon (TOML) for the sentiment functions: words and phrases to add or
    /// override, for both modes.
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_LEXICON",
        value_name = "FILE",
        help_heading = GLOBAL
    )]
    pub lexicon: Option<PathBuf>,
    /// A moments-of-truth taxonomy (TOML) extending the shipped one (or replacing it,
    /// with `replace = true`).
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_TAXONOMY",
        value_name = "FILE",
        help_heading = GLOBAL
    )]
    pub taxonomy: Option<PathBuf>,
    /// The triage routing table (TOML `[teams] stage = "team"`) replacing the shipped one.
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_ROUTING",
        value_name = "FILE",
        help_heading = GLOBAL
    )]
    pub routing: Option<PathBuf>,
    /// Run queries on a Ballista cluster: its scheduler, df://HOST:PORT (see `socialcx
    /// cluster`). sql, shell, report, jobs and serve plan here and run there.
    #[arg(
        long,
        global = true,
        env = "SOCIALCX_CLUSTER",
        value_name = "URL",
        help_heading = GLOBAL
    )]
    pub cluster: Option<String>,
    /// More log output (-v: info, -vv: debug; SOCIALCX_LOG takes a tracing filter).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Run SQL (and shell commands such as .tables) and exit, as `socialcx shell -c SQL`
    /// does; repeatable.
    #[arg(short = 'c', value_name = "SQL")]
    pub commands: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Land the shipped sample in the lake and run a few telling queries.
    Demo,
    /// Write synthetic conversations (deterministic for a seed).
    Generate(GenerateArgs),
    /// Land NDJSON, CSV, Parquet or "Customer Support on Twitter" CSV files.
    Ingest(IngestArgs),
    /// Store the current configuration's scores (sentiment, stage) in the lake's files.
    Enrich(EnrichArgs),
    /// Merge the small files that ingests leave into one file per day (or per month).
    Compact(CompactArgs),
    /// Run SQL (an argument, a file or standard input) and print or save the result.
    Sql(SqlArgs),
    /// An interactive SQL shell (Tab completes keywords, tables, columns and dot commands).
    Shell(ShellArgs),
    /// Serve the engine over Arrow Flight SQL (ADBC, JDBC, BI tools).
    #[command(after_help = SERVE_ENVIRONMENT)]
    Serve(ServeArgs),
    /// Run a shipped report by name (--list shows them).
    Report(ReportArgs),
    /// Baseline metric jobs: list, run, backfill, schedule.
    Jobs(jobs::JobsArgs),
    /// Run a role of a Ballista cluster: its scheduler or an executor.
    Cluster(ClusterArgs),
    /// Print a completion script for bash, zsh, fish, elvish or powershell.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

/// What `serve --help` says about the variables that have no option.
const SERVE_ENVIRONMENT: &str = "\
Credentials come from the environment or --config, never from the command line:
  SOCIALCX_USER and SOCIALCX_PASSWORD  basic authentication, exchanged for a bearer token
  SOCIALCX_TOKEN                       a static bearer token
Each option above can also be set by the variable it names; the command line wins over the
environment, and the environment over --config.";

/// What `completions --help` says about installing the script.
const COMPLETIONS_HELP: &str = "\
Install (then open a new shell):
  bash: socialcx completions bash > ~/.local/share/bash-completion/completions/socialcx
  zsh:  socialcx completions zsh > ~/.zfunc/_socialcx   (with fpath+=~/.zfunc before compinit)
  fish: socialcx completions fish > ~/.config/fish/completions/socialcx.fish";

/// `socialcx cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The role.
    #[command(subcommand)]
    pub role: ClusterRole,
}

/// The roles of a cluster; clients reach it with `--cluster df://HOST:PORT`.
#[derive(Debug, Subcommand)]
pub enum ClusterRole {
    /// The scheduler: cuts each query into stages and hands their tasks to executors.
    /// Prints its URL (df://HOST:PORT) once it is set up.
    Scheduler {
        /// Address to listen on (port 0: a free port).
        #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
        addr: String,
        /// Seconds without a heartbeat after which an executor counts as lost and its
        /// tasks run again elsewhere (longer than the executors' --heartbeat).
        #[arg(long, default_value_t = 45, value_name = "SECS")]
        executor_timeout: u64,
    },
    /// An executor: runs tasks, reading the lake (--lake, with this process's own
    /// credentials) and scoring with its own --lexicon and --taxonomy, which must be
    /// the clients'. Prints its address once it is set up.
    Executor {
        /// The scheduler, df://HOST:PORT.
        #[arg(long, env = "SOCIALCX_SCHEDULER", value_name = "URL")]
        scheduler: String,
        /// Address of its Flight service (results, shuffles; port 0: a free port).
        #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
        addr: String,
        /// Tasks run at once (0: one per core).
        #[arg(long, default_value_t = 0, value_name = "N")]
        slots: usize,
        /// Directory for shuffle files (default: a new one in the temporary directory).
        #[arg(long, value_name = "DIR")]
        work_dir: Option<PathBuf>,
        /// Seconds between its heartbeats to the scheduler.
        #[arg(long, default_value_t = 15, value_name = "SECS")]
        heartbeat: u64,
    },
    /// What the cluster at --cluster (or --scheduler) runs: its versions, its executors
    /// and its jobs, the latest first.
    Status {
        /// The scheduler, df://HOST:PORT (default: --cluster).
        #[arg(long, value_name = "URL")]
        scheduler: Option<String>,
        /// One JSON object (url, versions, executors, jobs) instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// `socialcx completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::aot::Shell,
}

/// Where and how a result is written (shared by `sql` and `report`).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write the result to a file instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Rows the table format shows (0: all).
    #[arg(long, default_value_t = 40)]
    pub max_rows: usize,
}

/// `socialcx report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report to run (several: one HTML page with each, `--format html`).
    #[arg(required_unless_present = "list", value_name = "NAME")]
    pub names: Vec<String>,
    /// List the reports, their parameters and defaults.
    #[arg(long, conflicts_with = "names")]
    pub list: bool,
    /// A parameter, `name=value` (repeatable; `name=null` for no filter).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print the report's SQL with the parameters bound, instead of running it.
    #[arg(long)]
    pub sql: bool,
    /// Output options.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `socialcx generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of messages to write.
    #[arg(long, default_value_t = 10_000)]
    pub rows: u64,
    /// Random seed: the same seed writes the same file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Layout: our NDJSON, our CSV, or the Customer Support on Twitter CSV.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub layout: OutputLayout,
    /// First day of the generated period (UTC).
    #[arg(long, default_value = "2026-01-01")]
    pub start: chrono::NaiveDate,
    /// Length of the period in days.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `socialcx ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files (or directories of .ndjson/.jsonl/.json/.csv/.parquet files) to land.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// MiB of NDJSON landed at a time: memory stays a few times this (plus 16 bytes an
    /// input row), whatever the input's size. Larger segments write fewer, larger files.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub segment_mib: u64,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// The peak resident memory of this process so far (the kernel's `VmHWM`), where the
/// system tells it (Linux).
///
/// ```
/// # use socialcx::cli::peak_rss_bytes;
/// if let Some(peak) = peak_rss_bytes() {
///     assert!(peak > 0);
/// }
/// ```
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// `socialcx enrich`: rewrite the conversations files another configuration scored (a
/// different --lexicon or --taxonomy, an older build, or a lake from before scores were
/// stored), so that queries read their scores instead of computing them.
#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// Rewrite every conversations file, not only the stale ones.
    #[arg(long)]
    pub all: bool,
    /// Files rewritten per commit (each commit is atomic; a crash keeps those made).
    #[arg(long, default_value_t = 16)]
    pub files_per_commit: usize,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Do not compute the shipped reports' influence graphs ahead of time (by default
    /// they are stored in the lake, so the first report after an ingest reads them).
    #[arg(long)]
    pub no_graphs: bool,
}

/// `socialcx compact`: merge the small conversations files of each month (one commit per
/// month), then store the reports' influence graphs for the new files.
#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Files with fewer rows than this are merged with their month's other small files.
    #[arg(long, default_value_t = crate::lake::layout::FILE_ROWS / 2)]
    pub small_rows: usize,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Do not compute the shipped reports' influence graphs for the new files.
    #[arg(long)]
    pub no_graphs: bool,
}

/// `socialcx sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL (one or more statements separated by `;`); without it, -f FILE or standard
    /// input.
    pub query: Option<String>,
    /// Read the SQL from a file (`-`: standard input).
    #[arg(short = 'f', long = "file", conflicts_with = "query")]
    pub file: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub out: OutputArgs,
    /// Do not print the row count and query time.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `socialcx shell`. With standard input not a terminal (`socialcx shell < script.sql`) or
/// with `-c`, the shell runs the script without prompts and stops at its first error.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// History file (default: ~/.socialcx_history).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Run SQL (and shell commands such as .tables or .format csv) and exit, without
    /// reading standard input; repeatable, each run in turn.
    #[arg(short = 'c', value_name = "SQL")]
    pub commands: Vec<String>,
}

impl SqlArgs {
    /// The SQL to run: the argument, the file (`-`: standard input), or standard input when
    /// it is not a terminal.
    ///
    /// ```
    /// use clap::Parser;
    /// use socialcx::cli::{Cli, Command};
    /// let cli = Cli::try_parse_from(["socialcx", "sql", "SELECT 1", "--format", "csv"]).unwrap();
    /// let Some(Command::Sql(args)) = cli.command else { unreachable!() };
    /// assert_eq!(args.script().unwrap(), "SELECT 1");
    /// ```
    pub fn script(&self) -> Result<String> {
        match (&self.query, &self.file) {
            (Some(query), _) => Ok(query.clone()),
            (None, Some(path)) if path == Path::new("-") => read_stdin(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))
            }
            (None, None) if !std::io::stdin().is_terminal() => read_stdin(),
            (None, None) => Err(Error::Usage(
                "no SQL given: socialcx sql \"SELECT ...\", socialcx sql -f FILE, or SQL on \
                 standard input (echo \"SELECT 1\" | socialcx sql)"
                    .into(),
            )),
        }
    }
}

/// All of standard input, as text.
fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::io("standard input", e))?;
    Ok(text)
}

/// `socialcx serve`. Credentials come from `SOCIALCX_USER` and `SOCIALCX_PASSWORD` (basic
/// authentication, exchanged for a bearer token) or `SOCIALCX_TOKEN` (a static token), or
/// from `--config`; never from the command line, where other users could read them.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:50051].
    #[arg(long, env = "SOCIALCX_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// A server configuration file (TOML: addr, user, password, token, tls_cert, tls_key,
    /// query_timeout, max_concurrent_queries, allow_writes, allow_file_access, token_ttl, shutdown_grace).
    #[arg(long, env = "SOCIALCX_SERVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// TLS certificate chain (PEM); with --tls-key, the server speaks TLS only.
    #[arg(
        long,
        requires = "tls_key",
        env = "SOCIALCX_TLS_CERT",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(
        long,
        requires = "tls_cert",
        env = "SOCIALCX_TLS_KEY",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,
    /// A query's time limit (30s, 10m, 1h) [default: 10m].
    #[arg(long, env = "SOCIALCX_QUERY_TIMEOUT", value_name = "DURATION")]
    pub query_timeout: Option<String>,
    /// Queries running at once; more wait for a slot [default: 16].
    #[arg(long, env = "SOCIALCX_MAX_CONCURRENT_QUERIES", value_name = "N")]
    pub max_concurrent_queries: Option<usize>,
    /// Permit DDL (CREATE VIEW ...), DML and SET statements; refused by default.
    #[arg(long, env = "SOCIALCX_ALLOW_WRITES", value_parser = BoolishValueParser::new())]
    pub allow_writes: bool,
    /// Permit CREATE EXTERNAL TABLE, COPY ... TO and read_parquet/read_csv/read_json of local
    /// paths, which read and write files of the server's host (or any URL it reaches);
    /// refused by default, even with --allow-writes (lake:// paths are always readable).
    #[arg(long, env = "SOCIALCX_ALLOW_FILE_ACCESS", value_parser = BoolishValueParser::new())]
    pub allow_file_access: bool,
    /// After Ctrl-C or SIGTERM, how long running queries may go on before they are
    /// dropped [default: 30s].
    #[arg(long, env = "SOCIALCX_SHUTDOWN_GRACE", value_name = "DURATION")]
    pub shutdown_grace: Option<String>,
}

impl ServeArgs {
    /// The server configuration: command line, then environment, then `--config`, then the
    /// defaults.
    pub fn server_config(&self) -> Result<crate::server::ServerConfig> {
        use crate::server::{ServerConfig, ServerFile, auth::Credentials, parse_duration};
        let file = match &self.config {
            Some(path) => ServerFile::load(path)?,
            None => ServerFile::default(),
        };
        let mut config = ServerConfig {
            credentials: Credentials::from_env().or(file.credentials()),
            ..ServerConfig::default()
        };
        if let Some(addr) = self.addr.as_ref().or(file.addr.as_ref()) {
            config.addr = addr
                .parse()
                .map_err(|_| Error::Usage(format!("bad address {addr:?} (try 127.0.0.1:50051)")))?;
        }
        config.tls = match (
            self.tls_cert.as_ref().or(file.tls_cert.as_ref()),
            self.tls_key.as_ref().or(file.tls_key.as_ref()),
        ) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            (None, None) => None,
            _ => {
                return Err(Error::Usage(
                    "TLS needs both a certificate and a key".into(),
                ));
            }
        };
        if let Some(t) = self.query_timeout.as_ref().or(file.query_timeout.as_ref()) {
            config.query_timeout = parse_duration(t)?;
        }
        if let Some(grace) = self
            .shutdown_grace
            .as_ref()
            .or(file.shutdown_grace.as_ref())
        {
            config.shutdown_grace = parse_duration(grace)?;
        }
        if let Some(ttl) = &file.token_ttl {
            config.token_ttl = parse_duration(ttl)?;
        }
        if let Some(n) = self.max_concurrent_queries.or(file.max_concurrent_queries) {
            config.max_concurrent_queries = n;
        }
        if let Some(n) = file.max_prepared_statements {
            if n == 0 {
                return Err(Error::Usage(
                    "max_prepared_statements must be at least 1".into(),
                ));
            }
            config.statements.capacity = n;
        }
        if let Some(idle) = &file.prepared_statement_idle {
            config.statements.idle = parse_duration(idle)?;
        }
        config.allow_writes = self.allow_writes || file.allow_writes.unwrap_or(false);
        config.allow_file_access =
            self.allow_file_access || file.allow_file_access.unwrap_or(false);
        Ok(config)
    }
}

impl Cli {
    /// What the command does with the lake: commands that only read it must not create a
    /// local lake directory that is not there (a mistyped `--lake` would read as empty).
    ///
    /// ```
    /// use clap::Parser;
    /// use socialcx::cli::Cli;
    /// use socialcx::lake::location::Access;
    /// let access = |args: &[&str]| Cli::try_parse_from(args).unwrap().access();
    /// assert_eq!(access(&["socialcx", "sql", "SELECT 1"]), Access::Read);
    /// assert_eq!(access(&["socialcx", "jobs", "list"]), Access::Read);
    /// assert_eq!(access(&["socialcx", "ingest", "in.ndjson"]), Access::Write);
    /// assert_eq!(access(&["socialcx", "jobs", "run", "baseline_daily"]), Access::Write);
    /// ```
    pub fn access(&self) -> Access {
        match &self.command {
            Some(Command::Ingest(_) | Command::Demo) => Access::Write,
            // Enrich rewrites the files of a lake that exists: a missing one is a mistake.
            Some(Command::Enrich(_) | Command::Compact(_)) => Access::Read,
            Some(Command::Jobs(args)) => match args.command {
                jobs::JobsCommand::List => Access::Read,
                _ => Access::Write,
            },
            _ => Access::Read,
        }
    }

    /// The engine configuration the global options describe (with [`Cli::access`]).
    ///
    /// ```
    /// use clap::Parser;
    /// let cli = socialcx::cli::Cli::try_parse_from(["socialcx", "--lake", "memory://", "shell"]).unwrap();
    /// assert_eq!(cli.engine_config().unwrap().lake, "memory://");
    /// ```
    pub fn engine_config(&self) -> Result<EngineConfig> {
        let mut config = EngineConfig::new(self.lake.clone()).with_access(self.access());
        if let Some(limit) = &self.memory_limit {
            config = config.with_memory_limit(parse_size(limit)?);
        }
        if let Some(dir) = &self.spill_dir {
            config = config.with_spill_dir(dir);
        }
        if let Some(path) = &self.lexicon {
            config = config.with_lexicon(path);
        }
        if let Some(path) = &self.taxonomy {
            config = config.with_taxonomy(path);
        }
        if let Some(path) = &self.routing {
            config = config.with_routing(path);
        }
        if let Some(url) = &self.cluster
            && self.runs_on_cluster()
        {
            config = config.with_dispatch(std::sync::Arc::new(
                crate::cluster::ClusterDispatch::new(url)?,
            ));
        }
        Ok(config)
    }

    /// Whether this command's queries run on `--cluster` when one is given: those that
    /// read (sql, shell, report, jobs, serve); ingest, enrich and the demo write the lake
    /// from this process.
    fn runs_on_cluster(&self) -> bool {
        matches!(
            self.command,
            None | Some(
                Command::Sql(_)
                    | Command::Shell(_)
                    | Command::Report(_)
                    | Command::Jobs(_)
                    | Command::Serve(_)
            )
        )
    }
}

/// `socialcx cluster status`: the versions, executors and jobs of the cluster at
/// `scheduler` (or `--cluster`).
async fn cluster_status(cli: &Cli, scheduler: Option<&str>, json: bool) -> Result<i32> {
    let Some(url) = scheduler.or(cli.cluster.as_deref()) else {
        return Err(Error::Usage(
            "which cluster? give --cluster df://HOST:PORT (or SOCIALCX_CLUSTER)".into(),
        ));
    };
    let status = crate::cluster::status::status(url).await?;
    if json {
        let text = serde_json::to_string_pretty(&status)
            .map_err(|e| Error::Usage(format!("the cluster's status as JSON: {e}")))?;
        println!("{text}");
        return Ok(0);
    }
    println!(
        "{url}: Ballista {}, DataFusion {}; {} executors, {} jobs",
        status.versions.version,
        status.versions.datafusion_version,
        status.executors.len(),
        status.jobs.len()
    );
    let mut out = std::io::stdout();
    for batch in [status.executors_batch(), status.jobs_batch()] {
        let schema = batch.schema();
        let stream =
            datafusion::physical_plan::memory::MemoryStream::try_new(vec![batch], schema, None)?;
        write_stream(Box::pin(stream), OutputFormat::Table, &mut out, 0).await?;
    }
    Ok(0)
}

/// Open the engine the command line describes; a command that writes and so made a new
/// local lake says so, once, on stderr.
async fn open_engine(cli: &Cli) -> Result<crate::Engine> {
    let engine = crate::open_with(cli.engine_config()?).await?;
    if engine.lake().created() {
        eprintln!("created a new lake at {}", engine.lake().url());
    }
    Ok(engine)
}

/// Run the command line; returns the process exit code.
pub async fn run(cli: Cli) -> Result<i32> {
    let command = match (&cli.command, cli.commands.is_empty()) {
        (Some(command), true) => command,
        (None, false) => {
            let engine = open_engine(&cli).await?;
            return shell::run(&engine, None, &cli.commands).await;
        }
        (Some(_), false) => {
            return Err(Error::Usage(
                "-c comes without a command (socialcx -c SQL) or after shell \
                 (socialcx shell -c SQL)"
                    .into(),
            ));
        }
        (None, true) => {
            eprint!("{}", Cli::command().render_help());
            return Ok(2);
        }
    };
    match command {
        Command::Cluster(ClusterArgs {
            role: ClusterRole::Status { scheduler, json },
        }) => cluster_status(&cli, scheduler.as_deref(), *json).await,
        Command::Cluster(args) => {
            let config = cli.engine_config()?;
            let ready = |what: &str| {
                println!("{what}");
                let _ = std::io::stdout().flush();
            };
            match &args.role {
                ClusterRole::Scheduler {
                    addr,
                    executor_timeout,
                } => {
                    let options = crate::cluster::roles::SchedulerOptions {
                        addr: addr.clone(),
                        executor_timeout: *executor_timeout,
                    };
                    crate::cluster::roles::run_scheduler(&options, &config, &ready).await?
                }
                ClusterRole::Executor {
                    scheduler,
                    addr,
                    slots,
                    work_dir,
                    heartbeat,
                } => {
                    let options = crate::cluster::roles::ExecutorOptions {
                        scheduler: scheduler.clone(),
                        addr: addr.clone(),
                        slots: *slots,
                        work_dir: work_dir.clone(),
                        heartbeat: *heartbeat,
                    };
                    crate::cluster::roles::run_executor(&options, &config, &ready).await?
                }
                // Answered by the arm above.
                ClusterRole::Status { .. } => {}
            }
            Ok(0)
        }
        Command::Completions(args) => {
            let mut out = std::io::stdout();
            clap_complete::aot::generate(args.shell, &mut Cli::command(), "socialcx", &mut out);
            out.flush().map_err(|e| Error::io("standard output", e))?;
            Ok(0)
        }
        Command::Generate(args) => {
            let config = GeneratorConfig {
                rows: args.rows,
                seed: args.seed,
                start: args.start,
                days: args.days,
                layout: args.layout,
            };
            let started = Instant::now();
            let written = crate::generator::generate_file(
                &config,
                &args.out,
                progress::bars(!args.no_progress).as_ref(),
            )?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "wrote {written} messages to {} in {secs:.2}s ({:.0} rows/s)",
                args.out.display(),
                written as f64 / secs.max(1e-9)
            );
            Ok(0)
        }
        Command::Ingest(args) => {
            let engine = open_engine(&cli).await?;
            let files = expand_inputs(&args.files)?;
            let options = IngestOptions {
                progress: progress::bars(!args.no_progress),
                segment_bytes: (args.segment_mib << 20) as usize,
            };
            let summary = ingest_files(&engine, &files, &options).await?;
            println!("{summary}");
            if let Some(peak) = peak_rss_bytes() {
                println!("peak memory (RSS): {} MiB", peak >> 20);
            }
            if cli.lake.starts_with("memory://") && summary.landed() > 0 {
                eprintln!(
                    "note: the lake is memory:// — what landed is gone when this command \
                     exits; give --lake a directory or an object-store URL to keep it"
                );
            }
            Ok(if summary.failed() > 0 { 1 } else { 0 })
        }
        Command::Enrich(args) => {
            let engine = crate::open_with(cli.engine_config()?).await?;
            let options = crate::ingest::enrich::EnrichOptions {
                all: args.all,
                files_per_commit: args.files_per_commit,
                progress: progress::bars(!args.no_progress),
            };
            let summary = crate::ingest::enrich::enrich(&engine, &options).await?;
            println!("{summary}");
            if !args.no_graphs {
                store_graphs(&engine, !args.no_progress).await?;
            }
            Ok(0)
        }
        Command::Compact(args) => {
            let engine = crate::open_with(cli.engine_config()?).await?;
            let options = crate::ingest::compact::CompactOptions {
                small_rows: args.small_rows,
                progress: progress::bars(!args.no_progress),
            };
            let summary = crate::ingest::compact::compact(&engine, &options).await?;
            println!("{summary}");
            if !args.no_graphs && summary.commits > 0 {
                store_graphs(&engine, !args.no_progress).await?;
            }
            Ok(0)
        }
        Command::Sql(args) => {
            let sql = args.script()?;
            let engine = open_engine(&cli).await?;
            let format = args.out.format;
            let options = SqlOptions {
                timer: !args.quiet,
                ..SqlOptions::new(format, args.out.max_rows)
            };
            let mut out = Destination::open(args.out.output.as_deref(), format)?;
            let outcome = run_sql(&engine, &sql, &options, &mut out).await?;
            if outcome.statements == 0 {
                return Err(Error::Usage("no SQL statement given".into()));
            }
            if let Some(path) = &args.out.output
                && outcome.written == 0
                && format.holds_one_result()
            {
                // The file is left as it was: an empty one would not be valid Parquet or JSON.
                return Err(Error::Usage(format!(
                    "-o {}: the last statement returns no rows, so there is nothing to write \
                     (the statements ran)",
                    path.display()
                )));
            }
            out.commit()?;
            Ok(0)
        }
        Command::Shell(args) => {
            let engine = open_engine(&cli).await?;
            shell::run(&engine, args.history.clone(), &args.commands).await
        }
        Command::Serve(args) => {
            let config = args.server_config()?;
            let engine = open_engine(&cli).await?;
            let server = crate::server::Server::bind(engine, config).await?;
            eprintln!(
                "socialcx Flight SQL server on {} (lake {}); Ctrl-C or SIGTERM stops it",
                server.local_addr(),
                cli.lake
            );
            server.run(crate::server::shutdown_signal()).await?;
            Ok(0)
        }
        Command::Report(args) => run_report(&cli, args).await,
        Command::Jobs(args) => {
            let engine = open_engine(&cli).await?;
            jobs::run_jobs(&engine, args, cli.verbose).await
        }
        Command::Demo => {
            let engine = open_engine(&cli).await?;
            demo::run(&engine).await?;
            Ok(0)
        }
    }
}

/// `socialcx report NAME... [-p k=v ...]`: one report in any format, or several on one HTML
/// page (each takes the parameters it declares).
async fn run_report(cli: &Cli, args: &ReportArgs) -> Result<i32> {
    if args.list {
        print!("{}", report_list());
        return Ok(0);
    }
    let reports = args
        .names
        .iter()
        .map(|n| crate::reports::find(n))
        .collect::<Result<Vec<_>>>()?;
    let mut values = Vec::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--param {p:?}: write NAME=VALUE")))?;
        let k = k.trim().to_string();
        if !reports.iter().any(|r| r.params.iter().any(|q| q.name == k)) {
            // Let the first report say which parameters it takes.
            reports[0].bind(&[(k.clone(), v.to_string())])?;
        }
        values.push((k, v.to_string()));
    }
    // Each report gets the values of the parameters it declares.
    let own = |r: &crate::reports::Report| -> Vec<(String, String)> {
        values
            .iter()
            .filter(|(k, _)| r.params.iter().any(|p| &p.name == k))
            .cloned()
            .collect()
    };
    if args.sql {
        // The window's defaults are resolved from the lake, as a run would resolve them: the
        // lake is opened only when a report needs it.
        let needs_lake = reports
            .iter()
            .any(|r| r.needs_calendar(&text_values(&own(r))));
        let engine = if needs_lake {
            Some(open_engine(cli).await?)
        } else {
            None
        };
        for r in &reports {
            let given = text_values(&own(r));
            let (values, period) = match &engine {
                Some(engine) => r.resolve(engine, &given).await?,
                None => r.resolve_with(None, &given)?,
            };
            eprintln!("{}: {}", r.name, period.describe());
            println!("{};", r.bind_values(&values)?);
        }
        return Ok(0);
    }
    let format = args.out.format;
    if reports.len() > 1 && format != OutputFormat::Html {
        return Err(Error::Usage(format!(
            "{} reports given: several reports go on one page with --format html; \
             run them one at a time for {format:?}",
            reports.len()
        )));
    }
    let engine = open_engine(cli).await?;
    let mut out = Destination::open(args.out.output.as_deref(), format)?;
    if format == OutputFormat::Html {
        let mut sections = Vec::new();
        for r in reports {
            let started = Instant::now();
            let given = own(&r);
            let (values, period) = r.resolve(&engine, &text_values(&given)).await?;
            let batches = engine
                .collect(r.plan_bound(&engine, &values).await?)
                .await?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            eprintln!(
                "{}: {rows} rows in {:.3}s; {}",
                r.name,
                started.elapsed().as_secs_f64(),
                period.describe()
            );
            sections
                .push(crate::reports::page::Section::new(r, given, batches).with_period(period));
        }
        let title = match sections.as_slice() {
            [one] => one.title().to_string(),
            _ => "Customer-experience report".to_string(),
        };
        let page = crate::reports::page::render(&title, &cli.lake, &sections)?;
        out.write_all(page.as_bytes())
            .map_err(|e| Error::io("the page", e))?;
    } else {
        let report = &reports[0];
        let started = Instant::now();
        let (values, period) = report.resolve(&engine, &text_values(&own(report))).await?;
        // The period on stderr, so that the rows on stdout stay machine-readable.
        eprintln!("{}: {}", report.name, period.describe());
        let stream = engine
            .stream(report.plan_bound(&engine, &values).await?)
            .await?;
        let rows = write_stream(stream, format, &mut out, args.out.max_rows).await?;
        eprintln!("{rows} rows in {:.3}s", started.elapsed().as_secs_f64());
    }
    out.commit()?;
    Ok(0)
}

/// `socialcx report --list`: each report's name, title, question and parameters.
pub fn report_list() -> String {
    let mut text = String::new();
    for r in crate::reports::shipped() {
        text.push_str(&format!("{}: {}\n  {}\n", r.name, r.title, r.description));
        if let Some(window) = &r.window {
            text.push_str(&format!("  default period: {}\n", window.describe()));
        }
        for p in &r.params {
            text.push_str(&format!(
                "  --param {}=<{}>  (default {})  {}\n",
                p.name,
                p.kind.name(),
                p.default.as_deref().unwrap_or("null"),
                p.description
            ));
        }
        text.push('\n');
    }
    text
}

/// Files named on the command line, with directories expanded to the input files
/// they hold (sorted, not recursive).
fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(p.display().to_string(), e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && is_input_file(f))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Store the shipped reports' influence graphs for the lake's current files, saying what
/// each did (`enrich` and `compact`, after they rewrite files).
async fn store_graphs(engine: &crate::Engine, show_progress: bool) -> crate::Result<()> {
    let bars = progress::bars(show_progress);
    for graph in crate::reports::stored::store_graphs(engine, bars.as_ref()).await? {
        if let Some(error) = &graph.error {
            eprintln!("{}: influence graph not stored: {error}", graph.report);
            continue;
        }
        let what = match graph.computed {
            true => format!("computed and stored in {:.1}s", graph.elapsed.as_secs_f64()),
            false => "already stored".to_string(),
        };
        println!("{}: author_influence {what} ({})", graph.report, graph.path);
    }
    Ok(())
}
