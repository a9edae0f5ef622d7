//! The same SQL on an Apache DataFusion Ballista cluster: one binary for every role.
//!
//! - `socialcx cluster scheduler` cuts each query into stages and hands their tasks out
//!   ([`roles::run_scheduler`]);
//! - `socialcx cluster executor` runs tasks, reading the lake straight from its own object
//!   store, with the functions of its own configuration ([`roles::run_executor`]);
//! - `--cluster df://HOST:PORT` on a command makes its engine plan each query as usual (the
//!   lake's tables, pruning, the graph functions) and send the physical plan to the
//!   scheduler ([`ClusterDispatch`]); the result streams back from the executors.
//!
//! Every role decodes plans with one [`codec::ClusterCodec`]: our plan nodes travel
//! through it, and the scoring functions carry the fingerprint of the configuration that
//! planned them, so a role started with another lexicon, taxonomy or build refuses the
//! work instead of answering differently. Credentials never travel: each process reads
//! its own environment (Ballista ships every session setting to every node).

pub mod client;
pub mod codec;
pub mod roles;
pub mod status;

pub use client::{ClusterDispatch, ClusterExec};

use crate::{Error, Result};

/// Host and port of a cluster URL, Ballista's form `df://HOST:PORT`.
///
/// ```
/// let (host, port) = socialcx::cluster::parse_url("df://127.0.0.1:50050").unwrap();
/// assert_eq!((host.as_str(), port), ("127.0.0.1", 50050));
/// assert!(socialcx::cluster::parse_url("http://127.0.0.1:50050").is_err());
/// assert!(socialcx::cluster::parse_url("df://scheduler").is_err());
/// ```
pub fn parse_url(url: &str) -> Result<(String, u16)> {
    let usage = || {
        Error::Usage(format!(
            "the cluster URL {url:?} is not of the form df://HOST:PORT (the scheduler's address)"
        ))
    };
    let rest = url.strip_prefix("df://").ok_or_else(usage)?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').ok_or_else(usage)?;
    let port: u16 = port.parse().map_err(|_| usage())?;
    if host.is_empty() {
        return Err(usage());
    }
    Ok((host.to_string(), port))
}

/// `HOST:PORT` with port 0 replaced by a port free on `HOST` now (the roles tell the
/// scheduler and clients their ports, so they must know them before they listen).
///
/// ```
/// let (host, port) = socialcx::cluster::resolve_addr("127.0.0.1:0").unwrap();
/// assert_eq!(host, "127.0.0.1");
/// assert_ne!(port, 0);
/// ```
pub fn resolve_addr(addr: &str) -> Result<(String, u16)> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| {
        Error::Usage(format!("the address {addr:?} is not of the form HOST:PORT"))
    })?;
    let port: u16 = port
        .parse()
        .map_err(|_| Error::Usage(format!("the port of {addr:?} is not a number")))?;
    if port != 0 {
        return Ok((host.to_string(), port));
    }
    let listener = std::net::TcpListener::bind((host, 0))
        .map_err(|e| Error::io(format!("a free port on {host}"), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io(format!("a free port on {host}"), e))?
        .port();
    Ok((host.to_string(), port))
}
