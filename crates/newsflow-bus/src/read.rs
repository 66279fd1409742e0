//! Reading what a stream holds (for `newsflow dlq`), and deleting one
//! message after it was dealt with.

use std::time::Duration;

use async_nats::jetstream::consumer;
use futures::{StreamExt, TryStreamExt};
use newsflow_core::subjects;

use crate::{Bus, BusError, Received, blob};

impl Bus {
    /// Every message stored under `subject` (wildcards allowed), oldest
    /// first, at most `limit`. Returns when nothing more is pending.
    pub async fn read_stored(
        &self,
        subject: &str,
        limit: usize,
    ) -> Result<Vec<Received>, BusError> {
        let stream_name = subjects::stream_for(subject)
            .ok_or_else(|| BusError::Topology(format!("no stream carries {subject}")))?;
        let stream = self
            .js()
            .get_stream(stream_name)
            .await
            .map_err(|e| BusError::Topology(format!("stream {stream_name}: {e}")))?;
        // How many there are, first: an empty filter would otherwise only
        // show itself by a timeout, and a timeout short enough for that
        // would cut a listing of large messages short.
        let stored: u64 = subject_counts(&stream, subject)
            .await?
            .iter()
            .map(|(_, n)| n)
            .sum();
        if stored == 0 {
            return Ok(Vec::new());
        }
        // One message per pull: a stream of large messages (up to the
        // server's max_payload each) pulled in big batches would pile up in
        // the server's buffer for this client until it was cut off as a
        // slow consumer.
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                filter_subject: subject.to_string(),
                deliver_policy: consumer::DeliverPolicy::All,
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(60),
                memory_storage: true,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Topology(e.to_string()))?;
        let mut out = Vec::new();
        while out.len() < limit {
            let mut batch = consumer
                .batch()
                .max_messages(1)
                .expires(Duration::from_secs(30))
                .messages()
                .await
                .map_err(|e| BusError::Consume(e.to_string()))?;
            // Messages are known to be there; an empty pull means trouble.
            let Some(item) = batch.next().await else {
                break;
            };
            let message = item.map_err(|e| BusError::Consume(e.to_string()))?;
            let info = message
                .info()
                .map_err(|e| BusError::Consume(e.to_string()))?;
            let (sequence, pending) = (info.stream_sequence, info.pending);
            let payload = blob::resolve(self.js(), &message.message).await?;
            out.push(Received {
                subject: message.subject.to_string(),
                sequence,
                payload,
            });
            if pending == 0 {
                break;
            }
        }
        Ok(out)
    }

    /// Delete message `sequence` from the stream that carries `subject`.
    pub async fn delete_stored(&self, subject: &str, sequence: u64) -> Result<bool, BusError> {
        let stream_name = subjects::stream_for(subject)
            .ok_or_else(|| BusError::Topology(format!("no stream carries {subject}")))?;
        let stream = self
            .js()
            .get_stream(stream_name)
            .await
            .map_err(|e| BusError::Topology(format!("stream {stream_name}: {e}")))?;
        stream
            .delete_message(sequence)
            .await
            .map_err(|e| BusError::Consume(e.to_string()))
    }
}

/// Messages stored per subject matching `filter` in `stream`.
pub(crate) async fn subject_counts(
    stream: &async_nats::jetstream::stream::Stream,
    filter: &str,
) -> Result<Vec<(String, u64)>, BusError> {
    let mut counts = stream
        .info_with_subjects(filter)
        .await
        .map_err(|e| BusError::Topology(e.to_string()))?;
    let mut out = Vec::new();
    while let Some((subject, n)) = counts
        .try_next()
        .await
        .map_err(|e| BusError::Topology(e.to_string()))?
    {
        out.push((subject, n as u64));
    }
    Ok(out)
}
