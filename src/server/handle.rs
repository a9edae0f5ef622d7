//! Statement handles and tickets. The server never trusts their bytes: a prepared
//! statement's handle is an opaque random id naming server-side state, and a ticket carries
//! nothing but SQL text.
//!
//! * A prepared statement lives in [`Statements`]: its SQL, its owner, and the parameters
//!   bound by `DoPut`. Binding updates the statement in place and answers with the same
//!   handle, so clients that keep using the original handle (flightsql-dbapi, older JDBC
//!   drivers) and clients that switch to the returned one (ADBC) both see their values.
//!   Closing frees it; statements idle for longer than the idle limit, and the least recently
//!   used beyond the capacity, are dropped, so clients that never close cannot grow memory.
//! * A plain query's ticket is `SCXQ` followed by the SQL (UTF-8).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use rand::RngCore;
use tonic::Status;

const HANDLE_MAGIC: &[u8; 4] = b"SCXP";
const TICKET_MAGIC: &[u8; 4] = b"SCXQ";
const ID_BYTES: usize = 16;

/// A statement to run: its SQL and the parameter values bound to it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, as the client sent it.
    pub sql: Arc<str>,
    /// One row of parameter values (columns in placeholder order: `$1`, `$2`, ... or `?`s).
    pub params: Option<RecordBatch>,
}

impl Statement {
    /// A statement with no parameters bound.
    ///
    /// ```
    /// let statement = socialcx::server::handle::Statement::new("SELECT 1");
    /// assert!(statement.params.is_none());
    /// ```
    pub fn new(sql: impl Into<Arc<str>>) -> Statement {
        Statement {
            sql: sql.into(),
            params: None,
        }
    }
}

/// The ticket that runs `sql` (a plain statement's `DoGet`).
///
/// ```
/// use socialcx::server::handle::{sql_ticket, ticket_sql};
/// assert_eq!(ticket_sql(&sql_ticket("SELECT 1")).unwrap(), "SELECT 1");
/// assert!(ticket_sql(b"anything else").is_err());
/// ```
pub fn sql_ticket(sql: &str) -> Bytes {
    let mut out = Vec::with_capacity(TICKET_MAGIC.len() + sql.len());
    out.extend_from_slice(TICKET_MAGIC);
    out.extend_from_slice(sql.as_bytes());
    Bytes::from(out)
}

/// The SQL of a ticket made by [`sql_ticket`]; anything else is INVALID_ARGUMENT.
pub fn ticket_sql(bytes: &[u8]) -> Result<String, Status> {
    bytes
        .strip_prefix(TICKET_MAGIC.as_slice())
        .and_then(|sql| std::str::from_utf8(sql).ok())
        .map(str::to_string)
        .ok_or_else(|| Status::invalid_argument("not a ticket issued by this server"))
}

/// How many prepared statements a server keeps, and for how long (a client told its handle
/// is unknown prepares again).
///
/// ```
/// use std::time::Duration;
/// use socialcx::server::ServerConfig;
/// use socialcx::server::handle::StatementLimits;
/// let config = ServerConfig {
///     statements: StatementLimits { capacity: 500, idle: Duration::from_secs(3600), ..Default::default() },
///     ..ServerConfig::default()
/// };
/// assert_eq!(config.statements.param_bytes, StatementLimits::default().param_bytes);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StatementLimits {
    /// Statements kept at once (the least recently used beyond it are dropped).
    pub capacity: usize,
    /// A statement unused for this long is dropped.
    pub idle: Duration,
    /// Bytes of bound parameters kept over all statements.
    pub param_bytes: usize,
}

impl Default for StatementLimits {
    fn default() -> Self {
        StatementLimits {
            capacity: 10_000,
            idle: Duration::from_secs(8 * 3600),
            param_bytes: 256 << 20,
        }
    }
}

struct Entry {
    owner: String,
    statement: Statement,
    param_bytes: usize,
    last_used: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<[u8; ID_BYTES], Entry>,
    param_bytes: usize,
}

/// The server's prepared statements, by opaque handle.
///
/// ```
/// use socialcx::server::handle::{Statements, StatementLimits};
/// let statements = Statements::new(StatementLimits::default());
/// let handle = statements.create("alice", "SELECT $1");
/// assert_eq!(&*statements.get("alice", &handle).unwrap().sql, "SELECT $1");
/// assert!(statements.get("bob", &handle).is_err()); // another user's handle is unknown
/// statements.close("alice", &handle);
/// assert!(statements.get("alice", &handle).is_err());
/// ```
pub struct Statements {
    inner: Mutex<Inner>,
    limits: StatementLimits,
}

impl std::fmt::Debug for Statements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statements")
            .field("open", &self.len())
            .finish()
    }
}

fn unknown() -> Status {
    Status::invalid_argument(
        "unknown prepared statement handle (closed, expired, or not issued by this server): \
         prepare the statement again",
    )
}

fn parse_id(handle: &[u8]) -> Result<[u8; ID_BYTES], Status> {
    handle
        .strip_prefix(HANDLE_MAGIC.as_slice())
        .and_then(|id| <[u8; ID_BYTES]>::try_from(id).ok())
        .ok_or_else(unknown)
}

impl Statements {
    /// An empty registry with these limits.
    pub fn new(limits: StatementLimits) -> Statements {
        Statements {
            inner: Mutex::new(Inner::default()),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves consistent data: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Statements open now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no statement is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Register `sql` for `owner` and return its handle.
    pub fn create(&self, owner: &str, sql: impl Into<Arc<str>>) -> Bytes {
        let mut id = [0u8; ID_BYTES];
        rand::rng().fill_bytes(&mut id);
        let now = Instant::now();
        let mut inner = self.lock();
        self.evict(&mut inner, now, 1, 0, None);
        inner.entries.insert(
            id,
            Entry {
                owner: owner.to_string(),
                statement: Statement::new(sql),
                param_bytes: 0,
                last_used: now,
            },
        );
        let mut handle = Vec::with_capacity(HANDLE_MAGIC.len() + ID_BYTES);
        handle.extend_from_slice(HANDLE_MAGIC);
        handle.extend_from_slice(&id);
        Bytes::from(handle)
    }

    /// The statement `handle` names, if `owner` created it.
    pub fn get(&self, owner: &str, handle: &[u8]) -> Result<Statement, Status> {
        let id = parse_id(handle)?;
        let mut inner = self.lock();
        let idle = self.limits.idle;
        match inner.entries.get_mut(&id) {
            Some(entry) if entry.owner == owner && entry.last_used.elapsed() <= idle => {
                entry.last_used = Instant::now();
                Ok(entry.statement.clone())
            }
            _ => Err(unknown()),
        }
    }

    /// Bind `params` to the statement `handle` names (replacing earlier values). The
    /// statement keeps them until it is closed, dropped or bound again: executing the same
    /// handle runs with them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch};
    /// use socialcx::server::handle::{StatementLimits, Statements};
    /// let statements = Statements::new(StatementLimits::default());
    /// let handle = statements.create("alice", "SELECT $1");
    /// let values = RecordBatch::try_from_iter([("$1", Arc::new(Int64Array::from(vec![7])) as ArrayRef)])?;
    /// statements.bind("alice", &handle, values.clone())?;
    /// assert_eq!(statements.get("alice", &handle)?.params, Some(values));
    /// assert!(statements.param_bytes() > 0);
    /// statements.close("alice", &handle);
    /// assert_eq!(statements.param_bytes(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind(&self, owner: &str, handle: &[u8], params: RecordBatch) -> Result<(), Status> {
        let id = parse_id(handle)?;
        let bytes = params.get_array_memory_size();
        if bytes > self.limits.param_bytes {
            return Err(Status::resource_exhausted(format!(
                "bound parameters of {bytes} bytes exceed the server's limit of {}",
                self.limits.param_bytes
            )));
        }
        let now = Instant::now();
        let mut inner = self.lock();
        let replaced = match inner.entries.get_mut(&id) {
            Some(entry)
                if entry.owner == owner
                    && now.duration_since(entry.last_used) <= self.limits.idle =>
            {
                entry.last_used = now;
                entry.param_bytes
            }
            _ => return Err(unknown()),
        };
        // Room for the growth only (the values replaced go), never by dropping this statement.
        self.evict(&mut inner, now, 0, bytes.saturating_sub(replaced), Some(id));
        let Some(entry) = inner.entries.get_mut(&id) else {
            return Err(unknown());
        };
        let freed = std::mem::replace(&mut entry.param_bytes, bytes);
        entry.statement.params = Some(params);
        entry.last_used = now;
        inner.param_bytes = inner.param_bytes - freed + bytes;
        Ok(())
    }

    /// Bytes of bound parameters held now, over all statements.
    ///
    /// ```
    /// let statements = socialcx::server::handle::Statements::new(Default::default());
    /// assert_eq!(statements.param_bytes(), 0);
    /// ```
    pub fn param_bytes(&self) -> usize {
        self.lock().param_bytes
    }

    /// Free the statement `handle` names, with its bound parameters (unknown handles are
    /// ignored).
    pub fn close(&self, owner: &str, handle: &[u8]) {
        let Ok(id) = parse_id(handle) else { return };
        let mut inner = self.lock();
        if inner.entries.get(&id).is_some_and(|e| e.owner == owner)
            && let Some(entry) = inner.entries.remove(&id)
        {
            inner.param_bytes -= entry.param_bytes;
        }
    }

    /// Drop idle statements, then the least recently used, until `new_entries` more and
    /// `new_bytes` more parameter bytes fit. The statement `keep` names is never dropped.
    fn evict(
        &self,
        inner: &mut Inner,
        now: Instant,
        new_entries: usize,
        new_bytes: usize,
        keep: Option<[u8; ID_BYTES]>,
    ) {
        let idle = self.limits.idle;
        let before = inner.entries.len();
        let mut freed = 0;
        inner.entries.retain(|id, e| {
            let stays = Some(*id) == keep || now.duration_since(e.last_used) <= idle;
            if !stays {
                freed += e.param_bytes;
            }
            stays
        });
        inner.param_bytes -= freed;
        let over = |inner: &Inner| {
            inner.entries.len() + new_entries > self.limits.capacity
                || inner.param_bytes + new_bytes > self.limits.param_bytes
        };
        if over(inner) {
            let mut by_age: Vec<([u8; ID_BYTES], Instant)> = inner
                .entries
                .iter()
                .filter(|(id, _)| Some(**id) != keep)
                .map(|(id, e)| (*id, e.last_used))
                .collect();
            by_age.sort_by_key(|(_, used)| *used);
            for (id, _) in by_age {
                if !over(inner) {
                    break;
                }
                if let Some(entry) = inner.entries.remove(&id) {
                    inner.param_bytes -= entry.param_bytes;
                }
            }
        }
        let dropped = before - inner.entries.len();
        if dropped > 0 {
            tracing::info!(target: "socialcx::server", dropped, "prepared statements dropped (idle or over capacity)");
        }
    }
}
