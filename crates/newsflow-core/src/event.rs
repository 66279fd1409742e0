use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Article, DecodeError, Enrichment, article_id, normalize_url, subjects};

/// Version of the event schemas in `schemas/`. Bumped on any breaking
/// change; readers refuse versions they do not know rather than guess.
pub const SCHEMA_VERSION: u32 = 1;

/// A payload type that travels on one subject.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The `type` field of the envelope, e.g. `"fetched"`.
    const KIND: &'static str;
    /// The subject it is published on.
    const SUBJECT: &'static str;
    /// Largest payload that can be a valid event of this type, when much
    /// smaller than the bus's general cap: larger ones are refused unread.
    const MAX_BYTES: Option<usize> = None;

    /// Decode a message payload. The default is strict: a JSON envelope of
    /// this type and version. `fallback_trace_id` is used by inputs that may
    /// arrive without one (bare URLs); it must be stable across redeliveries.
    fn decode(payload: &[u8], fallback_trace_id: &str) -> Result<Envelope<Self>, DecodeError> {
        let _ = fallback_trace_id;
        decode_strict(payload)
    }
}

/// The JSON envelope every event travels in:
/// `{"type","version","article_id","trace_id","time","data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    /// Event type (`Event::KIND`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Schema version.
    pub version: u32,
    /// Id of the article, from its normalised URL.
    pub article_id: String,
    /// Follows one request through every stage.
    pub trace_id: String,
    /// When the event was produced.
    pub time: DateTime<Utc>,
    /// The payload.
    pub data: T,
}

impl<T: Event> Envelope<T> {
    /// A new event of type `T`, stamped now.
    pub fn new(article_id: impl Into<String>, trace_id: impl Into<String>, data: T) -> Self {
        Self {
            kind: T::KIND.to_string(),
            version: SCHEMA_VERSION,
            article_id: article_id.into(),
            trace_id: trace_id.into(),
            time: Utc::now(),
            data,
        }
    }

    /// The next event of the same article and trace.
    pub fn follow<U: Event>(&self, data: U) -> Envelope<U> {
        Envelope::new(self.article_id.clone(), self.trace_id.clone(), data)
    }

    /// Serialise to the wire format.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising these plain structs cannot fail: no maps with
        // non-string keys, no custom serialisers that error.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "type")]
    kind: String,
    version: u32,
}

fn decode_strict<T: Event>(payload: &[u8]) -> Result<Envelope<T>, DecodeError> {
    if payload.is_empty() {
        return Err(DecodeError::Empty);
    }
    let header: Header =
        serde_json::from_slice(payload).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if header.kind != T::KIND {
        return Err(DecodeError::WrongType {
            expected: T::KIND,
            got: truncate(&header.kind),
        });
    }
    if header.version != SCHEMA_VERSION {
        return Err(DecodeError::WrongVersion {
            kind: T::KIND,
            got: header.version,
            supported: SCHEMA_VERSION,
        });
    }
    serde_json::from_slice(payload).map_err(|e| DecodeError::Malformed(e.to_string()))
}

fn truncate(s: &str) -> String {
    s.chars().take(100).collect()
}

/// A request to fetch one URL: the input of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlRequest {
    /// The URL as given (its normalised form makes the article id).
    pub url: String,
    /// Free labels carried to the stored article.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Fetch even if the URL was fetched recently.
    #[serde(default)]
    pub force: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlRequestInput {
    url: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    trace_id: Option<String>,
}

impl Event for UrlRequest {
    const KIND: &'static str = "url";
    const SUBJECT: &'static str = subjects::URLS;
    /// A URL with its tags: anything near this size is not a request.
    const MAX_BYTES: Option<usize> = Some(64 * 1024);

    /// Forgiving input: a bare URL as the whole payload, a JSON object
    /// `{"url","tags","force"}` (optionally with `trace_id`), or a full envelope.
    fn decode(payload: &[u8], fallback_trace_id: &str) -> Result<Envelope<Self>, DecodeError> {
        let text = std::str::from_utf8(payload)
            .map_err(|_| DecodeError::NotUtf8)?
            .trim();
        if text.is_empty() {
            return Err(DecodeError::Empty);
        }
        let (request, trace_id) = if text.starts_with('{') {
            if text.contains("\"data\"") && text.contains("\"type\"") {
                let env: Envelope<UrlRequest> = decode_strict(text.as_bytes())?;
                (env.data, Some(env.trace_id))
            } else {
                let input: UrlRequestInput = serde_json::from_str(text)
                    .map_err(|e| DecodeError::Malformed(e.to_string()))?;
                let request = UrlRequest {
                    url: input.url,
                    tags: input.tags,
                    force: input.force,
                };
                (request, input.trace_id)
            }
        } else if text.contains(char::is_whitespace) {
            return Err(DecodeError::Malformed(
                "a bare-URL payload must be one URL with no spaces; send JSON for more".into(),
            ));
        } else {
            (
                UrlRequest {
                    url: text.to_string(),
                    tags: Vec::new(),
                    force: false,
                },
                None,
            )
        };
        let normalized = normalize_url(&request.url)?;
        let id = article_id(&normalized);
        let trace_id = trace_id.unwrap_or_else(|| fallback_trace_id.to_string());
        Ok(Envelope::new(id, trace_id, request))
    }
}

/// How the charset of a page was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharsetSource {
    /// A byte-order mark.
    Bom,
    /// The `Content-Type` header.
    Header,
    /// `<meta charset>` or `<meta http-equiv>` in the first bytes.
    Meta,
    /// Statistical detection.
    Detected,
}

/// A fetched page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetched {
    /// The URL as requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// Every hop before `final_url`, in order.
    #[serde(default)]
    pub redirects: Vec<String>,
    /// HTTP status of the final response.
    pub status: u16,
    /// `Content-Type` of the final response.
    pub content_type: Option<String>,
    /// Encoding used to decode the body (WHATWG name).
    pub charset: String,
    /// Where that encoding came from.
    pub charset_source: CharsetSource,
    /// Body size on the wire after content decoding, in bytes.
    pub bytes: u64,
    /// Time from request to last body byte, in milliseconds.
    pub elapsed_ms: u64,
    /// When the fetch ended.
    pub fetched_at: DateTime<Utc>,
    /// `ETag` of the response, for conditional refetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Tags of the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The decoded page.
    pub html: String,
}

impl Event for Fetched {
    const KIND: &'static str = "fetched";
    const SUBJECT: &'static str = subjects::FETCHED;
}

/// A parsed article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parsed {
    /// The article.
    pub article: Article,
}

impl Event for Parsed {
    const KIND: &'static str = "parsed";
    const SUBJECT: &'static str = subjects::PARSED;
}

/// An enriched article: the pipeline's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enriched {
    /// The article as parsed.
    pub article: Article,
    /// What enrichment found in it.
    pub enrichment: Enrichment,
}

impl Event for Enriched {
    const KIND: &'static str = "enriched";
    const SUBJECT: &'static str = subjects::ENRICHED;
}

/// A message a stage gave up on, published to `newsflow.dlq.<stage>`.
///
/// The original payload is kept whole so `newsflow dlq replay` can publish it
/// again after a fix: as text when it is UTF-8, else base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlqRecord {
    /// Stage that gave up.
    pub stage: String,
    /// Subject the message arrived on.
    pub subject: String,
    /// Stream sequence of the original message.
    pub stream_sequence: u64,
    /// Machine-readable error code.
    pub error_kind: String,
    /// Human-readable reason.
    pub message: String,
    /// Deliveries attempted.
    pub attempts: u64,
    /// When the stage gave up.
    pub time: DateTime<Utc>,
    /// Article id, when the payload got far enough to have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    /// Trace id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The original payload, when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// The original payload in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_base64: Option<String>,
}

impl Event for DlqRecord {
    const KIND: &'static str = "dlq";
    const SUBJECT: &'static str = subjects::DLQ_PREFIX;
}

/// The output type of a sink stage (the store), which publishes nothing.
/// It has no values, so a sink's `handle` can only return an empty list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NoOutput {}

impl Event for NoOutput {
    const KIND: &'static str = "none";
    const SUBJECT: &'static str = "";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_url_is_accepted() {
        let env = UrlRequest::decode(b"  http://news.abamako.com/h/300961.html\n", "t1").unwrap();
        assert_eq!(env.data.url, "http://news.abamako.com/h/300961.html");
        assert_eq!(env.trace_id, "t1");
        assert_eq!(env.article_id.len(), 16);
        assert_eq!(env.kind, "url");
    }

    #[test]
    fn json_request_is_accepted() {
        let env = UrlRequest::decode(
            br#"{"url":"https://x.org/a?utm_source=z","tags":["sahel"],"force":true,"trace_id":"abc"}"#,
            "t1",
        )
        .unwrap();
        assert_eq!(env.data.tags, vec!["sahel"]);
        assert!(env.data.force);
        assert_eq!(env.trace_id, "abc");
        let bare = UrlRequest::decode(b"https://x.org/a", "t").unwrap();
        assert_eq!(env.article_id, bare.article_id);
    }

    #[test]
    fn bad_requests_are_poison() {
        assert_eq!(
            UrlRequest::decode(b"", "t").unwrap_err(),
            DecodeError::Empty
        );
        assert_eq!(
            UrlRequest::decode(&[0xff, 0xfe, 0x00], "t").unwrap_err(),
            DecodeError::NotUtf8
        );
        assert!(matches!(
            UrlRequest::decode(b"{\"uri\":1}", "t"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            UrlRequest::decode(b"gopher://x", "t"),
            Err(DecodeError::BadUrl(_))
        ));
        assert!(matches!(
            UrlRequest::decode(b"two urls here", "t"),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn strict_decode_checks_type_and_version() {
        let env = Envelope::new(
            "id",
            "tr",
            Parsed {
                article: Article::default(),
            },
        );
        let bytes = env.to_bytes();
        assert_eq!(Parsed::decode(&bytes, "x").unwrap(), env);
        assert!(matches!(
            Fetched::decode(&bytes, "x"),
            Err(DecodeError::WrongType { .. })
        ));
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value["version"] = 99.into();
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            Parsed::decode(&bytes, "x"),
            Err(DecodeError::WrongVersion { got: 99, .. })
        ));
    }
}
