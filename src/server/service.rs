//! The Flight SQL service: arrow-flight's [`FlightSqlService`] over the [`Engine`].
//!
//! * `GetFlightInfo` plans (logical and physical) without executing, and announces the wire
//!   schema of the physical plan; `DoGet` plans again and streams batches as DataFusion
//!   produces them, in exactly that schema.
//! * Prepared statements are stateless: the handle carries the SQL and the bound parameters.
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
    IpcMessage, SchemaAsIpc, Ticket, decode::FlightRecordBatchStream,
    flight_service_server::FlightService,
};
use datafusion::arrow::array::{Array, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::common::ParamValues;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use futures::{Stream, TryStreamExt, stream};
use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::auth::{Authenticator, Principal};
use super::handle::StatementHandle;
use super::metadata;
use super::placeholders::{
    bind_table_arguments, number_question_marks, param_values, parameter_schema,
    table_argument_placeholders,
};
use super::query::{QueryLog, QueryStream};
use super::status::{from_datafusion, from_error};
use super::wire::wire_schema;
use crate::Engine;

type DoGetStream = <SqlService as FlightService>::DoGetStream;

/// The Flight SQL service (wrap it in `FlightServiceServer`; see [`super::Server`]).
pub struct SqlService {
    engine: Engine,
    auth: Authenticator,
    options: SQLOptions,
    allow_writes: bool,
    timeout: Duration,
    permits: Arc<Semaphore>,
    max_queries: usize,
    sql_info: SqlInfoData,
    xdbc: XdbcTypeInfoData,
}

impl SqlService {
    /// A service over `engine`.
    pub fn new(
        engine: Engine,
        auth: Authenticator,
        allow_writes: bool,
        timeout: Duration,
        max_queries: usize,
    ) -> SqlService {
        let options = SQLOptions::new()
            .with_allow_ddl(allow_writes)
            .with_allow_dml(allow_writes)
            .with_allow_statements(allow_writes);
        let timeout_secs = i32::try_from(timeout.as_secs()).unwrap_or(i32::MAX);
        let sql_info = metadata::sql_info(engine.context(), !allow_writes, timeout_secs);
        SqlService {
            engine,
            auth,
            options,
            allow_writes,
            timeout,
            permits: Arc::new(Semaphore::new(max_queries.max(1))),
            max_queries: max_queries.max(1),
            sql_info,
            xdbc: metadata::xdbc_type_info(),
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
    async fn plan(&self, handle: &StatementHandle) -> Result<LogicalPlan, Status> {
        let (plan, unbound) = self.plan_with_parameters(handle).await?;
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
        handle: &StatementHandle,
    ) -> Result<(LogicalPlan, Schema), Status> {
        let mut statements = self.engine.parse(&handle.sql).map_err(from_error)?;
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
        let state = self.engine.context().state();
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(from_datafusion)?;
        self.options.verify_plan(&plan).map_err(|e| {
            Status::permission_denied(format!(
                "{}: this server is read-only (start it with --allow-writes to permit DDL, \
                 DML and SET)",
                e.strip_backtrace()
            ))
        })?;
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

    async fn physical(&self, plan: &LogicalPlan) -> Result<Arc<dyn ExecutionPlan>, Status> {
        self.engine
            .context()
            .state()
            .create_physical_plan(plan)
            .await
            .map_err(from_datafusion)
    }

    /// Plan `handle` and answer with a ticket for it (DDL, when allowed, runs here).
    async fn flight_info(
        &self,
        handle: StatementHandle,
        descriptor: FlightDescriptor,
        user: String,
    ) -> Result<Response<FlightInfo>, Status> {
        let log = QueryLog {
            user,
            sql: handle.sql.clone(),
            started: Instant::now(),
        };
        let result = async {
            let plan = self.plan(&handle).await?;
            if is_command(&plan) {
                self.engine
                    .context()
                    .execute_logical_plan(plan)
                    .await
                    .map_err(from_datafusion)?
                    .collect()
                    .await
                    .map_err(from_datafusion)?;
                return FlightInfo::new()
                    .try_with_schema(&Schema::empty())
                    .map(|info| info.with_descriptor(descriptor.clone()))
                    .map_err(|e| Status::internal(e.to_string()));
            }
            let schema = wire_schema(&self.physical(&plan).await?.schema());
            let ticket = TicketStatementQuery {
                statement_handle: handle.encode().map_err(Status::invalid_argument)?,
            };
            let endpoint =
                FlightEndpoint::new().with_ticket(Ticket::new(ticket.as_any().encode_to_vec()));
            FlightInfo::new()
                .try_with_schema(&schema)
                .map(|info| {
                    info.with_endpoint(endpoint)
                        .with_descriptor(descriptor.clone())
                        .with_ordered(true)
                })
                .map_err(|e| Status::internal(e.to_string()))
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

    /// Run `handle` and stream its batches.
    async fn stream(
        &self,
        handle: StatementHandle,
        user: String,
    ) -> Result<Response<DoGetStream>, Status> {
        let log = QueryLog {
            user,
            sql: handle.sql.clone(),
            started: Instant::now(),
        };
        let started = log.started;
        let result = async {
            let permit = self.permit(started).await?;
            let plan = self.plan(&handle).await?;
            let physical = self.physical(&plan).await?;
            let schema = wire_schema(&physical.schema());
            let task = self.engine.context().task_ctx();
            let batches = execute_stream(physical, task).map_err(from_datafusion)?;
            Ok::<_, Status>((batches, schema, permit))
        }
        .await;
        let (batches, schema, permit) = match result {
            Ok(ok) => ok,
            Err(status) => {
                log.failed(&status);
                return Err(status);
            }
        };
        let query = QueryStream::new(
            batches,
            Arc::clone(&schema),
            self.timeout,
            Some(permit),
            log,
        );
        Ok(encode(schema, query))
    }

    /// Run a DDL or DML statement and count the rows it changed.
    async fn update(&self, handle: StatementHandle, user: String) -> Result<i64, Status> {
        let log = QueryLog {
            user,
            sql: handle.sql.clone(),
            started: Instant::now(),
        };
        let result = async {
            if !self.allow_writes {
                // Plan anyway: a bad statement deserves its own error message.
                self.plan(&handle).await?;
                return Err(Status::permission_denied(
                    "this server is read-only (start it with --allow-writes)",
                ));
            }
            let _permit = self.permit(log.started).await?;
            let plan = self.plan(&handle).await?;
            let batches = self
                .engine
                .context()
                .execute_logical_plan(plan)
                .await
                .map_err(from_datafusion)?
                .collect()
                .await
                .map_err(from_datafusion)?;
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

fn decode_handle(bytes: &[u8]) -> Result<StatementHandle, Status> {
    StatementHandle::decode(bytes).map_err(Status::invalid_argument)
}

/// The record batches a client sent with `DoPut` (parameters), concatenated.
async fn read_batches(
    request: Request<PeekableFlightDataStream>,
) -> Result<Option<RecordBatch>, Status> {
    let stream = FlightRecordBatchStream::new_from_flight_data(
        request
            .into_inner()
            .map_err(|status| FlightError::Tonic(Box::new(status))),
    );
    let batches: Vec<RecordBatch> = stream.try_collect().await.map_err(Status::from)?;
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let batch = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)
        .map_err(|e| Status::invalid_argument(format!("unreadable parameters: {e}")))?;
    Ok(Some(batch))
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
        self.flight_info(
            StatementHandle::new(query.query),
            request.into_inner(),
            user,
        )
        .await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = Self::user(&request);
        let handle = decode_handle(&query.prepared_statement_handle)?;
        self.flight_info(handle, request.into_inner(), user).await
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
        let handle = decode_handle(&ticket.statement_handle)?;
        self.stream(handle, Self::user(&request)).await
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let handle = decode_handle(&query.prepared_statement_handle)?;
        self.stream(handle, Self::user(&request)).await
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let batch = metadata::catalogs(self.engine.context(), query.into_builder());
        Ok(Self::one_batch(batch))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let batch = metadata::db_schemas(self.engine.context(), query.into_builder())
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Self::one_batch(batch))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        // Tables a job created since the server started are listed too.
        self.engine.refresh().await.map_err(from_error)?;
        let batch = metadata::tables(self.engine.context(), query.into_builder())
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
        self.update(StatementHandle::new(ticket.query), user).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let handle = decode_handle(&query.prepared_statement_handle)?;
        let handle = match read_batches(request).await? {
            Some(params) => handle.with_params(params),
            None => handle,
        };
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle.encode().map_err(Status::invalid_argument)?),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = Self::user(&request);
        let handle = decode_handle(&query.prepared_statement_handle)?;
        let handle = match read_batches(request).await? {
            Some(params) => handle.with_params(params),
            None => handle,
        };
        self.update(handle, user).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let handle = StatementHandle::new(query.query);
        let log = QueryLog {
            user: Self::user(&request),
            sql: handle.sql.clone(),
            started: Instant::now(),
        };
        let result = async {
            let (plan, parameters) = self.plan_with_parameters(&handle).await?;
            let dataset = if is_command(&plan) {
                Schema::empty()
            } else if parameters.fields().is_empty() {
                wire_schema(&self.physical(&plan).await?.schema())
                    .as_ref()
                    .clone()
            } else {
                // Placeholders cannot be planned physically: the logical schema is the
                // best description until values are bound.
                wire_schema(plan.schema().as_arrow()).as_ref().clone()
            };
            Ok(ActionCreatePreparedStatementResult {
                prepared_statement_handle: handle.encode().map_err(Status::invalid_argument)?,
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
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        Ok(()) // stateless handles: nothing to free
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
