//! Per-client sessions, for a server that allows writes: one client's `SET`, `CREATE VIEW`
//! or `DROP TABLE` changes that client's session only, never another's or the engine's.
//!
//! A client is a user on one connection (the peer address): BI tools hold one connection
//! per user session. Its session starts as a copy of the engine's: the same functions,
//! settings and lake tables, in catalogs and schemas of its own (so names it creates or
//! drops are its own), sharing the read-only schemas that list the lake's metrics tables.
//! Sessions idle for an hour, and the least recently used beyond 1,000, are dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider, SchemaProvider,
};
use datafusion::error::Result as DfResult;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

/// Who a session belongs to: a user on a connection.
pub type ClientKey = (String, Option<SocketAddr>);

/// Sessions kept at once, and how long an unused one lives.
const CAPACITY: usize = 1_000;
const IDLE: Duration = Duration::from_secs(3600);

/// The sessions of the clients of one server.
///
/// ```no_run
/// # async fn f(engine: socialcx::Engine) -> datafusion::error::Result<()> {
/// use socialcx::server::sessions::ClientSessions;
/// let sessions = ClientSessions::new(engine.context().clone());
/// let mine = sessions.get(&("alice".into(), None)).await?;
/// mine.sql("CREATE VIEW v AS SELECT 1").await?; // not visible to anyone else
/// # Ok(()) }
/// ```
pub struct ClientSessions {
    base: SessionContext,
    sessions: Mutex<HashMap<ClientKey, (SessionContext, Instant)>>,
}

impl std::fmt::Debug for ClientSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSessions").finish_non_exhaustive()
    }
}

impl ClientSessions {
    /// Sessions that start as copies of `base`.
    pub fn new(base: SessionContext) -> ClientSessions {
        ClientSessions {
            base,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientKey, (SessionContext, Instant)>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session of `client`, made on its first call.
    pub async fn get(&self, client: &ClientKey) -> DfResult<SessionContext> {
        let now = Instant::now();
        if let Some((ctx, used)) = self.lock().get_mut(client) {
            *used = now;
            return Ok(ctx.clone());
        }
        let ctx = private_copy(&self.base).await?;
        let mut sessions = self.lock();
        sessions.retain(|_, (_, used)| now.duration_since(*used) <= IDLE);
        if sessions.len() >= CAPACITY
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        let ctx = sessions
            .entry(client.clone())
            .or_insert((ctx, now))
            .0
            .clone();
        Ok(ctx)
    }
}

/// A session like `base` whose catalogs and in-memory schemas are its own copies.
async fn private_copy(base: &SessionContext) -> DfResult<SessionContext> {
    let state = base.state();
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    for catalog_name in state.catalog_list().catalog_names() {
        let Some(catalog) = state.catalog_list().catalog(&catalog_name) else {
            continue;
        };
        let copy = Arc::new(MemoryCatalogProvider::new());
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            let schema: Arc<dyn SchemaProvider> =
                if schema.downcast_ref::<MemorySchemaProvider>().is_some() {
                    let own = Arc::new(MemorySchemaProvider::new());
                    for table in schema.table_names() {
                        if let Some(provider) = schema.table(&table).await? {
                            own.register_table(table, provider)?;
                        }
                    }
                    own
                } else {
                    schema // listed from the lake, read-only: shared
                };
            copy.register_schema(&schema_name, schema)?;
        }
        catalogs.register_catalog(catalog_name, copy);
    }
    let state = SessionStateBuilder::new_from_existing(state)
        .with_catalog_list(catalogs)
        .build();
    Ok(SessionContext::new_with_state(state))
}
