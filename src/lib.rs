//! socialcx: an embedded analytics engine for social customer experience.
//!
//! Data flows one way through the crate, and the modules follow it:
//!
//! * [`model`]: the conversation model (the `conversations` schema and one row of it);
//! * [`ingest`]: reading NDJSON, CSV, Parquet and the "Customer Support on Twitter"
//!   layout, validating rows, quarantining bad ones, rebuilding threads;
//! * [`lake`]: Parquet on an `object_store`, with a commit log that makes every
//!   ingest atomic on stores without rename (S3), and a DataFusion `TableProvider`;
//! * [`engine`]: the one [`Engine`] every interface uses (SQL, the function registry,
//!   memory limits);
//! * [`cli`]: the analyst's command line (one-shot SQL, the shell, ingest, demo);
//! * [`reports`]: the shipped report queries (`queries/*.sql`), runnable by name, as views,
//!   table functions and HTML pages;
//! * [`jobs`]: scheduled baseline metric jobs, their history (`metrics.*`, `job_runs`) and alerts;
//! * [`server`]: the Arrow Flight SQL server for BI tools and notebooks;
//! * [`generator`]: the synthetic conversation generator (lives under `datasets/`).
//!
//! ```no_run
//! # async fn demo() -> socialcx::Result<()> {
//! let engine = socialcx::Engine::open("./lake").await?;
//! let batches = engine.sql("SELECT channel, count(*) FROM conversations GROUP BY channel")
//!     .await?
//!     .collect()
//!     .await?;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod engine;
pub mod error;
#[path = "../datasets/generator/mod.rs"]
pub mod generator;
pub mod ingest;
pub mod jobs;
pub mod lake;
pub mod model;
pub mod reports;
pub mod server;

pub use engine::{Engine, EngineConfig};
pub use error::{Error, Result};
