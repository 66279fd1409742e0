use futures::TryStreamExt;
use newsflow_core::subjects;
use serde::Serialize;

use crate::{Bus, BusError};

/// State of the pipeline's streams and consumers, as `newsflow status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// One entry per stream.
    pub streams: Vec<StreamStatus>,
    /// DLQ messages per subject.
    pub dlq: Vec<(String, u64)>,
}

/// One stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamStatus {
    /// Stream name.
    pub name: String,
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// Copies the cluster keeps of it (1 on a single server).
    pub replicas: usize,
    /// Its consumers.
    pub consumers: Vec<ConsumerStatus>,
}

/// One durable consumer.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerStatus {
    /// Consumer (stage) name.
    pub name: String,
    /// Messages not yet delivered: the stage's lag.
    pub pending: u64,
    /// Delivered, not yet acknowledged.
    pub ack_pending: usize,
    /// Messages delivered more than once.
    pub redelivered: usize,
}

impl Status {
    /// Total DLQ messages.
    pub fn dlq_total(&self) -> u64 {
        self.dlq.iter().map(|(_, n)| n).sum()
    }
}

impl Bus {
    /// Read the state of every newsflow stream.
    pub async fn status(&self) -> Result<Status, BusError> {
        let names = [
            subjects::STREAM_URLS,
            subjects::STREAM_FETCHED,
            subjects::STREAM_PARSED,
            subjects::STREAM_ENRICHED,
            subjects::STREAM_DLQ,
        ];
        let mut streams = Vec::new();
        let mut dlq = Vec::new();
        for name in names {
            let mut stream = self.js().get_stream(name).await.map_err(|e| {
                BusError::Topology(format!(
                    "stream {name} is missing ({e}); has a newsflow service run against this server?"
                ))
            })?;
            let info = stream
                .info()
                .await
                .map_err(|e| BusError::Topology(e.to_string()))?
                .clone();
            let mut consumers = Vec::new();
            let mut list = stream.consumers();
            while let Some(c) = list
                .try_next()
                .await
                .map_err(|e| BusError::Topology(e.to_string()))?
            {
                if c.config.durable_name.is_none() {
                    continue; // ephemeral readers such as `newsflow tail`
                }
                consumers.push(ConsumerStatus {
                    name: c.name,
                    pending: c.num_pending,
                    ack_pending: c.num_ack_pending,
                    redelivered: c.num_redelivered,
                });
            }
            if name == subjects::STREAM_DLQ {
                dlq = crate::read::subject_counts(&stream, &format!("{}.>", subjects::DLQ_PREFIX))
                    .await?;
                dlq.sort();
            }
            streams.push(StreamStatus {
                name: name.to_string(),
                messages: info.state.messages,
                bytes: info.state.bytes,
                replicas: info.config.num_replicas,
                consumers,
            });
        }
        Ok(Status { streams, dlq })
    }
}
