//! One run of a job at a time, across processes and machines, on any object store.
//!
//! A lock is a lease: `_jobs/locks/<job>/<generation>.json`, written with put-if-absent, says
//! who holds it and until when. The newest generation decides. To take the lock, a process
//! writes the next generation; it can do so only when the newest one is released or its
//! lease has run out, and only one writer can create a given generation, so two processes
//! never both win. The holder renews the lease (a new generation) while it runs and
//! releases it (another generation) when done; a process that crashed simply stops renewing,
//! and its lock is free once the lease expires. No rename, no delete-then-create race: it
//! holds on S3 as on local disk.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where locks live under the lake root.
pub const LOCK_DIR: &str = "_jobs/locks";

/// One generation of a lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Who holds it: host, process id and a random id.
    pub owner: String,
    /// When the lease runs out unless renewed (RFC 3339).
    pub expires: DateTime<Utc>,
    /// Released by its holder.
    pub released: bool,
}

/// Why a lock could not be taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The holder.
    pub owner: String,
    /// When its lease runs out.
    pub expires: DateTime<Utc>,
}

/// A lock this process holds. Renew it with [`JobLock::renew`] more often than its TTL;
/// release it with [`JobLock::release`] (a dropped lock is left to expire).
#[derive(Debug)]
pub struct JobLock {
    store: Arc<dyn ObjectStore>,
    job: String,
    owner: String,
    generation: u64,
    ttl: Duration,
}

fn lock_path(job: &str, generation: u64) -> Path {
    Path::from(format!("{LOCK_DIR}/{job}/{generation:020}.json"))
}

fn store_error(op: &'static str, path: &Path, e: object_store::Error) -> Error {
    Error::Lake {
        url: String::new(),
        message: format!("{op} {path}: {}", crate::lake::cloud::describe(&e)),
    }
}

/// The newest generation of `job`'s lock and its lease, if any.
async fn newest(store: &Arc<dyn ObjectStore>, job: &str) -> Result<Option<(u64, Lease)>> {
    let prefix = Path::from(format!("{LOCK_DIR}/{job}"));
    let entries: Vec<_> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| store_error("list", &prefix, e))?;
    let Some((generation, location)) = entries
        .iter()
        .filter_map(|m| {
            let n = m
                .location
                .filename()?
                .strip_suffix(".json")?
                .parse::<u64>()
                .ok()?;
            Some((n, m.location.clone()))
        })
        .max_by_key(|(n, _)| *n)
    else {
        return Ok(None);
    };
    let bytes = store
        .get(&location)
        .await
        .map_err(|e| store_error("get", &location, e))?
        .bytes()
        .await
        .map_err(|e| store_error("get", &location, e))?;
    let lease: Lease = serde_json::from_slice(&bytes).map_err(|e| Error::Lake {
        url: String::new(),
        message: format!("lock {location} is unreadable: {e}"),
    })?;
    Ok(Some((generation, lease)))
}

/// Write generation `generation` of `job`'s lock; false when someone else wrote it first.
async fn create(
    store: &Arc<dyn ObjectStore>,
    job: &str,
    generation: u64,
    lease: &Lease,
) -> Result<bool> {
    let path = lock_path(job, generation);
    let body = serde_json::to_vec_pretty(lease).expect("a lease serializes");
    let opts = PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    match store.put_opts(&path, PutPayload::from(body), opts).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        Err(e) => Err(store_error("put", &path, e)),
    }
}

/// A name for this process: host, pid and a random part.
pub fn owner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl JobLock {
    /// Take `job`'s lock for `ttl`, or say who holds it.
    pub async fn acquire(
        store: Arc<dyn ObjectStore>,
        job: &str,
        ttl: Duration,
    ) -> Result<std::result::Result<JobLock, Held>> {
        let owner = owner_id();
        let (next, current) = match newest(&store, job).await? {
            None => (1, None),
            Some((n, lease)) => (n + 1, Some(lease)),
        };
        if let Some(lease) = &current
            && !lease.released
            && lease.expires > Utc::now()
        {
            return Ok(Err(Held {
                owner: lease.owner.clone(),
                expires: lease.expires,
            }));
        }
        let lease = Lease {
            owner: owner.clone(),
            expires: Utc::now() + ttl,
            released: false,
        };
        if !create(&store, job, next, &lease).await? {
            // Another process took this generation a moment ago.
            let holder = newest(&store, job).await?.map(|(_, l)| l);
            return Ok(Err(Held {
                owner: holder
                    .as_ref()
                    .map_or("another process".into(), |l| l.owner.clone()),
                expires: holder.map_or_else(Utc::now, |l| l.expires),
            }));
        }
        let lock = JobLock {
            store,
            job: job.to_string(),
            owner,
            generation: next,
            ttl,
        };
        lock.prune().await;
        Ok(Ok(lock))
    }

    /// Extend the lease by the TTL from now. An error means the lock was lost (the lease had
    /// run out and another process took it): the run must not commit.
    pub async fn renew(&mut self) -> Result<()> {
        self.check().await?;
        let lease = Lease {
            owner: self.owner.clone(),
            expires: Utc::now() + self.ttl,
            released: false,
        };
        if !create(&self.store, &self.job, self.generation + 1, &lease).await? {
            return Err(self.lost());
        }
        self.generation += 1;
        self.prune().await;
        Ok(())
    }

    /// Whether the lock is still ours and live (checked right before a commit).
    pub async fn check(&self) -> Result<()> {
        match newest(&self.store, &self.job).await? {
            Some((n, lease))
                if n == self.generation
                    && lease.owner == self.owner
                    && lease.expires > Utc::now() =>
            {
                Ok(())
            }
            _ => Err(self.lost()),
        }
    }

    /// Let the next run in.
    pub async fn release(self) -> Result<()> {
        let lease = Lease {
            owner: self.owner.clone(),
            expires: Utc::now(),
            released: true,
        };
        create(&self.store, &self.job, self.generation + 1, &lease).await?;
        Ok(())
    }

    fn lost(&self) -> Error {
        Error::Lake {
            url: String::new(),
            message: format!(
                "job {}: the lock's lease ran out and another run took it",
                self.job
            ),
        }
    }

    /// Remove generations older than the previous one (best effort).
    async fn prune(&self) {
        for n in self.generation.saturating_sub(64)..self.generation.saturating_sub(1) {
            let _ = self.store.delete(&lock_path(&self.job, n)).await;
        }
    }
}

/// Who holds `job`'s lock now, if anyone.
pub async fn holder(store: &Arc<dyn ObjectStore>, job: &str) -> Result<Option<Held>> {
    Ok(newest(store, job).await?.and_then(|(_, lease)| {
        (!lease.released && lease.expires > Utc::now()).then_some(Held {
            owner: lease.owner,
            expires: lease.expires,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn one_holder_at_a_time_and_a_crashed_holder_expires() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let first = JobLock::acquire(Arc::clone(&store), "j", Duration::from_millis(300))
            .await
            .unwrap()
            .unwrap();
        let busy = JobLock::acquire(Arc::clone(&store), "j", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(busy.owner, first.owner);
        // Another job is independent.
        assert!(
            JobLock::acquire(Arc::clone(&store), "k", Duration::from_secs(60))
                .await
                .unwrap()
                .is_ok()
        );
        // The first holder "crashes": it never renews nor releases.
        drop(first);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let second = JobLock::acquire(Arc::clone(&store), "j", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        second.check().await.unwrap();
        second.release().await.unwrap();
        assert!(holder(&store, "j").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_holder_whose_lease_ran_out_cannot_renew_after_a_takeover() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let mut slow = JobLock::acquire(Arc::clone(&store), "j", Duration::from_millis(100))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let fast = JobLock::acquire(Arc::clone(&store), "j", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert!(slow.check().await.is_err());
        assert!(slow.renew().await.is_err());
        fast.check().await.unwrap();
    }

    #[tokio::test]
    async fn renewing_keeps_the_lock() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let mut lock = JobLock::acquire(Arc::clone(&store), "j", Duration::from_millis(300))
            .await
            .unwrap()
            .unwrap();
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            lock.renew().await.unwrap();
        }
        assert!(
            JobLock::acquire(Arc::clone(&store), "j", Duration::from_secs(1))
                .await
                .unwrap()
                .is_err()
        );
    }
}
