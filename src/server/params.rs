//! Reading the parameter values a client binds with `DoPut`, without trusting its bytes.
//!
//! The Arrow IPC decoder believes what a message header says: buffer offsets past the body
//! make it panic, a compressed buffer's claimed length is allocated as given, and a
//! malformed schema panics in conversion. So before decoding, every message is checked:
//! the total size is capped, the header must parse, every buffer must lie inside the body,
//! compression is refused, and the row count is bounded. Decoding then runs under
//! `catch_unwind` as a last line of defence: a bad stream is INVALID_ARGUMENT, never a
//! crash.

use std::panic::AssertUnwindSafe;

use arrow_flight::FlightData;
use arrow_flight::decode::FlightRecordBatchStream;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::{self, MessageHeader};
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use tonic::Status;

/// Bytes of parameter data one `DoPut` may send.
pub const MAX_PARAMETER_BYTES: usize = 16 << 20;
/// Rows of parameters one `DoPut` may send.
pub const MAX_PARAMETER_ROWS: i64 = 100_000;

fn bad(reason: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("unreadable parameters: {reason}"))
}

/// Check one message of a parameter stream (see the module docs).
///
/// ```
/// use arrow_flight::FlightData;
/// use socialcx::server::params::check_message;
/// let garbage = FlightData { data_header: vec![1, 2, 3].into(), ..Default::default() };
/// assert!(check_message(&garbage).is_err());
/// ```
pub fn check_message(data: &FlightData) -> Result<(), Status> {
    if data.data_header.is_empty() {
        // A message with only a descriptor or app metadata carries no Arrow data.
        return if data.data_body.is_empty() {
            Ok(())
        } else {
            Err(bad("a message body without a header"))
        };
    }
    let message = ipc::root_as_message(&data.data_header)
        .map_err(|e| bad(format!("not an Arrow IPC message ({e})")))?;
    let batch = match message.header_type() {
        MessageHeader::Schema => return Ok(()),
        MessageHeader::RecordBatch => message
            .header_as_record_batch()
            .ok_or_else(|| bad("a record batch message without its header"))?,
        MessageHeader::DictionaryBatch => message
            .header_as_dictionary_batch()
            .and_then(|d| d.data())
            .ok_or_else(|| bad("a dictionary message without its data"))?,
        other => return Err(bad(format!("unexpected message type {other:?}"))),
    };
    if batch.compression().is_some() {
        return Err(bad("compressed parameter data is not supported"));
    }
    if !(0..=MAX_PARAMETER_ROWS).contains(&batch.length()) {
        return Err(bad(format!(
            "{} rows (at most {MAX_PARAMETER_ROWS})",
            batch.length()
        )));
    }
    let body = data.data_body.len();
    for buffer in batch.buffers().into_iter().flatten() {
        let (offset, length) = (buffer.offset(), buffer.length());
        let end = offset.checked_add(length);
        let inside = offset >= 0 && length >= 0 && end.is_some_and(|e| e as u64 <= body as u64);
        if !inside {
            return Err(bad(format!(
                "a buffer at {offset}+{length} outside the {body}-byte body"
            )));
        }
    }
    Ok(())
}

/// Decode checked `messages` into one batch (none when they carry no Arrow data).
///
/// ```
/// let batch = futures::executor::block_on(socialcx::server::params::decode(Vec::new()))?;
/// assert!(batch.is_none());
/// # Ok::<(), tonic::Status>(())
/// ```
pub async fn decode(messages: Vec<FlightData>) -> Result<Option<RecordBatch>, Status> {
    for message in &messages {
        check_message(message)?;
    }
    decode_checked(messages).await
}

/// Decode `messages` that [`check_message`] accepted.
async fn decode_checked(messages: Vec<FlightData>) -> Result<Option<RecordBatch>, Status> {
    if messages.iter().all(|m| m.data_header.is_empty()) {
        return Ok(None);
    }
    let decoded = AssertUnwindSafe(async move {
        let stream = FlightRecordBatchStream::new_from_flight_data(futures::stream::iter(
            messages.into_iter().map(Ok),
        ));
        let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(bad)?;
        let Some(first) = batches.first() else {
            return Ok(None);
        };
        let batch =
            datafusion::arrow::compute::concat_batches(&first.schema(), &batches).map_err(bad)?;
        Ok(Some(batch))
    })
    .catch_unwind()
    .await;
    decoded.unwrap_or_else(|_| Err(bad("malformed Arrow data")))
}

/// Read a `DoPut` stream of parameters, at most [`MAX_PARAMETER_BYTES`], and decode it.
pub async fn read<S>(stream: S) -> Result<Option<RecordBatch>, Status>
where
    S: Stream<Item = Result<FlightData, Status>> + Unpin,
{
    let mut stream = stream;
    let mut messages = Vec::new();
    let mut total = 0usize;
    while let Some(message) = stream.next().await {
        let message = message?;
        total += message.data_header.len() + message.data_body.len() + message.app_metadata.len();
        if total > MAX_PARAMETER_BYTES {
            return Err(Status::resource_exhausted(format!(
                "parameters larger than the server's limit of {} MiB",
                MAX_PARAMETER_BYTES >> 20
            )));
        }
        // Checked as it arrives: a bad stream is refused before the rest is buffered.
        check_message(&message)?;
        messages.push(message);
    }
    decode_checked(messages).await
}
