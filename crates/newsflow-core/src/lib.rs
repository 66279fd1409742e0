//! The wire contract of newsflow: event types, subjects, the article id and
//! the error classification every stage returns.
//!
//! This crate is the only place that defines what crosses the bus. It does no
//! IO and knows nothing of NATS or tokio: the bus crate moves bytes, the
//! stage crates produce and consume the types defined here.

mod article;
pub mod base64;
mod error;
mod event;
mod ids;
pub mod subjects;

pub use article::{
    Article, DateMention, Enrichment, Entity, EntityLabel, Geo, Keyword, PlaceKind, Quote, Tone,
};
pub use error::{DecodeError, StageError};
pub use event::{
    CharsetSource, DlqRecord, Enriched, Envelope, Event, Fetched, NoOutput, Parsed, SCHEMA_VERSION,
    UrlRequest,
};
pub use ids::{UrlError, article_id, normalize_url, short_hash};

use std::future::Future;

/// One stage of the pipeline: turns one input event into zero or more output
/// events.
///
/// Implementations hold no transport: `newsflow-bus` decodes the message,
/// calls `handle`, publishes what it returns and only then acknowledges the
/// input. The `Send` bound on the future lets the bus run many messages
/// concurrently on a multi-threaded runtime.
pub trait Stage: Send + Sync + 'static {
    /// Event consumed.
    type In: Event;
    /// Event produced.
    type Out: Event;
    /// Stage name: the durable consumer name and the DLQ subject suffix.
    const NAME: &'static str;

    /// Process one event.
    fn handle(
        &self,
        input: Envelope<Self::In>,
    ) -> impl Future<Output = Result<Vec<Envelope<Self::Out>>, StageError>> + Send;
}
