use std::time::Duration;

use async_nats::jetstream::{object_store, stream};
use newsflow_core::subjects;

use crate::{Bus, BusError};

impl Bus {
    /// Create or update every stream and the blob bucket. Idempotent: each
    /// service calls it at start-up, so whichever starts first sets things
    /// up and a changed setting (max age, replicas) is applied on restart.
    pub async fn ensure_topology(&self) -> Result<(), BusError> {
        let cfg = self.config();
        let storage = match cfg.storage.as_str() {
            "memory" => stream::StorageType::Memory,
            "file" => stream::StorageType::File,
            other => {
                return Err(BusError::Config(format!(
                    "nats.storage `{other}` is unknown; use `file` or `memory`"
                )));
            }
        };
        if !(1..=5).contains(&cfg.replicas) {
            return Err(BusError::Config(format!(
                "nats.replicas is {}; JetStream keeps 1 to 5 copies (1 on one server, 3 in a three-node cluster)",
                cfg.replicas
            )));
        }
        let streams = [
            (subjects::STREAM_URLS, subjects::URLS.to_string()),
            (subjects::STREAM_FETCHED, subjects::FETCHED.to_string()),
            (subjects::STREAM_PARSED, subjects::PARSED.to_string()),
            (subjects::STREAM_ENRICHED, subjects::ENRICHED.to_string()),
            (subjects::STREAM_DLQ, format!("{}.>", subjects::DLQ_PREFIX)),
        ];
        for (name, subject) in streams {
            let config = stream::Config {
                name: name.to_string(),
                subjects: vec![subject],
                retention: stream::RetentionPolicy::Limits,
                storage,
                num_replicas: cfg.replicas,
                max_age: Duration::from_secs(cfg.max_age_secs),
                duplicate_window: Duration::from_secs(cfg.duplicate_window_secs),
                ..Default::default()
            };
            self.js()
                .create_or_update_stream(config)
                .await
                .map_err(|e| BusError::Topology(format!("stream {name}: {e}")))?;
        }
        if self
            .js()
            .get_object_store(subjects::BLOB_BUCKET)
            .await
            .is_err()
        {
            self.js()
                .create_object_store(object_store::Config {
                    bucket: subjects::BLOB_BUCKET.to_string(),
                    description: Some("payloads above max_payload (claim checks)".into()),
                    max_age: Duration::from_secs(cfg.blob_max_age_secs),
                    storage,
                    num_replicas: cfg.replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    BusError::Topology(format!("bucket {}: {e}", subjects::BLOB_BUCKET))
                })?;
        }
        Ok(())
    }
}
