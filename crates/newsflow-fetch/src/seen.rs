//! The "seen" record of a URL: when it was last fetched, by which request,
//! and the validators its answer carried. One KV key per article id (the
//! hash of the normalised URL), in a bucket whose max age is
//! `seen_retention_secs`.
//!
//! Failures of this store never fail a fetch: at worst a page is fetched
//! again, which is what would happen without it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::fetcher::Validators;
use crate::kv::KvStore;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SeenRecord {
    /// When the URL was last fetched (or found unchanged), Unix ms.
    pub fetched_at_ms: u64,
    /// Trace id of the request that wrote the record. A redelivery of that
    /// same request (its outputs may not have been stored) must not be
    /// skipped because of its own record.
    pub trace_id: String,
    /// The URL the validators belong to (after redirects).
    pub final_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl SeenRecord {
    pub(crate) fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.fetched_at_ms))
    }

    pub(crate) fn validators(&self) -> Option<Validators> {
        (self.etag.is_some() || self.last_modified.is_some()).then(|| Validators {
            url: self.final_url.clone(),
            etag: self.etag.clone(),
            last_modified: self.last_modified.clone(),
        })
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[derive(Clone)]
pub(crate) struct SeenStore {
    kv: Arc<dyn KvStore>,
}

fn key(article_id: &str) -> String {
    format!("url.{article_id}")
}

impl SeenStore {
    pub(crate) fn new(kv: Arc<dyn KvStore>) -> Self {
        Self { kv }
    }

    pub(crate) async fn get(&self, article_id: &str) -> Option<SeenRecord> {
        match self.kv.get(&key(article_id)).await {
            Ok(entry) => entry.and_then(|e| serde_json::from_slice(&e.value).ok()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the seen record; fetching anyway");
                None
            }
        }
    }

    pub(crate) async fn put(&self, article_id: &str, record: &SeenRecord) {
        let value = Bytes::from(serde_json::to_vec(record).unwrap_or_default());
        if let Err(e) = self.kv.put(&key(article_id), value).await {
            tracing::warn!(error = %e, "cannot store the seen record");
        }
    }
}
