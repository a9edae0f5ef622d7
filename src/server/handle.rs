//! Statement handles and tickets: stateless, so nothing leaks when a client never closes.
//!
//! A handle carries the SQL text and, once parameters are bound (`DoPut`), the parameter row
//! as an Arrow IPC stream. Binding returns a new handle, which Flight SQL clients use from then
//! on; the server keeps no per-statement state, so any number of executions and clients work.

use std::io::Cursor;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;

const MAGIC: &[u8; 4] = b"SCX1";

/// A statement: its SQL and the parameter values bound to it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementHandle {
    /// The SQL text, as the client sent it.
    pub sql: String,
    /// One row of parameter values (columns in placeholder order: `$1`, `$2`, ... or `?`s).
    pub params: Option<RecordBatch>,
}

impl StatementHandle {
    /// A handle for `sql` with no parameters bound.
    ///
    /// ```
    /// use socialcx::server::handle::StatementHandle;
    /// let handle = StatementHandle::new("SELECT 1");
    /// let bytes = handle.encode()?;
    /// assert_eq!(StatementHandle::decode(&bytes)?, handle);
    /// # Ok::<(), String>(())
    /// ```
    pub fn new(sql: impl Into<String>) -> Self {
        StatementHandle {
            sql: sql.into(),
            params: None,
        }
    }

    /// The same statement with `params` bound.
    pub fn with_params(&self, params: RecordBatch) -> Self {
        StatementHandle {
            sql: self.sql.clone(),
            params: Some(params),
        }
    }

    /// The handle's bytes: `SCX1`, the SQL's length (u32, little endian), the SQL, then the
    /// parameters as an Arrow IPC stream.
    pub fn encode(&self) -> Result<Bytes, String> {
        let sql = self.sql.as_bytes();
        let len = u32::try_from(sql.len()).map_err(|_| "statement too long".to_string())?;
        let mut out = Vec::with_capacity(8 + sql.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(sql);
        if let Some(params) = &self.params {
            let mut writer = StreamWriter::try_new(&mut out, &params.schema())
                .map_err(|e| format!("cannot encode parameters: {e}"))?;
            writer
                .write(params)
                .and_then(|_| writer.finish())
                .map_err(|e| format!("cannot encode parameters: {e}"))?;
        }
        Ok(Bytes::from(out))
    }

    /// Read a handle made by [`StatementHandle::encode`]; anything else is refused.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        const BAD: &str = "not a statement handle issued by this server";
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(BAD.into());
        }
        let len = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
        let rest = &bytes[8..];
        if rest.len() < len {
            return Err(BAD.into());
        }
        let sql = std::str::from_utf8(&rest[..len])
            .map_err(|_| BAD.to_string())?
            .to_string();
        let ipc = &rest[len..];
        let params = if ipc.is_empty() {
            None
        } else {
            let reader =
                StreamReader::try_new(Cursor::new(ipc), None).map_err(|e| format!("{BAD}: {e}"))?;
            let schema = reader.schema();
            let batches = reader
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{BAD}: {e}"))?;
            Some(
                datafusion::arrow::compute::concat_batches(&schema, &batches)
                    .map_err(|e| format!("{BAD}: {e}"))?,
            )
        };
        Ok(StatementHandle { sql, params })
    }
}
