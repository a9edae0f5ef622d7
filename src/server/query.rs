//! One running query as the server streams it: wire types, status codes and the log line.
//!
//! Dropping a [`QueryStream`] (the client went away) stops the query's work (see
//! [`crate::engine::exec`]). The log line is written exactly once,
//! when the stream ends or is dropped: who, what, duration, rows, bytes and outcome.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use arrow_flight::error::FlightError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use futures::{Stream, StreamExt};
use tonic::Status;

use crate::engine::exec::{QueryError, RunningQuery};

use super::wire::to_wire;

/// How a query ended, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Running,
    Ok,
    Error,
    Timeout,
}

/// What the log line says about a query.
#[derive(Debug)]
pub struct QueryLog {
    /// Who ran it.
    pub user: String,
    /// The SQL, as sent.
    pub sql: String,
    /// When the request arrived.
    pub started: Instant,
}

impl QueryLog {
    /// Log a query that failed before it streamed (planning, permissions, parameters).
    pub fn failed(&self, status: &Status) {
        tracing::info!(
            target: "socialcx::server::query",
            user = %self.user,
            sql = %one_line(&self.sql),
            duration_ms = self.started.elapsed().as_millis() as u64,
            rows = 0u64,
            outcome = %"error",
            error = %status.message(),
            "query"
        );
    }
}

/// A query's record batches, in wire types. The query runs on the engine's pool; its
/// deadline and concurrency slot live there (see [`crate::engine::exec`]).
pub struct QueryStream {
    inner: RunningQuery,
    schema: SchemaRef,
    log: QueryLog,
    rows: u64,
    bytes: u64,
    outcome: Outcome,
    error: Option<String>,
}

impl QueryStream {
    /// Stream `inner` as `schema` (its wire schema), logging the query once it ends.
    pub fn new(inner: RunningQuery, schema: SchemaRef, log: QueryLog) -> QueryStream {
        QueryStream {
            inner,
            schema,
            log,
            rows: 0,
            bytes: 0,
            outcome: Outcome::Running,
            error: None,
        }
    }

    fn fail(&mut self, outcome: Outcome, status: Status) -> Poll<Option<<Self as Stream>::Item>> {
        self.outcome = outcome;
        self.error = Some(status.message().to_string());
        Poll::Ready(Some(Err(FlightError::Tonic(Box::new(status)))))
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, FlightError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.outcome != Outcome::Running {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.outcome = Outcome::Ok;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(batch))) => {
                let schema = Arc::clone(&self.schema);
                match to_wire(&batch, &schema) {
                    Ok(batch) => {
                        self.rows += batch.num_rows() as u64;
                        self.bytes += batch.get_array_memory_size() as u64;
                        Poll::Ready(Some(Ok(batch)))
                    }
                    Err(e) => self.fail(
                        Outcome::Error,
                        Status::internal(format!("cannot send the result: {e}")),
                    ),
                }
            }
            Poll::Ready(Some(Err(QueryError::TimedOut(limit)))) => {
                self.fail(Outcome::Timeout, timed_out(limit))
            }
            Poll::Ready(Some(Err(QueryError::Failed(e)))) => {
                self.fail(Outcome::Error, super::status::from_datafusion(e))
            }
            Poll::Ready(Some(Err(QueryError::Crashed(message)))) => self.fail(
                Outcome::Error,
                Status::internal(format!("internal error: {message}")),
            ),
        }
    }
}

impl Drop for QueryStream {
    fn drop(&mut self) {
        let outcome = match self.outcome {
            Outcome::Running => "cancelled",
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
        };
        tracing::info!(
            target: "socialcx::server::query",
            user = %self.log.user,
            sql = %one_line(&self.log.sql),
            duration_ms = self.log.started.elapsed().as_millis() as u64,
            rows = self.rows,
            bytes = self.bytes,
            outcome = %outcome,
            error = %self.error.as_deref().unwrap_or(""),
            "query"
        );
    }
}

/// The status of a query stopped by the server's `--query-timeout` of `limit`.
pub fn timed_out(limit: std::time::Duration) -> Status {
    Status::deadline_exceeded(format!(
        "query timed out after {}s (the server's --query-timeout)",
        limit.as_secs_f64()
    ))
}

/// The SQL on one line, at most 500 characters, for the log.
fn one_line(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
