//! The Flight SQL service: arrow-flight's [`FlightSqlService`] over the [`Engine`].
//!
//! * `GetFlightInfo` plans (logical and physical) without executing, and announces the wire
//!   schema of the physical plan; `DoGet` plans again and streams batches as DataFusion
//!   produces them, in exactly that schema.
//! * Prepared statements live on the server ([`super::handle::Statements`]): a handle is an
//!   opaque id, and binding parameters updates the statement it names. Tickets carry SQL only.
//! * Queries execute on the engine's own pool ([`crate::engine::exec`]), never on the
//!   runtime that serves the network, and stop at the deadline whether or not the client
//!   reads.
//! * Metadata comes from the Engine's live catalog (see [`super::metadata`]).
//! * Read-only by default: DDL, DML and `SET`-like statements are refused unless the server
//!   was started with writes allowed.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::sql::metadata::{SqlInfoData, XdbcTypeInfoData};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetCrossReference,
    CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys, CommandGetPrimaryKeys,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandGetXdbcTypeInfo,
    CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket, flight_service_server::FlightService,
};
use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::common::ParamValues;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use futures::{Stream, TryStreamExt, stream};
use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::auth::{Authenticator, Principal};
use super::handle::{Statement, Statements, sql_ticket, ticket_sql};
use super::metadata;
use super::params;
use super::partitions::{
    PartitionedQueries, PlannedQuery, independent_partitions, parse_ticket, wants_partitions,
};
use super::placeholders::{
    bind_table_arguments, number_question_marks, param_values, parameter_schema,
    table_argument_placeholders,
};
use super::query::{QueryLog, QueryStream};
use super::sessions::ClientSessions;
use super::status::{explained, explained_error, from_datafusion, from_error};
use super::wire::wire_schema;
use crate::Engine;
use crate::engine::{exec, files};
use datafusion::prelude::SessionContext;

type DoGetStream = <SqlService as FlightService>::DoGetStream;

/// The Flight SQL service (wrap it in `FlightServiceServer`; see [`super::Server`]).
pub struct SqlService {
    engine: Engine,
    auth: Authenticator,
    options: SQLOptions,
    allow_writes: bool,
    allow_file_access: bool,
    timeout: Duration,
    permits: Arc<Semaphore>,
    max_queries: usize,
    sql_info: SqlInfoData,
    xdbc: XdbcTypeInfoData,
    statements: Statements,
    /// Queries planned with one endpoint per partition, waiting for their tickets.
    partitioned: Arc<PartitionedQueries>,
    /// The session clients plan in: the engine's, or with `--allow-file-access` off a copy
    /// whose file functions read the lake's files only.
    base: SessionContext,
    /// Per-client sessions when writes are allowed (copies of `base`; else every client plans
    /// in `base`).
    sessions: Option<ClientSessions>,
}

impl SqlService {
    /// A service over `engine`.
    pub fn new(engine: Engine, auth: Authenticator, config: &super::ServerConfig) -> SqlService {
        let (allow_writes, timeout, max_queries) = (
            config.allow_writes,
            config.query_timeout,
            config.max_concurrent_queries,
        );
        let options = SQLOptions::new()
            .with_allow_ddl(allow_writes)
            .with_allow_dml(allow_writes)
            .with_allow_statements(allow_writes);
        let timeout_secs = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let sql_info = metadata::sql_info(engine.context(), !allow_writes, timeout_secs);
        let base = if config.allow_file_access {
            engine.context().clone()
        } else {
            files::lake_files_only(engine.context())
        };
        let sessions = allow_writes.then(|| ClientSessions::new(base.clone()));
        SqlService {
            engine,
            auth,
            options,
            allow_writes,
            allow_file_access: config.allow_file_access,
            timeout,
            permits: Arc::new(Semaphore::new(max_queries.max(1))),
            max_queries: max_queries.max(1),
            sql_info,
            xdbc: metadata::xdbc_type_info(),
            statements: Statements::new(config.statements),
            partitioned: Arc::default(),
            base,
            sessions,
        }
    }

    /// The prepared statements this service holds.
    pub fn statements(&self) -> &Statements {
        &self.statements
    }

    /// The deadline of a request that arrived at `started` (none when too far to count).
    fn deadline(&self, started: Instant) -> Option<(Instant, Duration)> {
        started
            .checked_add(self.timeout)
            .map(|at| (at, self.timeout))
    }

    /// Run a DDL or DML plan on the engine's pool, within the request's deadline.
    async fn run_command(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
        started: Instant,
    ) -> Result<Vec<RecordBatch>, Status> {
        let ctx = ctx.clone();
        let work = self
            .engine
            .run_in_pool(async move { Ok(ctx.execute_logical_plan(plan).await?.collect().await?) });
        let wait = self.timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(wait, work).await {
            Ok(result) => result.map_err(from_error),
            Err(_) => Err(super::query::timed_out(self.timeout)),
        }
    }

    /// The session `request` runs in: the client's own when writes are allowed (so its
    /// `SET`, views and drops stay its own), else the one all clients share.
    async fn session<T>(&self, request: &Request<T>) -> Result<SessionContext, Status> {
        match &self.sessions {
            Some(sessions) => sessions
                .get(&(Self::user(request), request.remote_addr()))
                .await
                .map_err(from_datafusion),
            None => Ok(self.base.clone()),
        }
    }

    fn user<T>(request: &Request<T>) -> String {
        request
            .extensions()
            .get::<Principal>()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| "anonymous".into())
    }

    /// Parse, number `?` placeholders, plan, check permissions and bind parameters. A
    /// statement executed without values for its placeholders is refused.
    async fn plan(&self, ctx: &SessionContext, handle: &Statement) -> Result<LogicalPlan, Status> {
        let (plan, unbound) = self.plan_with_parameters(ctx, handle).await?;
        if handle.params.is_none() && !unbound.fields().is_empty() {
            let names: Vec<&str> = unbound.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Status::invalid_argument(format!(
                "the statement has parameters ({}): prepare it and bind their values",
                names.join(", ")
            )));
        }
        Ok(plan)
    }

    /// [`Self::plan`], also returning the parameters still to bind (none once bound).
    async fn plan_with_parameters(
        &self,
        ctx: &SessionContext,
        handle: &Statement,
    ) -> Result<(LogicalPlan, Schema), Status> {
        let mut statements = self
            .engine
            .parse(&handle.sql)
            .map_err(|e| explained_error(&self.engine, &handle.sql, e))?;
        if statements.len() != 1 {
            return Err(Status::invalid_argument(format!(
                "send one SQL statement per request ({} given)",
                statements.len()
            )));
        }
        let mut statement = statements.pop().expect("one statement");
        number_question_marks(&mut statement);
        let values = handle.params.as_ref().map(param_values).transpose()?;
        if let Some(values) = &values {
            bind_table_arguments(&mut statement, values)?;
        }
        let table_arguments = table_argument_placeholders(&mut statement);
        let state = ctx.state();
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(|e| explained(&self.engine, &handle.sql, e))?;
        self.options.verify_plan(&plan).map_err(|e| {
            Status::permission_denied(format!(
                "{}: this server is read-only (start it with --allow-writes to permit DDL, \
                 DML and SET)",
                e.strip_backtrace()
            ))
        })?;
        if !self.allow_file_access {
            refuse_file_access(&plan)?;
        }
        match values {
            None => {
                let parameters = parameter_schema(&plan, &table_arguments)?;
                Ok((plan, parameters))
            }
            Some(values) => {
                let plan = plan
                    .with_param_values(ParamValues::from(values))
                    .map_err(from_datafusion)?;
                Ok((plan, Schema::empty()))
            }
        }
    }

    /// The physical plan of `plan` (planned from the client's `sql`: errors in plain words).
    async fn physical(
        &self,
        ctx: &SessionContext,
        plan: &LogicalPlan,
        sql: &str,
    ) -> Result<Arc<dyn ExecutionPlan>, Status> {
        let physical = ctx
            .state()
            .create_physical_plan(plan)
            .await
            .map_err(|e| explained(&self.engine, sql, e))?;
        // On a cluster, the plan runs there (one partition streamed back).
        Ok(self.engine.dispatched(physical))
    }

    /// Plan `handle` and answer with `ticket` for it (DDL, when allowed, runs here).
    async fn flight_info(
        &self,
        ctx: &SessionContext,
        handle: Statement,
        ticket: Ticket,
        descriptor: FlightDescriptor,
        user: String,
        split: bool,
    ) -> Result<Response<FlightInfo>, Status> {
        let log = QueryLog {
            user: user.clone(),
            sql: handle.sql.to_string(),
            started: Instant::now(),
        };
        let result = async {
            let plan = self.plan(ctx, &handle).await?;
            if is_command(&plan) {
                self.run_command(ctx, plan, log.started).await?;
                return FlightInfo::new()
                    .try_with_schema(&Schema::empty())
                    .map(|info| info.with_descriptor(descriptor.clone()))
                    .map_err(|e| Status::internal(e.to_string()));
            }
            let physical = self.physical(ctx, &plan, &handle.sql).await?;
            let schema = wire_schema(&physical.schema());
            let partitions = if split {
                independent_partitions(&physical)
            } else {
                1
            };
            let endpoints = if partitions > 1 {
                let permit = self.permit(log.started).await?;
                let query = PlannedQuery {
                    sql: handle.sql.to_string(),
                    plan: physical,
                    task_ctx: ctx.task_ctx(),
                    started: log.started,
                    permit,
                };
                let (id, tickets) = self.partitioned.register(user.clone(), query, partitions);
                // Tickets not presented by the deadline lapse, and with them the slot.
                let (queries, timeout) = (Arc::clone(&self.partitioned), self.timeout);
                tokio::spawn(async move {
                    tokio::time::sleep(timeout).await;
                    queries.expire(&id);
                });
                tickets
                    .into_iter()
                    .map(|handle| {
                        let ticket = TicketStatementQuery {
                            statement_handle: handle,
                        };
                        FlightEndpoint::new()
                            .with_ticket(Ticket::new(ticket.as_any().encode_to_vec()))
                    })
                    .collect()
            } else {
                vec![FlightEndpoint::new().with_ticket(ticket)]
            };
            let ordered = endpoints.len() == 1;
            let mut info = FlightInfo::new()
                .try_with_schema(&schema)
                .map_err(|e| Status::internal(e.to_string()))?
                .with_descriptor(descriptor.clone())
                .with_ordered(ordered);
            for endpoint in endpoints {
                info = info.with_endpoint(endpoint);
            }
            Ok(info)
        }
        .await;
        match result {
            Ok(info) => Ok(Response::new(info)),
            Err(status) => {
                log.failed(&status);
                Err(status)
            }
        }
    }

    /// Wait for a free query slot, at most until the query's deadline.
    async fn permit(&self, started: Instant) -> Result<OwnedSemaphorePermit, Status> {
        let wait = self.timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(Status::unavailable("the server is shutting down")),
            Err(_) => Err(Status::resource_exhausted(format!(
                "the server is busy: {} queries running (--max-concurrent-queries), none \
                 finished within the query timeout",
                self.max_queries
            ))),
        }
    }

    /// Run `handle` and stream its batches. The query executes on the engine's pool and
    /// holds its concurrency slot until its work ends (at the deadline at the latest).
    async fn stream(
        &self,
        ctx: &SessionContext,
        handle: Statement,
        user: String,
    ) -> Result<Response<DoGetStream>, Status> {
        let log = QueryLog {
            user,
            sql: handle.sql.to_string(),
            started: Instant::now(),
        };
        let started = log.started;
        let result = async {
            let permit = self.permit(started).await?;
            let plan = self.plan(ctx, &handle).await?;
            let physical = self.physical(ctx, &plan, &handle.sql).await?;
            let schema = wire_schema(&physical.schema());
            let running = exec::run(
                self.engine.pool(),
                physical,
                ctx.task_ctx(),
                self.deadline(started),
                permit,
            );
            Ok::<_, Status>((running, schema))
        }
        .await;
        let (running, schema) = match result {
            Ok(ok) => ok,
            Err(status) => {
                log.failed(&status);
                return Err(status);
            }
        };
        let query = QueryStream::new(running, Arc::clone(&schema), log);
        Ok(encode(schema, query))
    }

    /// Stream partition `partition` of the partitioned query `id` (see [`super::partitions`]).
    fn stream_partition(
        &self,
        id: &str,
        partition: usize,
        user: String,
    ) -> Result<Response<DoGetStream>, Status> {
        let query = self.partitioned.claim(id, partition, &user)?;
        let log = QueryLog {
            user,
            sql: format!("{} -- partition {partition}", query.sql),
            started: Instant::now(),
        };
        let schema = wire_schema(&query.plan.schema());
        let running = exec::run_partition(
            self.engine.pool(),
            Arc::clone(&query.plan),
            partition,
            Arc::clone(&query.task_ctx),
            self.deadline(query.started),
            // The slot is the query's: it is given back when the last partition's work ends.
            query,
        );
        let query = QueryStream::new(running, Arc::clone(&schema), log);
        Ok(encode(schema, query))
    }

    /// Run a DDL or DML statement and count the rows it changed.
    async fn update(
        &self,
        ctx: &SessionContext,
        handle: Statement,
        user: String,
    ) -> Result<i64, Status> {
        let log = QueryLog {
            user,
            sql: handle.sql.to_string(),
            started: Instant::now(),
        };
        let result = async {
            if !self.allow_writes {
                // Plan anyway: a bad statement deserves its own error message.
                self.plan(ctx, &handle).await?;
                return Err(Status::permission_denied(
                    "this server is read-only (start it with --allow-writes)",
                ));
            }
            let _permit = self.permit(log.started).await?;
            let plan = self.plan(ctx, &handle).await?;
            let batches = self.run_command(ctx, plan, log.started).await?;
            Ok(changed_rows(&batches))
        }
        .await;
        match result {
            Ok(n) => {
                tracing::info!(target: "socialcx::server::query", user = %log.user,
                    sql = %log.sql, duration_ms = log.started.elapsed().as_millis() as u64,
                    rows = n, outcome = %"ok", "update");
                Ok(n)
            }
            Err(status) => {
                log.failed(&status);
                Err(status)
            }
        }
    }

    /// The metadata answer `batch` as a one-batch stream.
    fn one_batch(batch: RecordBatch) -> Response<DoGetStream> {
        let schema = batch.schema();
        encode(schema, stream::once(async { Ok(batch) }))
    }

    fn metadata_info<C: ProstMessageExt>(
        command: C,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let endpoint =
            FlightEndpoint::new().with_ticket(Ticket::new(command.as_any().encode_to_vec()));
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(endpoint)
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }
}

/// Encode record batches as Flight data (dictionaries hydrated, messages split at ~2 MiB).
fn encode<S>(schema: SchemaRef, batches: S) -> Response<DoGetStream>
where
    S: Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
{
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(Status::from);
    Response::new(Box::pin(stream))
}

/// Refuse statements that reach files outside the lake: `CREATE EXTERNAL TABLE` (reads any
/// path or URL the server can) and `COPY ... TO` (writes one).
fn refuse_file_access(plan: &LogicalPlan) -> Result<(), Status> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::DdlStatement;
    let mut found = None;
    plan.apply(|node| {
        found = match node {
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_)) => Some("CREATE EXTERNAL TABLE"),
            LogicalPlan::Copy(_) => Some("COPY ... TO"),
            _ => None,
        };
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })
    .map_err(from_datafusion)?;
    match found {
        Some(what) => Err(Status::permission_denied(format!(
            "{what} reaches files on the server's host: refused (start the server with \
             --allow-file-access to permit it)"
        ))),
        None => Ok(()),
    }
}

/// DDL and session statements run when planned; queries and DML run when streamed.
fn is_command(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_))
}

/// The number of rows a DML statement reports (DDL reports none).
fn changed_rows(batches: &[RecordBatch]) -> i64 {
    batches
        .iter()
        .filter(|b| b.num_columns() == 1 && b.schema().field(0).name() == "count")
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>().cloned())
        .map(|counts| counts.iter().flatten().sum::<u64>() as i64)
        .sum()
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(message.0)
}

/// The ticket of a prepared statement's query: the command itself, naming its handle.
fn prepared_ticket(handle: &bytes::Bytes) -> Ticket {
    let command = CommandPreparedStatementQuery {
        prepared_statement_handle: handle.clone(),
    };
    Ticket::new(command.as_any().encode_to_vec())
}

/// Parameters bound with `DoPut` must be one row of plain values.
fn check_parameters(params: &RecordBatch) -> Result<(), Status> {
    if let Some(field) = params
        .schema()
        .fields()
        .iter()
        .find(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        return Err(Status::invalid_argument(format!(
            "parameter {} is dictionary-encoded: send plain values",
            field.name()
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl FlightSqlService for SqlService {
    type FlightService = SqlService;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        // The interceptor has already checked the credentials.
        let principal = request
            .extensions()
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(|| Principal("anonymous".into()));
        let token = if self.auth.is_enabled() {
            self.auth.issue_token(&principal)
        } else {
            String::new()
        };
        tracing::info!(target: "socialcx::server", user = %principal.0, "handshake");
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> =
            Response::new(Box::pin(stream::iter(vec![Ok(reply)])));
        if !token.is_empty() {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| Status::internal("token is not a valid header"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = Self::user(&request);
        let ctx = self.session(&request).await?;
        let ticket = TicketStatementQuery {
            statement_handle: sql_ticket(&query.query),
        };
        let ticket = Ticket::new(ticket.as_any().encode_to_vec());
        let split = wants_partitions(request.metadata());
        self.flight_info(
            &ctx,
            Statement::new(query.query),
            ticket,
            request.into_inner(),
            user,
            split,
        )
        .await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = Self::user(&request);
        let statement = self
            .statements
            .get(&user, &query.prepared_statement_handle)?;
        let ticket = prepared_ticket(&query.prepared_statement_handle);
        let ctx = self.session(&request).await?;
        let split = wants_partitions(request.metadata());
        self.flight_info(&ctx, statement, ticket, request.into_inner(), user, split)
            .await
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&self.sql_info).schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::metadata_info(
            query,
            &metadata::primary_keys_schema(),
            request.into_inner(),
        )
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::metadata_info(
            query,
            &metadata::foreign_keys_schema(),
            request.into_inner(),
        )
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::metadata_info(
            query,
            &metadata::foreign_keys_schema(),
            request.into_inner(),
        )
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Self::metadata_info(
            query,
            &metadata::foreign_keys_schema(),
            request.into_inner(),
        )
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder(&self.xdbc).schema();
        Self::metadata_info(query, &schema, request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        if let Some((id, partition)) = parse_ticket(&ticket.statement_handle) {
            return self.stream_partition(&id, partition, Self::user(&request));
        }
        let sql = ticket_sql(&ticket.statement_handle)?;
        let ctx = self.session(&request).await?;
        self.stream(&ctx, Statement::new(sql), Self::user(&request))
            .await
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let user = Self::user(&request);
        let statement = self
            .statements
            .get(&user, &query.prepared_statement_handle)?;
        let ctx = self.session(&request).await?;
        self.stream(&ctx, statement, user).await
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let ctx = self.session(&request).await?;
        let batch = metadata::catalogs(&ctx, query.into_builder());
        Ok(Self::one_batch(batch))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let ctx = self.session(&request).await?;
        let batch = metadata::db_schemas(&ctx, query.into_builder())
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        // Tables a job created since the server started are listed too.
        self.engine.refresh().await.map_err(from_error)?;
        let ctx = self.session(&request).await?;
        let batch = metadata::tables(&ctx, query.into_builder())
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for kind in metadata::TABLE_TYPES {
            builder.append(kind);
        }
        let batch = builder
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let batch = query
            .into_builder(&self.sql_info)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Self::one_batch(metadata::empty(
            metadata::primary_keys_schema(),
        )))
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Self::one_batch(metadata::empty(
            metadata::foreign_keys_schema(),
        )))
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Self::one_batch(metadata::empty(
            metadata::foreign_keys_schema(),
        )))
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        Ok(Self::one_batch(metadata::empty(
            metadata::foreign_keys_schema(),
        )))
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let batch = query
            .into_builder(&self.xdbc)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_put_statement_update(
        &self,
        ticket: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = Self::user(&request);
        let ctx = self.session(&request).await?;
        self.update(&ctx, Statement::new(ticket.query), user).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let user = Self::user(&request);
        let handle = query.prepared_statement_handle;
        self.statements.get(&user, &handle)?;
        if let Some(params) = params::read(request.into_inner()).await? {
            check_parameters(&params)?;
            self.statements.bind(&user, &handle, params)?;
        }
        // The same handle: clients that keep the original one see the values too.
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = Self::user(&request);
        let ctx = self.session(&request).await?;
        let mut statement = self
            .statements
            .get(&user, &query.prepared_statement_handle)?;
        if let Some(params) = params::read(request.into_inner()).await? {
            check_parameters(&params)?;
            statement.params = Some(params);
        }
        self.update(&ctx, statement, user).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let handle = Statement::new(query.query);
        let user = Self::user(&request);
        let ctx = self.session(&request).await?;
        let log = QueryLog {
            user: user.clone(),
            sql: handle.sql.to_string(),
            started: Instant::now(),
        };
        let result = async {
            let (plan, parameters) = self.plan_with_parameters(&ctx, &handle).await?;
            let dataset = if is_command(&plan) {
                Schema::empty()
            } else if parameters.fields().is_empty() {
                wire_schema(&self.physical(&ctx, &plan, &handle.sql).await?.schema())
                    .as_ref()
                    .clone()
            } else {
                // Placeholders cannot be planned physically: the logical schema is the
                // best description until values are bound.
                wire_schema(plan.schema().as_arrow()).as_ref().clone()
            };
            Ok(ActionCreatePreparedStatementResult {
                prepared_statement_handle: self.statements.create(&user, Arc::clone(&handle.sql)),
                dataset_schema: schema_bytes(&dataset)?,
                parameter_schema: schema_bytes(&parameters)?,
            })
        }
        .await;
        if let Err(status) = &result {
            log.failed(status);
        }
        result
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let user = Self::user(&request);
        self.statements
            .close(&user, &query.prepared_statement_handle);
        Ok(())
    }

    async fn get_flight_info_fallback(
        &self,
        command: arrow_flight::sql::Command,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Err(Status::unimplemented(format!(
            "{} is not supported by this server",
            command.type_url()
        )))
    }

    async fn do_get_fallback(
        &self,
        _request: Request<Ticket>,
        message: Any,
    ) -> Result<Response<DoGetStream>, Status> {
        Err(Status::unimplemented(format!(
            "{} is not supported by this server",
            message.type_url
        )))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
