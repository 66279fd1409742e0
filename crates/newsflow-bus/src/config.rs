use serde::Deserialize;

/// How to reach NATS and how streams and consumers are created.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// Server URL, or several comma-separated (the nodes of a cluster).
    pub url: String,
    /// Connection name shown by the server (`nats server report connections`).
    pub client_name: String,
    /// Give up connecting after this long, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Timeout of JetStream API requests and PubAcks, in milliseconds.
    pub request_timeout_ms: u64,
    /// Stream replicas: 1 on one server, 3 in a three-node cluster.
    pub replicas: usize,
    /// `file` (survives restarts) or `memory`.
    pub storage: String,
    /// Messages older than this are removed from the streams, in seconds.
    pub max_age_secs: u64,
    /// Window in which JetStream drops a message whose `Nats-Msg-Id` it
    /// has already stored, in seconds.
    pub duplicate_window_secs: u64,
    /// Payloads above this size go through the object store (claim check);
    /// 0 means "whatever the server's max_payload allows".
    pub inline_max_bytes: usize,
    /// Claim-checked payloads are deleted after this long, in seconds.
    pub blob_max_age_secs: u64,
    /// Settings of the stage consumers.
    pub consumer: ConsumerSettings,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            client_name: "newsflow".into(),
            connect_timeout_ms: 5_000,
            request_timeout_ms: 10_000,
            replicas: 1,
            storage: "file".into(),
            max_age_secs: 7 * 24 * 3600,
            duplicate_window_secs: 120,
            inline_max_bytes: 0,
            blob_max_age_secs: 7 * 24 * 3600,
            consumer: ConsumerSettings::default(),
        }
    }
}

/// How a stage consumes its input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerSettings {
    /// Messages one process handles at once. Also its pull batch size.
    pub max_in_flight: usize,
    /// Unacknowledged messages the server allows across all replicas of a
    /// stage before it stops delivering: the back-pressure bound.
    pub max_ack_pending: i64,
    /// A message not acked within this many seconds is redelivered (a
    /// replica that died loses nothing). Long work sends progress acks.
    pub ack_wait_secs: u64,
    /// Deliveries before a failing message goes to the DLQ.
    pub max_deliver: i64,
    /// First retry delay in milliseconds; doubles on each attempt.
    pub backoff_base_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Inputs larger than this many bytes are dead-lettered unread
    /// (`too_large`); above anything the fetch stage's body cap produces.
    pub max_input_bytes: usize,
    /// While a dependency is down (database, NATS for outputs), a message
    /// is held and retried in place, without spending its deliveries, for
    /// at most this many seconds; then the usual retries resume.
    pub outage_max_secs: u64,
    /// A message its stage defers (a busy host, under the politeness
    /// rules) is set aside and handed over again without spending its
    /// deliveries, for at most this many seconds in all; then it is NAKed
    /// like a retry.
    pub defer_max_secs: u64,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            max_in_flight: 16,
            max_ack_pending: 256,
            ack_wait_secs: 30,
            max_deliver: 5,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            outage_max_secs: 600,
            defer_max_secs: 3_600,
            max_input_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ConsumerSettings {
    /// Delay before the next attempt after `delivered` failed ones.
    pub fn backoff(&self, delivered: u64) -> std::time::Duration {
        let exp = delivered.saturating_sub(1).min(20) as u32;
        let ms = self
            .backoff_base_ms
            .saturating_mul(1u64 << exp)
            .min(self.backoff_max_ms);
        std::time::Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_and_caps() {
        let s = ConsumerSettings {
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            ..Default::default()
        };
        assert_eq!(s.backoff(1), Duration::from_millis(100));
        assert_eq!(s.backoff(2), Duration::from_millis(200));
        assert_eq!(s.backoff(4), Duration::from_millis(800));
        assert_eq!(s.backoff(5), Duration::from_millis(1_000));
        assert_eq!(s.backoff(500), Duration::from_millis(1_000));
    }
}
