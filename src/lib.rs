//! socialcx: an embedded analytics engine for social customer experience.
//!
//! Data flows one way through the crate (ingest -> lake -> engine -> interfaces), and
//! the modules are layered from the bottom up; a module uses only those of lower layers
//! (the test `tests/it/layers.rs` fails otherwise):
//!
//! 1. [`error`] and [`progress`], then [`config`], then [`model`]: the error type and how
//!    long work reports progress; the one loader of TOML configuration files (server, jobs,
//!    lexicon, taxonomy, routing), whose every failure is one [`Error::Config`]; the schema
//!    of every lake table and one row;
//! 2. [`lake`]: Parquet on an `object_store`, a commit log that makes every write atomic on
//!    stores without rename (S3), the one transaction API every writer uses, and the
//!    DataFusion `TableProvider`;
//! 3. [`engine`]: the one [`Engine`] every interface uses (SQL, the function registry,
//!    memory limits, the query pool); higher layers add to it as [`engine::EngineExtension`]s;
//! 4. [`output`]: query results in every format (table, CSV, JSON, NDJSON, Parquet, an HTML
//!    page) and output files that appear whole or not at all;
//! 5. [`ingest`]: reading NDJSON, CSV, Parquet and the "Customer Support on Twitter"
//!    layout, validating rows, quarantining bad ones, rebuilding threads; and [`reports`]:
//!    the shipped report queries (`queries/*.sql`), as views, table functions and HTML pages;
//! 6. [`jobs`]: scheduled baseline metric jobs, their history and alerts; and [`generator`]:
//!    the synthetic conversation generator (lives under `datasets/`);
//! 7. [`server`]: the Arrow Flight SQL server for BI tools and notebooks;
//! 8. [`cli`]: the analyst's command line (one-shot SQL, the shell, ingest, demo, jobs).
//!
//! [`open`] assembles it all: an engine with the reports.
//!
//! ```no_run
//! # async fn demo() -> socialcx::Result<()> {
//! let engine = socialcx::open("./lake").await?;
//! let batches = engine.sql("SELECT channel, count(*) FROM conversations GROUP BY channel")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod error;
#[path = "../datasets/generator/mod.rs"]
pub mod generator;
pub mod ingest;
pub mod jobs;
pub mod lake;
pub mod model;
pub mod output;
pub mod progress;
pub mod reports;
pub mod server;

pub use engine::{Engine, EngineConfig};
pub use error::{Error, Result};

/// Open the lake at `lake` with default settings and everything socialcx ships (the
/// engine's functions and tables, the reports and the routing table).
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open("./lake").await?;
/// engine.sql("SELECT count(*) FROM conversations").await?.show().await?;
/// # Ok(()) }
/// ```
pub async fn open(lake: &str) -> Result<Engine> {
    open_with(EngineConfig::new(lake)).await
}

/// Open a lake with `config` and everything socialcx ships (the reports are added to
/// `config.extensions`, first).
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// let engine = socialcx::open_with(socialcx::EngineConfig::new("./lake").with_memory_limit(1 << 30)).await?;
/// # Ok(()) }
/// ```
pub async fn open_with(mut config: EngineConfig) -> Result<Engine> {
    config
        .extensions
        .insert(0, std::sync::Arc::new(reports::Reports));
    Engine::with_config(config).await
}
