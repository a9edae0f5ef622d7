//! Integration tests: one binary (DataFusion links once), one module per concern.

mod aggregates;
mod atomicity;
mod catalog;
mod cli;
mod cluster;
mod common;
mod compact;
mod files;
mod hardening;
mod influence;
mod ingest;
mod jobs;
mod layers;
mod memory;
mod moments;
mod probes;
mod pruning;
mod real;
mod reports;
mod s3;
mod schema;
mod scores;
mod sentiment;
mod server;
mod terminal;
mod twcs;
