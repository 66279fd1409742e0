//! JetStream key-value buckets as four plain primitives: `get`, `create`
//! (only if absent), `update` (compare-and-set on the revision) and `put`.
//!
//! Stages that share state between replicas (the fetch stage's per-host
//! schedule and "seen" records) define the trait they need in their own
//! crate, without NATS types, and the binary wraps a [`KvBucket`] in a
//! newtype implementing it: one line per method. That keeps this crate
//! free of stage crates and stage crates free of NATS.

use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;

use crate::{Bus, BusError};

/// A value and the revision it was stored at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    /// The value.
    pub value: Bytes,
    /// Its revision (the stream sequence of the write).
    pub revision: u64,
}

/// Why a KV operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// `create` found a value, or `update` another revision: someone else
    /// wrote first. Re-read and try again.
    #[error("the key was written concurrently")]
    Conflict,
    /// Anything else (server unreachable, invalid key, timeout).
    #[error("key-value store: {0}")]
    Unavailable(String),
}

/// One JetStream KV bucket. Cheap to clone.
#[derive(Clone)]
pub struct KvBucket {
    name: String,
    store: kv::Store,
}

impl std::fmt::Debug for KvBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvBucket")
            .field("name", &self.name)
            .finish()
    }
}

impl Bus {
    /// Open the bucket `name`, creating it if needed with one value per
    /// key and entries expiring after `max_age` (0: never). An existing
    /// bucket with another `max_age` is updated to this one, so a changed
    /// setting takes effect on restart. Storage and replicas follow the
    /// bus configuration. Idempotent: every replica calls it at start-up.
    pub async fn kv_bucket(&self, name: &str, max_age: Duration) -> Result<KvBucket, BusError> {
        let storage = match self.config().storage.as_str() {
            "memory" => async_nats::jetstream::stream::StorageType::Memory,
            _ => async_nats::jetstream::stream::StorageType::File,
        };
        let config = kv::Config {
            bucket: name.to_string(),
            description: format!("newsflow {name}"),
            history: 1,
            max_age,
            storage,
            num_replicas: self.config().replicas,
            ..Default::default()
        };
        let topology =
            |e: &dyn std::fmt::Display| BusError::Topology(format!("bucket {name}: {e}"));
        let store = match self.js().get_key_value(name).await {
            Ok(store) => {
                let current = store.status().await.map_err(|e| topology(&e))?;
                if current.info.config.max_age != max_age {
                    self.js()
                        .update_key_value(config)
                        .await
                        .map_err(|e| topology(&e))?
                } else {
                    store
                }
            }
            Err(_) => match self.js().create_key_value(config).await {
                Ok(store) => store,
                // Another replica created it in between.
                Err(create_error) => self
                    .js()
                    .get_key_value(name)
                    .await
                    .map_err(|_| topology(&create_error))?,
            },
        };
        Ok(KvBucket {
            name: name.to_string(),
            store,
        })
    }
}

fn unavailable(e: impl std::fmt::Display) -> KvError {
    KvError::Unavailable(e.to_string())
}

impl KvBucket {
    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current value of `key`; `None` when missing, deleted or expired.
    pub async fn get(&self, key: &str) -> Result<Option<KvEntry>, KvError> {
        let entry = self.store.entry(key).await.map_err(unavailable)?;
        Ok(entry.and_then(|e| match e.operation {
            kv::Operation::Put => Some(KvEntry {
                value: e.value,
                revision: e.revision,
            }),
            kv::Operation::Delete | kv::Operation::Purge => None,
        }))
    }

    /// Store `value` if `key` has none; [`KvError::Conflict`] otherwise.
    pub async fn create(&self, key: &str, value: Bytes) -> Result<u64, KvError> {
        self.store
            .create(key, value)
            .await
            .map_err(|e| match e.kind() {
                kv::CreateErrorKind::AlreadyExists => KvError::Conflict,
                _ => unavailable(e),
            })
    }

    /// Store `value` if the current revision of `key` is `revision`;
    /// [`KvError::Conflict`] otherwise.
    pub async fn update(&self, key: &str, value: Bytes, revision: u64) -> Result<u64, KvError> {
        self.store
            .update(key, value, revision)
            .await
            .map_err(|e| match e.kind() {
                kv::UpdateErrorKind::WrongLastRevision => KvError::Conflict,
                _ => unavailable(e),
            })
    }

    /// Store `value` whatever is there.
    pub async fn put(&self, key: &str, value: Bytes) -> Result<u64, KvError> {
        self.store.put(key, value).await.map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BusConfig;
    use newsflow_test_support::NatsServer;

    async fn bus(server: &NatsServer) -> Bus {
        Bus::connect(BusConfig {
            url: server.url(),
            ..Default::default()
        })
        .await
        .expect("connect")
    }

    #[tokio::test]
    async fn primitives_with_compare_and_set() {
        let server = NatsServer::start();
        let bus = bus(&server).await;
        let kv = bus
            .kv_bucket("test-kv", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(kv.name(), "test-kv");
        assert_eq!(kv.get("host.a").await.unwrap(), None);
        let r1 = kv.create("host.a", Bytes::from_static(b"1")).await.unwrap();
        assert_eq!(
            kv.create("host.a", Bytes::from_static(b"x")).await,
            Err(KvError::Conflict)
        );
        let r2 = kv
            .update("host.a", Bytes::from_static(b"2"), r1)
            .await
            .unwrap();
        assert_eq!(
            kv.update("host.a", Bytes::from_static(b"3"), r1).await,
            Err(KvError::Conflict)
        );
        assert_eq!(
            kv.get("host.a").await.unwrap(),
            Some(KvEntry {
                value: Bytes::from_static(b"2"),
                revision: r2
            })
        );
        let r3 = kv.put("host.a", Bytes::from_static(b"4")).await.unwrap();
        assert!(r3 > r2);
        assert!(matches!(
            kv.put("bad key", Bytes::new()).await,
            Err(KvError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn opening_is_idempotent_and_applies_a_new_max_age() {
        let server = NatsServer::start();
        let bus = bus(&server).await;
        let a = bus
            .kv_bucket("test-age", Duration::from_secs(60))
            .await
            .unwrap();
        a.put("k", Bytes::from_static(b"v")).await.unwrap();
        let b = bus
            .kv_bucket("test-age", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(b.get("k").await.unwrap().unwrap().value, "v");
        let c = bus
            .kv_bucket("test-age", Duration::from_secs(120))
            .await
            .unwrap();
        let status = c.store.status().await.unwrap();
        assert_eq!(status.info.config.max_age, Duration::from_secs(120));
        assert_eq!(c.get("k").await.unwrap().unwrap().value, "v");
    }

    #[tokio::test]
    async fn entries_expire_with_the_bucket_max_age() {
        let server = NatsServer::start();
        let bus = bus(&server).await;
        let kv = bus
            .kv_bucket("test-expiry", Duration::from_secs(1))
            .await
            .unwrap();
        kv.put("k", Bytes::from_static(b"v")).await.unwrap();
        assert!(kv.get("k").await.unwrap().is_some());
        // Expiry runs on the server's own schedule; poll, bounded.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while kv.get("k").await.unwrap().is_some() {
            assert!(tokio::time::Instant::now() < deadline, "never expired");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // An expired key can be created again.
        kv.create("k", Bytes::from_static(b"w")).await.unwrap();
    }
}
