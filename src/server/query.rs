//! One running query as the server streams it: wire types, the deadline, the concurrency
//! permit and the log line.
//!
//! Dropping a [`QueryStream`] (the client went away, or the deadline passed) drops
//! DataFusion's stream, which cancels the query's tasks. The log line is written exactly once,
//! when the stream ends or is dropped: who, what, duration, rows, bytes and outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arrow_flight::error::FlightError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;
use tonic::Status;

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

/// A query's record batches, in wire types, ending at the deadline.
pub struct QueryStream {
    inner: SendableRecordBatchStream,
    schema: SchemaRef,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    _permit: Option<OwnedSemaphorePermit>,
    log: QueryLog,
    rows: u64,
    bytes: u64,
    outcome: Outcome,
    error: Option<String>,
}

impl QueryStream {
    /// Stream `inner` as `schema` (its wire schema) until `timeout` after the request arrived;
    /// `permit` is held until the stream ends.
    pub fn new(
        inner: SendableRecordBatchStream,
        schema: SchemaRef,
        timeout: Duration,
        permit: Option<OwnedSemaphorePermit>,
        log: QueryLog,
    ) -> QueryStream {
        // A timeout too large to add (e.g. "1000000h") means no deadline in practice.
        let deadline = log
            .started
            .checked_add(timeout)
            .unwrap_or_else(|| log.started + Duration::from_secs(100 * 365 * 86_400));
        let deadline = tokio::time::Instant::from_std(deadline);
        QueryStream {
            inner,
            schema,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            timeout,
            _permit: permit,
            log,
            rows: 0,
            bytes: 0,
            outcome: Outcome::Running,
            error: None,
        }
    }

    fn finish(&mut self, outcome: Outcome, error: Option<String>) {
        self.outcome = outcome;
        self.error = error;
        self._permit = None;
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, FlightError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.outcome != Outcome::Running {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let message = format!(
                "query timed out after {}s (the server's --query-timeout)",
                self.timeout.as_secs_f64()
            );
            self.finish(Outcome::Timeout, Some(message.clone()));
            return Poll::Ready(Some(Err(FlightError::Tonic(Box::new(
                Status::deadline_exceeded(message),
            )))));
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.finish(Outcome::Ok, None);
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
                    Err(e) => {
                        self.finish(Outcome::Error, Some(e.to_string()));
                        Poll::Ready(Some(Err(FlightError::Tonic(Box::new(Status::internal(
                            format!("cannot send the result: {e}"),
                        ))))))
                    }
                }
            }
            Poll::Ready(Some(Err(e))) => {
                let status = super::status::from_datafusion(e);
                self.finish(Outcome::Error, Some(status.message().to_string()));
                Poll::Ready(Some(Err(FlightError::Tonic(Box::new(status)))))
            }
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

/// The SQL on one line, at most 500 characters, for the log.
fn one_line(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}
