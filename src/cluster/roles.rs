//! The cluster's server roles, started from this binary: the scheduler and the executors.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::RuntimeProducer;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
use ballista_scheduler::scheduler_process::start_server;
use ballista_scheduler::scheduler_server::SessionBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use url::Url;

use super::codec::ClusterCodec;
use crate::engine::{Engine, EngineConfig};
use crate::lake::OBJECT_STORE_URL;
use crate::lake::location::Access;
use crate::{Error, Result};

/// Where and how the scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// `HOST:PORT` it listens on; port 0: a free one.
    pub addr: String,
    /// Seconds without a heartbeat after which an executor is lost: its tasks run again
    /// on the others.
    pub executor_timeout: u64,
}

/// Where and how an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler, `df://HOST:PORT`.
    pub scheduler: String,
    /// `HOST:PORT` its Flight service (results and shuffles) listens on; port 0: a free one.
    pub addr: String,
    /// Tasks it runs at once (0: one per core).
    pub slots: usize,
    /// Where its shuffle files go (default: a directory of its own under the system's
    /// temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Seconds between its heartbeats (shorter than the scheduler's executor timeout).
    pub heartbeat: u64,
}

/// Run a scheduler on `options.addr` (`HOST:PORT`, port 0 for a free one) until the process is
/// stopped. It decodes plans with the functions of `config` (its lexicon and taxonomy),
/// and hands tasks to executors in turn, not filling one first. `ready` is called with
/// the cluster URL (`df://HOST:PORT`) clients and executors use.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// use socialcx::cluster::roles::{SchedulerOptions, run_scheduler};
/// let config = socialcx::EngineConfig::new("memory://");
/// let options = SchedulerOptions { addr: "127.0.0.1:50050".into(), executor_timeout: 45 };
/// run_scheduler(&options, &config, &|url| println!("{url}")).await?;
/// # Ok(()) }
/// ```
pub async fn run_scheduler(
    options: &SchedulerOptions,
    config: &EngineConfig,
    ready: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let (host, port) = super::resolve_addr(&options.addr)?;
    // The functions, from an engine of this configuration over no lake: the scheduler
    // decodes plans (their function calls) but reads no data.
    let mut functions = config.clone();
    functions.lake = "memory://".into();
    functions.extensions.clear();
    functions.dispatch = None;
    let engine = Engine::with_config(functions).await?;
    let state = engine.context().state();
    let scalar: Vec<_> = state.scalar_functions().values().cloned().collect();
    let aggregate: Vec<_> = state.aggregate_functions().values().cloned().collect();
    let window: Vec<_> = state.window_functions().values().cloned().collect();
    let session_builder: SessionBuilder = Arc::new(move |session| {
        // Decoding a scan checks that its store is known; the scheduler never reads it,
        // so an empty store stands in and the scheduler holds no credentials.
        let runtime = RuntimeEnvBuilder::new().build()?;
        let url = Url::parse(OBJECT_STORE_URL).expect("static URL");
        runtime.register_object_store(&url, Arc::new(object_store::memory::InMemory::new()));
        Ok(SessionStateBuilder::new()
            .with_default_features()
            .with_config(session)
            .with_runtime_env(Arc::new(runtime))
            .with_scalar_functions(scalar.clone())
            .with_aggregate_functions(aggregate.clone())
            .with_window_functions(window.clone())
            .build())
    });
    let scheduler = SchedulerConfig {
        bind_host: host.clone(),
        bind_port: port,
        external_host: host.clone(),
        task_distribution: TaskDistributionPolicy::RoundRobin,
        executor_timeout_seconds: options.executor_timeout,
        expire_dead_executor_interval_seconds: (options.executor_timeout / 3).max(1),
        no_executors_grace_period_seconds: options.executor_timeout,
        override_physical_codec: Some(Arc::new(ClusterCodec::new(Arc::clone(engine.scoring())))),
        override_session_builder: Some(session_builder),
        ..SchedulerConfig::default()
    };
    let listen = format!("{host}:{port}")
        .parse()
        .map_err(|e| Error::Usage(format!("the scheduler address {host}:{port}: {e}")))?;
    let cluster = BallistaCluster::new_from_config(&scheduler)
        .await
        .map_err(|e| Error::Usage(format!("the scheduler cannot start: {e}")))?;
    ready(&format!("df://{host}:{port}"));
    start_server(cluster, listen, Arc::new(scheduler))
        .await
        .map_err(|e| Error::Usage(format!("the scheduler on {host}:{port} stopped: {e}")))
}

/// Run an executor of the scheduler `options.scheduler` until the process is stopped
/// (SIGTERM or Ctrl-C). It reads the lake of `config` with its own credentials (the
/// environment), and runs the functions of its own lexicon and taxonomy: a plan made
/// with others is refused. `ready` is called with its Flight address once it is set up.
///
/// ```no_run
/// # async fn f() -> socialcx::Result<()> {
/// use socialcx::cluster::roles::{ExecutorOptions, run_executor};
/// let options = ExecutorOptions { scheduler: "df://127.0.0.1:50050".into(),
///     addr: "127.0.0.1:0".into(), slots: 0, work_dir: None, heartbeat: 15 };
/// run_executor(&options, &socialcx::EngineConfig::new("./lake"), &|addr| println!("{addr}")).await?;
/// # Ok(()) }
/// ```
pub async fn run_executor(
    options: &ExecutorOptions,
    config: &EngineConfig,
    ready: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let (scheduler_host, scheduler_port) = super::parse_url(&options.scheduler)?;
    let (host, port) = super::resolve_addr(&options.addr)?;
    let (_, grpc_port) = super::resolve_addr(&format!("{host}:0"))?;
    let mut own = config.clone();
    own.access = Access::Read;
    own.extensions.clear();
    own.dispatch = None;
    let engine = Engine::with_config(own).await?;
    let work_dir = match &options.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("socialcx-executor-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| Error::io(work_dir.display().to_string(), e))?;
    let store = Arc::clone(engine.lake().store());
    let spill = work_dir.clone();
    let runtime: RuntimeProducer = Arc::new(move |_| {
        let runtime = RuntimeEnvBuilder::new()
            .with_temp_file_path(spill.clone())
            .build()?;
        let url = Url::parse(OBJECT_STORE_URL).expect("static URL");
        runtime.register_object_store(&url, Arc::clone(&store));
        Ok(Arc::new(runtime))
    });
    let slots = if options.slots == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.slots
    };
    let registry = BallistaFunctionRegistry::from(&engine.context().state());
    let codec = ClusterCodec::for_executor(Arc::clone(engine.scoring()));
    // With SOCIALCX_TEST_EXECUTOR_WITHOUT_FUNCTIONS, run as an executor of a build without
    // socialcx's functions: DataFusion's own only (`test-hooks` builds only).
    #[cfg(feature = "test-hooks")]
    let (registry, codec) = match std::env::var_os("SOCIALCX_TEST_EXECUTOR_WITHOUT_FUNCTIONS") {
        Some(_) => (
            BallistaFunctionRegistry::default(),
            codec.without_functions(),
        ),
        None => (registry, codec),
    };
    let executor = ExecutorProcessConfig {
        bind_host: host.clone(),
        external_host: Some(host.clone()),
        port,
        grpc_port,
        scheduler_host,
        scheduler_port,
        // Wait for a scheduler that is still starting (as under Docker Compose).
        scheduler_connect_timeout_seconds: 30,
        vcores: slots,
        executor_heartbeat_interval_seconds: options.heartbeat,
        work_dir: Some(work_dir.display().to_string()),
        override_function_registry: Some(Arc::new(registry)),
        override_runtime_producer: Some(runtime),
        override_physical_codec: Some(Arc::new(codec)),
        ..ExecutorProcessConfig::default()
    };
    ready(&format!("{host}:{port}"));
    let outcome = start_executor_process(Arc::new(executor)).await;
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    outcome.map_err(|e| Error::Usage(format!("the executor on {host}:{port} stopped: {e}")))
}
