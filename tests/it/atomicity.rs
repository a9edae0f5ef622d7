//! A failure in the middle of an ingest leaves the lake as it was; a retry lands it all.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use socialcx::generator::OutputLayout;
use socialcx::lake::Lake;
use socialcx::lake::location::resolve;
use socialcx::{Engine, EngineConfig};

use crate::common::*;

/// A store that refuses the `fail_at`-th write whose path contains `pattern`.
#[derive(Debug)]
struct FailingStore {
    inner: Arc<dyn ObjectStore>,
    pattern: &'static str,
    fail_at: usize,
    writes: AtomicUsize,
}

impl fmt::Display for FailingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FailingStore({})", self.inner)
    }
}

impl FailingStore {
    fn check(&self, location: &Path) -> Result<()> {
        if location.as_ref().contains(self.pattern)
            && self.writes.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at
        {
            return Err(object_store::Error::Generic {
                store: "failing",
                source: "injected failure: connection reset".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for FailingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.check(location)?;
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.check(location)?;
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

async fn failing_engine(dir: &std::path::Path, pattern: &'static str, fail_at: usize) -> Engine {
    let loc = resolve(&dir.join("lake").display().to_string()).unwrap();
    let store = Arc::new(FailingStore {
        inner: loc.store,
        pattern,
        fail_at,
        writes: AtomicUsize::new(0),
    });
    let lake = Lake::with_store(&loc.display, store);
    Engine::over_lake(lake, &EngineConfig::new("unused"))
        .await
        .unwrap()
}

async fn failure_leaves_the_lake_unchanged(pattern: &'static str, fail_at: usize) {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path(), "first.ndjson", 800, 1, OutputLayout::Ndjson);
    // Four busy days and a tail of small ones: five data files.
    let second = generate_days(dir.path(), "second.ndjson", 100_000, 2, 4);
    let healthy = engine_in(dir.path()).await;
    ingest(&healthy, &[first]).await;
    let before = scalar(&healthy, "SELECT count(*) FROM conversations").await;
    assert_eq!(before, 800);

    let failing = failing_engine(dir.path(), pattern, fail_at).await;
    let err = socialcx::ingest::ingest_files(
        &failing,
        std::slice::from_ref(&second),
        &Default::default(),
    )
    .await
    .expect_err("the injected failure surfaces");
    assert!(err.to_string().contains("injected failure"), "{err}");

    // A new reader sees exactly the lake before the failed ingest, and can read all of it.
    let reader = engine_in(dir.path()).await;
    assert_eq!(
        scalar(&reader, "SELECT count(*) FROM conversations").await,
        before
    );
    assert_eq!(scalar(&reader, "SELECT count(*) FROM quarantine").await, 0);
    assert_eq!(
        scalar(&reader, "SELECT sum(length(text)) > 0 FROM conversations").await,
        1
    );

    // Retrying lands the whole input once: the orphaned files of the failed try are not counted.
    let summary = ingest(&reader, &[second]).await;
    assert_eq!(summary.landed(), 100_000);
    assert_eq!(
        scalar(&reader, "SELECT count(*) FROM conversations").await,
        100_800
    );
    assert_eq!(
        scalar(
            &reader,
            "SELECT count(DISTINCT conversation_id) FROM conversations"
        )
        .await,
        100_800
    );
}

#[tokio::test]
async fn a_data_file_write_failing_mid_ingest_leaves_the_lake_as_before() {
    // The third data file of the second ingest fails, after two were written whole.
    failure_leaves_the_lake_unchanged("part-", 3).await;
}

#[tokio::test]
async fn a_commit_failing_leaves_the_lake_as_before() {
    // Every data file is written, then the commit itself fails.
    failure_leaves_the_lake_unchanged("_log/", 1).await;
}
