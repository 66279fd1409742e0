//! The storage the fetch stage shares between replicas, as four key-value
//! primitives with compare-and-set.
//!
//! This crate does not know NATS: the per-host schedule and the "seen"
//! records are written against [`KvStore`], and the binary passes a
//! JetStream KV bucket (from `newsflow-bus`, wrapped in a newtype that
//! implements this trait) or, for a single process and for tests, a
//! [`MemoryKv`]. The primitives are exactly JetStream KV's, so the wrapper
//! is a line per method.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;

/// Name of the JetStream KV bucket holding the "seen" records (one per
/// article id). Its max age is `seen_retention_secs`.
pub const SEEN_BUCKET: &str = "newsflow-fetch-seen";

/// Name of the JetStream KV bucket holding the per-host schedule (one key
/// per `scheme://host:port`). One hour of max age is plenty: a record only
/// matters while its host is due within `host_max_wait_ms`.
pub const HOSTS_BUCKET: &str = "newsflow-fetch-hosts";

/// Max age to create [`HOSTS_BUCKET`] with.
pub const HOSTS_BUCKET_MAX_AGE: Duration = Duration::from_secs(3600);

/// A stored value and its revision (what a compare-and-set update names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// The value.
    pub value: Bytes,
    /// Revision of the value; JetStream's stream sequence.
    pub revision: u64,
}

/// Why a KV operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// `create` found the key already there, or `update` found another
    /// revision than the one given: someone else wrote first.
    #[error("the key was written concurrently")]
    Conflict,
    /// The store could not be reached or refused the operation.
    #[error("{0}")]
    Unavailable(String),
}

/// A key-value bucket with optimistic concurrency. Keys are ASCII letters,
/// digits, `-`, `_`, `=` and `.` (what JetStream KV accepts).
pub trait KvStore: Send + Sync + 'static {
    /// The current value, or `None` (missing, deleted or expired).
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<KvEntry>, KvError>>;
    /// Store `value` only if `key` has no value; returns the new revision,
    /// or [`KvError::Conflict`].
    fn create<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>>;
    /// Store `value` only if the current revision is `revision`; returns
    /// the new revision, or [`KvError::Conflict`].
    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
    ) -> BoxFuture<'a, Result<u64, KvError>>;
    /// Store `value` whatever is there.
    fn put<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>>;
}

/// An in-process [`KvStore`]: for one replica alone, for tests, and for the
/// benchmark. Entries expire after `max_age`, and past `max_entries` the
/// oldest are dropped, so memory stays bounded.
#[derive(Debug)]
pub struct MemoryKv {
    max_age: Duration,
    max_entries: usize,
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    revision: u64,
    entries: HashMap<String, (Bytes, u64, Instant)>,
}

impl MemoryKv {
    /// A store whose entries live `max_age`, at most 100 000 of them.
    pub fn new(max_age: Duration) -> Self {
        Self::with_capacity(max_age, 100_000)
    }

    /// A store with an explicit entry cap.
    pub fn with_capacity(max_age: Duration, max_entries: usize) -> Self {
        Self {
            max_age,
            max_entries: max_entries.max(1),
            inner: Mutex::new(MemoryInner::default()),
        }
    }

    fn with_inner<T>(&self, f: impl FnOnce(&mut MemoryInner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let max_age = self.max_age;
        if inner.entries.len() >= self.max_entries {
            inner
                .entries
                .retain(|_, (_, _, at)| now.duration_since(*at) < max_age);
            if inner.entries.len() >= self.max_entries {
                // Drop the oldest tenth at once, so a full store pays this
                // scan once per many writes rather than on each.
                let mut revisions: Vec<u64> = inner.entries.values().map(|(_, r, _)| *r).collect();
                let cut = (revisions.len() / 10).max(1);
                let (_, threshold, _) = revisions.select_nth_unstable(cut - 1);
                let threshold = *threshold;
                inner.entries.retain(|_, (_, rev, _)| *rev > threshold);
            }
        }
        f(&mut inner)
    }

    fn current(&self, inner: &MemoryInner, key: &str) -> Option<KvEntry> {
        let (value, revision, at) = inner.entries.get(key)?;
        (at.elapsed() < self.max_age).then(|| KvEntry {
            value: value.clone(),
            revision: *revision,
        })
    }

    fn write(inner: &mut MemoryInner, key: &str, value: Bytes) -> u64 {
        inner.revision += 1;
        let revision = inner.revision;
        inner
            .entries
            .insert(key.to_string(), (value, revision, Instant::now()));
        revision
    }
}

impl KvStore for MemoryKv {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<KvEntry>, KvError>> {
        let entry = self.with_inner(|inner| self.current(inner, key));
        Box::pin(async move { Ok(entry) })
    }

    fn create<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>> {
        let result = self.with_inner(|inner| match self.current(inner, key) {
            Some(_) => Err(KvError::Conflict),
            None => Ok(Self::write(inner, key, value)),
        });
        Box::pin(async move { result })
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
    ) -> BoxFuture<'a, Result<u64, KvError>> {
        let result = self.with_inner(|inner| match self.current(inner, key) {
            Some(entry) if entry.revision == revision => Ok(Self::write(inner, key, value)),
            _ => Err(KvError::Conflict),
        });
        Box::pin(async move { result })
    }

    fn put<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>> {
        let revision = self.with_inner(|inner| Self::write(inner, key, value));
        Box::pin(async move { Ok(revision) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn compare_and_set() {
        let kv = MemoryKv::new(Duration::from_secs(60));
        assert_eq!(kv.get("a").await.unwrap(), None);
        let r1 = kv.create("a", Bytes::from_static(b"1")).await.unwrap();
        assert_eq!(
            kv.create("a", Bytes::from_static(b"x")).await,
            Err(KvError::Conflict)
        );
        let r2 = kv.update("a", Bytes::from_static(b"2"), r1).await.unwrap();
        assert!(r2 > r1);
        assert_eq!(
            kv.update("a", Bytes::from_static(b"3"), r1).await,
            Err(KvError::Conflict)
        );
        assert_eq!(
            kv.get("a").await.unwrap(),
            Some(KvEntry {
                value: Bytes::from_static(b"2"),
                revision: r2
            })
        );
        let r3 = kv.put("a", Bytes::from_static(b"4")).await.unwrap();
        assert!(r3 > r2);
    }

    #[tokio::test]
    async fn entries_expire_and_are_capped() {
        let kv = MemoryKv::with_capacity(Duration::from_millis(30), 3);
        kv.put("old", Bytes::new()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(kv.get("old").await.unwrap(), None);
        kv.create("old", Bytes::new()).await.unwrap();
        for k in ["a", "b", "c", "d"] {
            kv.put(k, Bytes::new()).await.unwrap();
        }
        {
            let inner = kv.inner.lock().unwrap();
            assert!(inner.entries.len() <= 3, "{}", inner.entries.len());
            assert!(inner.entries.contains_key("d"));
        }
        let big = MemoryKv::with_capacity(Duration::from_secs(60), 100);
        for i in 0..1000 {
            big.put(&format!("k{i}"), Bytes::new()).await.unwrap();
        }
        let inner = big.inner.lock().unwrap();
        assert!(inner.entries.len() <= 100);
        assert!(inner.entries.contains_key("k999"));
        assert!(!inner.entries.contains_key("k0"));
    }
}
