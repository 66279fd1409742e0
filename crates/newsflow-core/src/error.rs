use std::time::Duration;

/// How a stage failed, which decides what the bus does with the message.
///
/// `Retry` is transient (the same input may succeed later): the message is
/// NAKed with a backoff. `Reject` is permanent (poison input, a refusal by
/// policy): retrying would loop forever, so the message is terminated and
/// published to the DLQ with the reason. `Unavailable` says a dependency
/// is down (the database, the server outputs go to): the input is fine, so
/// the bus holds it and tries again in place, without spending its
/// delivery attempts, until the dependency is back. `Defer` is no failure
/// at all: the input cannot be handled *yet* (its host is busy under the
/// politeness rules), so the bus sets it aside for `after`, freeing its
/// slot for other messages, and hands it over again, without spending a
/// delivery attempt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StageError {
    /// Transient failure; try again later.
    #[error("{kind}: {reason}")]
    Retry {
        /// Short machine-readable code, e.g. `http_503`, `timeout`.
        kind: String,
        /// Human-readable detail.
        reason: String,
        /// Minimum delay before the retry, when the failure says so (Retry-After).
        after: Option<Duration>,
    },
    /// A dependency is down; try again when it is back.
    #[error("{kind}: {reason}")]
    Unavailable {
        /// Short machine-readable code, e.g. `db`.
        kind: String,
        /// Human-readable detail.
        reason: String,
    },
    /// Not now: try again after `after`, which is not an attempt.
    #[error("{kind}: {reason}")]
    Defer {
        /// Short machine-readable code, e.g. `host_busy`.
        kind: String,
        /// Human-readable detail.
        reason: String,
        /// When to try again.
        after: Duration,
    },
    /// Permanent failure; goes to the DLQ.
    #[error("{kind}: {reason}")]
    Reject {
        /// Short machine-readable code, e.g. `http_404`, `ssrf_refused`, `not_html`.
        kind: String,
        /// Human-readable detail.
        reason: String,
    },
}

impl StageError {
    /// A transient failure.
    pub fn retry(kind: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Retry {
            kind: kind.into(),
            reason: reason.into(),
            after: None,
        }
    }

    /// A dependency is down.
    pub fn unavailable(kind: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Unavailable {
            kind: kind.into(),
            reason: reason.into(),
        }
    }

    /// Not now; again after `after`.
    pub fn defer(kind: impl Into<String>, reason: impl Into<String>, after: Duration) -> Self {
        Self::Defer {
            kind: kind.into(),
            reason: reason.into(),
            after,
        }
    }

    /// A permanent failure.
    pub fn reject(kind: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Reject {
            kind: kind.into(),
            reason: reason.into(),
        }
    }

    /// The machine-readable code.
    pub fn kind(&self) -> &str {
        match self {
            Self::Retry { kind, .. }
            | Self::Unavailable { kind, .. }
            | Self::Defer { kind, .. }
            | Self::Reject { kind, .. } => kind,
        }
    }

    /// The human-readable detail.
    pub fn reason(&self) -> &str {
        match self {
            Self::Retry { reason, .. }
            | Self::Unavailable { reason, .. }
            | Self::Defer { reason, .. }
            | Self::Reject { reason, .. } => reason,
        }
    }
}

/// Why a payload could not be turned into an event. Always poison: the same
/// bytes will never decode, so the bus sends them to the DLQ at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Not valid UTF-8 where text was required.
    #[error("payload is not valid UTF-8")]
    NotUtf8,
    /// Empty payload.
    #[error("payload is empty")]
    Empty,
    /// Not JSON of the expected shape.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// An event of another type was published on this subject.
    #[error("wrong event type: expected {expected}, got {got}")]
    WrongType {
        /// The type this subject carries.
        expected: &'static str,
        /// The type found.
        got: String,
    },
    /// A schema version this build does not understand.
    #[error("unsupported schema version {got} for {kind} (this build reads version {supported})")]
    WrongVersion {
        /// Event type.
        kind: &'static str,
        /// Version found.
        got: u32,
        /// Version supported.
        supported: u32,
    },
    /// The URL is unusable.
    #[error("bad url: {0}")]
    BadUrl(#[from] crate::UrlError),
}

impl DecodeError {
    /// Machine-readable code for the DLQ record.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotUtf8 => "not_utf8",
            Self::Empty => "empty_payload",
            Self::Malformed(_) => "malformed",
            Self::WrongType { .. } => "wrong_type",
            Self::WrongVersion { .. } => "wrong_version",
            Self::BadUrl(_) => "bad_url",
        }
    }
}
