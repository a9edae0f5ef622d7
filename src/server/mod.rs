//! The Arrow Flight SQL server: BI tools and notebooks query the Engine with standard
//! drivers (ADBC; flightsql-dbapi behind SQLAlchemy and Superset; the Flight SQL JDBC driver
//! behind DBeaver and Tableau).
//!
//! ```no_run
//! # async fn f() -> socialcx::Result<()> {
//! use socialcx::server::{Server, ServerConfig};
//! let engine = socialcx::open("./lake").await?;
//! let server = Server::bind(engine, ServerConfig::default()).await?;
//! println!("listening on {}", server.local_addr());
//! server.run(socialcx::server::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! * [`service`]: the `FlightSqlService` (statements, prepared statements, metadata);
//! * [`auth`]: basic credentials and bearer tokens, checked on every call;
//! * [`query`]: one streaming query (deadline, concurrency permit, log line);
//! * [`placeholders`]: prepared statements' parameters (also in report calls, `triage($1)`);
//! * [`metadata`], [`handle`], [`wire`], [`status`]: what they are named after.

pub mod auth;
pub mod handle;
pub mod metadata;
pub mod params;
pub mod partitions;
pub mod placeholders;
pub mod query;
pub mod service;
pub mod sessions;
pub mod status;
pub mod wire;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::{Engine, Error, Result};
use auth::{Authenticator, Credentials};
use handle::StatementLimits;
use service::SqlService;

/// The default address: loopback, the port Flight SQL tools suggest.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50051";

/// How the server runs. `Default` is loopback, no credentials, 10-minute queries, 16 at once,
/// read-only, at most 10,000 prepared statements kept for 8 idle hours.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Accepted credentials; empty means no authentication, on loopback only.
    pub credentials: Credentials,
    /// PEM certificate chain and private key, for TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A query's limit, from the request to its last batch (also bounds the wait for a slot).
    pub query_timeout: Duration,
    /// Queries running at once; more wait for a slot.
    pub max_concurrent_queries: usize,
    /// Permit DDL, DML and `SET` statements.
    pub allow_writes: bool,
    /// Permit statements that read or write files of the server's host or of any URL
    /// (`CREATE EXTERNAL TABLE`, `COPY ... TO`, `read_parquet('/local/path')` and the other
    /// file functions on local paths); off even when writes are allowed. The lake's files
    /// (`read_parquet('lake://...')`) are readable either way.
    pub allow_file_access: bool,
    /// How long an issued bearer token stays valid.
    pub token_ttl: Duration,
    /// After a shutdown signal, how long running calls may go on before they are dropped.
    pub shutdown_grace: Duration,
    /// Prepared statements (and the parameters bound to them) kept at once, for how long
    /// unused, and the bytes of bound parameters over all of them.
    pub statements: StatementLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: DEFAULT_ADDR.parse().expect("static address"),
            credentials: Credentials::default(),
            tls: None,
            query_timeout: Duration::from_secs(600),
            max_concurrent_queries: 16,
            allow_writes: false,
            allow_file_access: false,
            token_ttl: Duration::from_secs(12 * 3600),
            shutdown_grace: Duration::from_secs(30),
            statements: StatementLimits::default(),
        }
    }
}

/// What a server configuration file (TOML) may say; every key is optional and the command
/// line wins.
///
/// ```toml
/// addr = "0.0.0.0:50051"
/// user = "analyst"
/// password = "change me"
/// tls_cert = "/etc/socialcx/cert.pem"
/// tls_key = "/etc/socialcx/key.pem"
/// query_timeout = "5m"
/// max_concurrent_queries = 8
/// allow_writes = false
/// allow_file_access = false
/// shutdown_grace = "30s"
/// max_prepared_statements = 10000
/// prepared_statement_idle = "8h"
/// ```
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    /// Listen address.
    pub addr: Option<String>,
    /// Basic-auth user.
    pub user: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// Static bearer token.
    pub token: Option<String>,
    /// TLS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Query timeout (`30s`, `10m`, `1h`).
    pub query_timeout: Option<String>,
    /// Queries at once.
    pub max_concurrent_queries: Option<usize>,
    /// Permit DDL and DML.
    pub allow_writes: Option<bool>,
    /// Permit `CREATE EXTERNAL TABLE`, `COPY ... TO` and the file functions on local paths
    /// (files on the server's host).
    pub allow_file_access: Option<bool>,
    /// Token lifetime (`12h`).
    pub token_ttl: Option<String>,
    /// How long running calls may go on after a shutdown signal (`30s`).
    pub shutdown_grace: Option<String>,
    /// Prepared statements kept at once (the least recently used beyond it are dropped).
    pub max_prepared_statements: Option<usize>,
    /// How long an unused prepared statement, with its bound parameters, is kept (`8h`).
    pub prepared_statement_idle: Option<String>,
}

impl ServerFile {
    /// Read a server configuration file.
    pub fn load(path: &Path) -> Result<ServerFile> {
        crate::config::load_toml(path)
    }

    /// The file's credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials {
            user: self.user.clone(),
            password: self.password.clone(),
            token: self.token.clone(),
        }
    }
}

/// Parse a duration such as `500ms`, `30s`, `10m`, `2h` (a bare number is seconds).
///
/// ```
/// use std::time::Duration;
/// use socialcx::server::parse_duration;
/// assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
/// assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| Error::Usage(format!("bad duration {text:?} (try 30s, 10m, 1h)")))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(Error::Usage(format!(
                "bad duration {text:?} (try 30s, 10m, 1h)"
            )));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| Error::Usage(format!("bad duration {text:?}")))
}

/// A bound, not yet serving, Flight SQL server.
pub struct Server {
    incoming: TcpIncoming,
    local_addr: SocketAddr,
    service: SqlService,
    auth: Authenticator,
    tls: Option<ServerTlsConfig>,
    shutdown_grace: Duration,
}

impl Server {
    /// Check the configuration, load TLS material and bind the address. With no credentials
    /// the server binds loopback only (and says so on stderr).
    pub async fn bind(engine: Engine, config: ServerConfig) -> Result<Server> {
        config.credentials.validate().map_err(Error::Usage)?;
        let mut addr = config.addr;
        if config.credentials.is_empty() {
            if !addr.ip().is_loopback() {
                let loopback = match addr.ip() {
                    IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                };
                addr = SocketAddr::new(loopback, addr.port());
            }
        } else if config.tls.is_none() && !addr.ip().is_loopback() {
            eprintln!(
                "warning: credentials will cross the network in clear text; give \
                 --tls-cert and --tls-key"
            );
        }
        let tls = match &config.tls {
            None => None,
            Some((cert, key)) => {
                let read = |path: &PathBuf| {
                    std::fs::read(path).map_err(|source| Error::Io {
                        path: path.display().to_string(),
                        source,
                    })
                };
                let identity = Identity::from_pem(read(cert)?, read(key)?);
                Some(ServerTlsConfig::new().identity(identity))
            }
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Io {
                path: format!("listen on {addr}"),
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Io {
            path: format!("listen on {addr}"),
            source,
        })?;
        if config.credentials.is_empty() {
            eprintln!(
                "no credentials configured (SOCIALCX_USER and SOCIALCX_PASSWORD, or \
                 SOCIALCX_TOKEN): accepting unauthenticated calls on loopback only ({local_addr})"
            );
        }
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let auth = Authenticator::new(&config.credentials, config.token_ttl);
        let service = SqlService::new(engine, auth.clone(), &config);
        Ok(Server {
            incoming,
            local_addr,
            service,
            auth,
            tls,
            shutdown_grace: config.shutdown_grace,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serve until `shutdown` completes, then stop accepting calls and let running ones
    /// finish, for at most the shutdown grace period (a client that stopped reading cannot
    /// hold the server up).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let grace = self.shutdown_grace;
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = signalled.send(());
        };
        let grace_over = async move {
            if on_signal.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        let auth = self.auth.clone();
        let flight = FlightServiceServer::new(self.service)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        let service = InterceptedService::new(flight, move |mut request: tonic::Request<()>| {
            let principal = auth.check(request.metadata())?;
            request.extensions_mut().insert(principal);
            Ok(request)
        });
        let mut builder = tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let Some(tls) = self.tls {
            builder = builder
                .tls_config(tls)
                .map_err(|e| Error::Usage(format!("TLS: {e}")))?;
        }
        tracing::info!(target: "socialcx::server", addr = %self.local_addr, "serving Flight SQL");
        let serve = builder
            .add_service(service)
            .serve_with_incoming_shutdown(self.incoming, shutdown);
        tokio::select! {
            served = serve => served.map_err(|e| {
                Error::Usage(format!("Flight SQL server on {}: {e}", self.local_addr))
            }),
            _ = grace_over => {
                eprintln!(
                    "shutdown grace period of {}s over: dropping the calls still running",
                    grace.as_secs_f64()
                );
                Ok(())
            }
        }
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    eprintln!("shutting down: no new calls; waiting for running queries");
}
