//! The JetStream KV adapter for the fetch stage: newsflow-bus cannot depend
//! on newsflow-fetch, so the newtype that joins them lives here, with the
//! code that owns both.

use bytes::Bytes;
use futures::future::BoxFuture;
use newsflow_fetch::{KvEntry, KvError, KvStore};

/// A JetStream KV bucket as the fetch stage's [`KvStore`]: the adapter the
/// binary uses (newsflow-bus cannot depend on newsflow-fetch, so the
/// newtype lives with whoever owns both).
pub struct NatsKv(pub newsflow_bus::KvBucket);

fn kv_error(e: newsflow_bus::KvError) -> KvError {
    match e {
        newsflow_bus::KvError::Conflict => KvError::Conflict,
        newsflow_bus::KvError::Unavailable(m) => KvError::Unavailable(m),
    }
}

impl KvStore for NatsKv {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<KvEntry>, KvError>> {
        Box::pin(async move {
            let entry = self.0.get(key).await.map_err(kv_error)?;
            Ok(entry.map(|e| KvEntry {
                value: e.value,
                revision: e.revision,
            }))
        })
    }

    fn create<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>> {
        Box::pin(async move { self.0.create(key, value).await.map_err(kv_error) })
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        revision: u64,
    ) -> BoxFuture<'a, Result<u64, KvError>> {
        Box::pin(async move { self.0.update(key, value, revision).await.map_err(kv_error) })
    }

    fn put<'a>(&'a self, key: &'a str, value: Bytes) -> BoxFuture<'a, Result<u64, KvError>> {
        Box::pin(async move { self.0.put(key, value).await.map_err(kv_error) })
    }
}
