//! The JetStream transport of newsflow, and the only crate that imports
//! `async_nats`.
//!
//! It creates the streams and consumers, moves [`newsflow_core`] events in
//! and out of NATS, and owns the delivery policy in one place
//! ([`Bus::run_stage`]): decode → handle → publish outputs with `Nats-Msg-Id`
//! and await their PubAcks → ack the input. Stages never see a NATS type.
//!
//! Payloads larger than the server's `max_payload` travel by claim check: the
//! bytes go to the JetStream object store and the message carries only their
//! name in a header (see [`blob`]). Subscribers going through this crate
//! resolve them transparently.

pub mod blob;
mod config;
mod error;
mod kv;
mod read;
mod stage_loop;
mod status;
mod topology;

pub use config::{BusConfig, ConsumerSettings};
pub use error::BusError;
pub use kv::{KvBucket, KvEntry, KvError};
pub use stage_loop::StageStats;
pub use status::{ConsumerStatus, Status, StreamStatus};

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, message::PublishMessage};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use newsflow_core::{Envelope, Event};

/// A connection to NATS with JetStream, plus the settings streams and
/// consumers are created with. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    cfg: Arc<BusConfig>,
}

/// One message as read by a subscriber: its payload (claim checks resolved)
/// and where it sits in its stream.
#[derive(Debug, Clone)]
pub struct Received {
    /// Subject it was published on.
    pub subject: String,
    /// Stream sequence.
    pub sequence: u64,
    /// The payload.
    pub payload: Bytes,
}

impl Bus {
    /// Connect to the server named in the configuration.
    pub async fn connect(cfg: BusConfig) -> Result<Self, BusError> {
        let url = cfg.url.clone();
        // A cluster is given as a comma-separated list: the client connects
        // to any of them (in random order, spreading clients over nodes)
        // and fails over to the others.
        let servers = url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<async_nats::ServerAddr>()
                    .map_err(|e| BusError::Connect {
                        url: s.to_string(),
                        reason: format!("not a NATS server URL: {e}"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = async_nats::ConnectOptions::new()
            .name(cfg.client_name.clone())
            .connection_timeout(Duration::from_millis(cfg.connect_timeout_ms))
            .request_timeout(Some(Duration::from_millis(cfg.request_timeout_ms)))
            .connect(servers)
            .await
            .map_err(|e| BusError::Connect {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let js = jetstream::new(client.clone());
        Ok(Self {
            client,
            js,
            cfg: Arc::new(cfg),
        })
    }

    /// The settings this bus was created with.
    pub fn config(&self) -> &BusConfig {
        &self.cfg
    }

    /// True while the connection to the server is up (for readiness probes).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Largest payload the server accepts in one message.
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    /// Publish an event on its subject with `Nats-Msg-Id` set to `msg_id`,
    /// and wait for JetStream to store it. Returns the stream sequence and
    /// whether JetStream dropped it as a duplicate.
    pub async fn publish<T: Event>(
        &self,
        event: &Envelope<T>,
        msg_id: &str,
    ) -> Result<Published, BusError> {
        self.publish_bytes(T::SUBJECT, Bytes::from(event.to_bytes()), msg_id)
            .await
    }

    /// Publish raw bytes (used for `newsflow.urls` input and DLQ records).
    pub async fn publish_bytes(
        &self,
        subject: &str,
        payload: Bytes,
        msg_id: &str,
    ) -> Result<Published, BusError> {
        let message = if payload.len() > self.inline_limit() {
            let name = blob::object_name(subject, msg_id);
            blob::put(&self.js, &name, &payload).await?;
            PublishMessage::build()
                .payload(blob::stub(&name, payload.len()))
                .header(blob::HEADER, name.as_str())
                .message_id(msg_id)
        } else {
            PublishMessage::build().payload(payload).message_id(msg_id)
        };
        let ack = self
            .js
            .send_publish(subject.to_string(), message)
            .await
            .map_err(|e| BusError::Publish {
                subject: subject.to_string(),
                reason: e.to_string(),
            })?
            .await
            .map_err(|e| BusError::Publish {
                subject: subject.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Published {
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        })
    }

    /// Payloads above this size go by claim check. The margin leaves room
    /// for headers, which count against `max_payload` too.
    fn inline_limit(&self) -> usize {
        let server = self.max_payload().saturating_sub(16 * 1024);
        match self.cfg.inline_max_bytes {
            0 => server,
            n => n.min(server),
        }
    }

    /// Follow `subject` from its stream: every stored message when
    /// `from_start`, else only new ones. Uses an ordered ephemeral consumer,
    /// so it acks nothing and leaves no state on the server.
    pub async fn subscribe(
        &self,
        subject: &str,
        from_start: bool,
    ) -> Result<BoxStream<'static, Result<Received, BusError>>, BusError> {
        let stream_name = newsflow_core::subjects::stream_for(subject)
            .ok_or_else(|| BusError::Topology(format!("no stream carries {subject}")))?;
        let stream = self.js.get_stream(stream_name).await.map_err(|e| {
            BusError::Topology(format!(
                "stream {stream_name} is missing ({e}); start the pipeline once or run `newsflow status`"
            ))
        })?;
        let deliver_policy = if from_start {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::New
        };
        let consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: subject.to_string(),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Topology(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| BusError::Topology(e.to_string()))?;
        let js = self.js.clone();
        Ok(messages
            .then(move |item| {
                let js = js.clone();
                async move {
                    let message = item.map_err(|e| BusError::Consume(e.to_string()))?;
                    let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                    let payload = blob::resolve(&js, &message.message).await?;
                    Ok(Received {
                        subject: message.subject.to_string(),
                        sequence,
                        payload,
                    })
                }
            })
            .boxed())
    }

    /// Flush pending publishes and close the connection.
    pub async fn drain(&self) -> Result<(), BusError> {
        self.client
            .drain()
            .await
            .map_err(|e| BusError::Consume(e.to_string()))
    }

    pub(crate) fn js(&self) -> &jetstream::Context {
        &self.js
    }
}

/// What JetStream said about a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Stream sequence of the stored message.
    pub sequence: u64,
    /// True when JetStream dropped it as a duplicate of a `Nats-Msg-Id`
    /// seen inside the duplicate window.
    pub duplicate: bool,
}
