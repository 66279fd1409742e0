use std::net::IpAddr;
use std::time::Duration;

use newsflow_core::StageError;

use crate::AddrClass;

/// Which deadline ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Establishing the connection.
    Connect,
    /// Waiting for the response headers.
    FirstByte,
    /// The whole fetch, body included.
    Total,
}

impl TimeoutPhase {
    fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::FirstByte => "first byte",
            Self::Total => "total",
        }
    }
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a fetch failed. Each variant is something a caller acts on
/// differently; [`FetchError::into_stage_error`] says which are worth a retry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The URL (or a redirect target) is not a fetchable http(s) URL.
    #[error("bad url `{url}`: {reason}")]
    BadUrl {
        /// The URL (truncated).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The SSRF guard refused the target.
    #[error("refused to connect to {host}: {addr} is a {class} address")]
    SsrfRefused {
        /// Host as written in the URL.
        host: String,
        /// The address that was refused.
        addr: IpAddr,
        /// Its class.
        class: AddrClass,
    },
    /// The host name does not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Dns {
        /// Host name.
        host: String,
        /// Resolver message.
        reason: String,
    },
    /// Connection refused, reset, TLS failure, or the transfer broke off.
    #[error("connection error: {0}")]
    Connect(String),
    /// A deadline ran out.
    #[error("{phase} timeout after {after:?}")]
    Timeout {
        /// Which one.
        phase: TimeoutPhase,
        /// Its length.
        after: Duration,
    },
    /// The final response had a status other than 2xx.
    #[error("HTTP {status}")]
    Status {
        /// Status code.
        status: u16,
        /// `Retry-After` of a 429 or 503, when given.
        retry_after: Option<Duration>,
    },
    /// The body is not HTML and the configuration does not accept others.
    #[error("not HTML: content type {}", content_type.as_deref().unwrap_or("missing and body does not look like HTML"))]
    NotHtml {
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
    },
    /// The body exceeds `max_body_bytes` (after content decoding).
    #[error("body larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// More redirects than `max_redirects`, or a redirect back to a URL
    /// already visited.
    #[error("{reason}")]
    TooManyRedirects {
        /// Which of the two, with the URL.
        reason: String,
    },
    /// A redirect without a usable `Location`.
    #[error("bad redirect from {from}: {reason}")]
    BadRedirect {
        /// The URL that answered with the redirect.
        from: String,
        /// What is wrong.
        reason: String,
    },
    /// The body could not be decoded (broken gzip/brotli/zstd stream).
    #[error("cannot decode body: {0}")]
    Decode(String),
    /// The server closed the connection (or it broke) before the whole body
    /// arrived.
    #[error("body cut off: {0}")]
    Interrupted(String),
    /// robots.txt of the host forbids this URL to our user agent.
    #[error("robots.txt disallows {url}")]
    RobotsDisallowed {
        /// The URL refused (a redirect hop, possibly).
        url: String,
    },
    /// robots.txt could not be read (5xx, 429, timeout, connection
    /// failure): RFC 9309 says to assume everything is disallowed until it
    /// can be read, so the request is retried later.
    #[error("robots.txt of {origin} is unavailable: {reason}")]
    RobotsUnavailable {
        /// `scheme://host:port`.
        origin: String,
        /// What went wrong.
        reason: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// The host is not due for another request yet (per-host delay or
    /// concurrency, shared across replicas), and waiting here would take
    /// longer than `host_max_wait_ms`.
    #[error("{origin} is busy; next request allowed in {retry_after:?}")]
    HostBusy {
        /// `scheme://host:port`.
        origin: String,
        /// How long until it is likely allowed.
        retry_after: Duration,
    },
    /// The shared politeness store (JetStream KV) cannot be reached; the
    /// fetch is postponed rather than made without the per-host limits.
    #[error("politeness store unavailable: {0}")]
    Store(String),
    /// The configuration is unusable.
    #[error("bad fetch configuration: {0}")]
    Config(String),
}

impl FetchError {
    /// The machine-readable code used in the DLQ record and logs.
    pub fn kind(&self) -> String {
        match self {
            Self::BadUrl { .. } => "bad_url".into(),
            Self::SsrfRefused { .. } => "ssrf_refused".into(),
            Self::Dns { .. } => "dns".into(),
            Self::Connect(_) => "connect".into(),
            Self::Timeout { .. } => "timeout".into(),
            Self::Status { status, .. } => format!("http_{status}"),
            Self::NotHtml { .. } => "not_html".into(),
            Self::TooLarge { .. } => "too_large".into(),
            Self::TooManyRedirects { .. } => "too_many_redirects".into(),
            Self::BadRedirect { .. } => "bad_redirect".into(),
            Self::Decode(_) => "bad_content_encoding".into(),
            Self::Interrupted(_) => "interrupted".into(),
            Self::RobotsDisallowed { .. } => "robots_disallowed".into(),
            Self::RobotsUnavailable { .. } => "robots_unavailable".into(),
            Self::HostBusy { .. } => "host_busy".into(),
            Self::Store(_) => "kv_unavailable".into(),
            Self::Config(_) => "config".into(),
        }
    }

    /// Whether the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Dns { .. }
            | Self::Connect(_)
            | Self::Timeout { .. }
            | Self::Interrupted(_)
            | Self::RobotsUnavailable { .. }
            | Self::HostBusy { .. }
            | Self::Store(_) => true,
            Self::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }

    /// The least delay before a retry, when the failure says so: the
    /// server's `Retry-After`, or the time until the host is due.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            Self::RobotsUnavailable { retry_after, .. } | Self::HostBusy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// Classify for the bus: transient failures are retried (with the
    /// server's `Retry-After` as the minimum delay), the rest go to the DLQ.
    pub fn into_stage_error(self) -> StageError {
        let kind = self.kind();
        let reason = self.to_string();
        // Not a failure: the page is fetched once the host is free, and
        // waiting for that must not use up the message's attempts.
        if let Self::HostBusy { retry_after, .. } = self {
            return StageError::defer(kind, reason, retry_after);
        }
        if self.is_transient() {
            let after = self.retry_after();
            StageError::Retry {
                kind,
                reason,
                after,
            }
        } else {
            StageError::Reject { kind, reason }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let retry = |e: FetchError| match e.into_stage_error() {
            StageError::Retry { kind, after, .. } => (kind, after),
            other => panic!("expected retry, got {other:?}"),
        };
        let reject = |e: FetchError| match e.into_stage_error() {
            StageError::Reject { kind, .. } => kind,
            other => panic!("expected reject, got {other:?}"),
        };
        let status = |status, retry_after| FetchError::Status {
            status,
            retry_after,
        };
        assert_eq!(
            retry(status(503, Some(Duration::from_secs(7)))),
            ("http_503".into(), Some(Duration::from_secs(7)))
        );
        assert_eq!(retry(status(429, None)), ("http_429".into(), None));
        assert_eq!(retry(status(408, None)).0, "http_408");
        assert_eq!(retry(status(500, None)).0, "http_500");
        assert_eq!(
            retry(FetchError::Timeout {
                phase: TimeoutPhase::Total,
                after: Duration::from_secs(1)
            })
            .0,
            "timeout"
        );
        assert_eq!(retry(FetchError::Connect("reset".into())).0, "connect");
        assert_eq!(
            FetchError::HostBusy {
                origin: "http://a".into(),
                retry_after: Duration::from_secs(3)
            }
            .into_stage_error(),
            StageError::defer(
                "host_busy",
                "http://a is busy; next request allowed in 3s",
                Duration::from_secs(3)
            )
        );
        assert_eq!(reject(status(404, None)), "http_404");
        assert_eq!(reject(status(410, None)), "http_410");
        assert_eq!(reject(status(403, None)), "http_403");
        assert_eq!(reject(FetchError::TooLarge { limit: 1 }), "too_large");
        assert_eq!(
            reject(FetchError::NotHtml { content_type: None }),
            "not_html"
        );
        assert_eq!(
            reject(FetchError::TooManyRedirects {
                reason: "loop".into()
            }),
            "too_many_redirects"
        );
        assert_eq!(
            reject(FetchError::SsrfRefused {
                host: "x".into(),
                addr: "10.0.0.1".parse().unwrap(),
                class: AddrClass::Private
            }),
            "ssrf_refused"
        );
        assert_eq!(
            reject(FetchError::BadUrl {
                url: "x".into(),
                reason: "y".into()
            }),
            "bad_url"
        );
    }
}
