/// Failures of the transport itself. Every message names the fix where
/// there is one.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Cannot reach the server.
    #[error(
        "cannot connect to NATS at {url}: {reason}. Start a server (`newsflow up` starts one) or point --nats / NATS_URL at a running one"
    )]
    Connect {
        /// Server URL.
        url: String,
        /// Client message.
        reason: String,
    },
    /// A setting no server can work with (fix the configuration).
    #[error("bad NATS setting: {0}")]
    Config(String),
    /// Creating or reading streams, consumers or buckets failed.
    #[error("JetStream setup failed: {0}. Is JetStream enabled on the server (`nats-server -js`)?")]
    Topology(String),
    /// A publish was not acknowledged.
    #[error("publish to {subject} failed: {reason}")]
    Publish {
        /// Subject.
        subject: String,
        /// Client message.
        reason: String,
    },
    /// Reading messages failed.
    #[error("consuming failed: {0}")]
    Consume(String),
    /// A claim-checked payload could not be stored or read.
    #[error("object store: {0}")]
    Blob(String),
}
