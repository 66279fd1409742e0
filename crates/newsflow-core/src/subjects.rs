//! Subject and stream names. The bus creates the streams; everything else
//! only names them through these constants.

/// URLs to fetch (bare URL or `{"url","tags","force"}`).
pub const URLS: &str = "newsflow.urls";
/// Fetched pages.
pub const FETCHED: &str = "newsflow.fetched";
/// Parsed articles.
pub const PARSED: &str = "newsflow.parsed";
/// Enriched articles: the pipeline's output.
pub const ENRICHED: &str = "newsflow.enriched";
/// Prefix of the dead-letter subjects, one per stage.
pub const DLQ_PREFIX: &str = "newsflow.dlq";

/// Stream holding [`URLS`].
pub const STREAM_URLS: &str = "NEWSFLOW_URLS";
/// Stream holding [`FETCHED`].
pub const STREAM_FETCHED: &str = "NEWSFLOW_FETCHED";
/// Stream holding [`PARSED`].
pub const STREAM_PARSED: &str = "NEWSFLOW_PARSED";
/// Stream holding [`ENRICHED`].
pub const STREAM_ENRICHED: &str = "NEWSFLOW_ENRICHED";
/// Stream holding every `newsflow.dlq.<stage>` subject.
pub const STREAM_DLQ: &str = "NEWSFLOW_DLQ";

/// Object-store bucket for payloads too large for one NATS message.
pub const BLOB_BUCKET: &str = "newsflow-blobs";

/// The DLQ subject of a stage.
pub fn dlq(stage: &str) -> String {
    format!("{DLQ_PREFIX}.{stage}")
}

/// The stream that carries `subject`.
pub fn stream_for(subject: &str) -> Option<&'static str> {
    match subject {
        URLS => Some(STREAM_URLS),
        FETCHED => Some(STREAM_FETCHED),
        PARSED => Some(STREAM_PARSED),
        ENRICHED => Some(STREAM_ENRICHED),
        s if s.starts_with(DLQ_PREFIX) => Some(STREAM_DLQ),
        _ => None,
    }
}
