//! Integration tests: one binary (DataFusion links once), one module per concern.

mod atomicity;
mod cli;
mod common;
mod hardening;
mod influence;
mod ingest;
mod jobs;
mod layers;
mod memory;
mod moments;
mod probes;
mod pruning;
mod reports;
mod s3;
mod schema;
mod sentiment;
mod server;
mod terminal;
mod twcs;
