use std::sync::Arc;
use std::time::Duration;

use newsflow_core::{
    CharsetSource, Envelope, Fetched, Stage, StageError, UrlRequest, article_id, normalize_url,
};
use tokio::time::Instant;
use url::Url;

use crate::fetcher::{Hop, PageResult, Trace};
use crate::kv::{HOSTS_BUCKET_MAX_AGE, KvStore, MemoryKv};
use crate::polite::Politeness;
use crate::seen::{SeenRecord, SeenStore, now_ms};
use crate::{FetchConfig, FetchError, FetchOutcome, Fetcher, metrics};

/// The fetch stage: a [`Fetcher`] behind politeness (robots.txt, per-host
/// schedule and concurrency, global concurrency) and the "seen" record.
///
/// What one `newsflow.urls` message becomes:
/// - a `fetched` event;
/// - nothing (the message is acknowledged) when the URL was fetched less
///   than `skip_seen_secs` ago and the request does not say `force`, or
///   when a conditional refetch answers 304 Not Modified; both are logged
///   and counted in `newsflow_fetch_outcomes_total`;
/// - a retry ([`StageError::Retry`], with `after` when the host or its
///   robots.txt say when) or a refusal for the DLQ ([`StageError::Reject`]
///   with a precise kind: `robots_disallowed`, `ssrf_refused`, `not_html`,
///   `too_large`, `http_404`, …).
pub struct Fetch {
    fetcher: Fetcher,
    politeness: Politeness,
    seen: SeenStore,
    skip_seen: Duration,
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch")
            .field("config", self.fetcher.config())
            .finish_non_exhaustive()
    }
}

/// What the stage did with one request.
#[derive(Debug)]
pub(crate) enum Handled {
    Fetched(Box<FetchOutcome>),
    SkippedSeen { age: Duration },
    NotModified { final_url: String },
}

impl Fetch {
    /// The stage with in-process stores: politeness and the seen record
    /// hold within this process only. For one replica, the one-shot
    /// command and tests; services sharing a host set use [`Fetch::with_kv`].
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        let retention = Duration::from_secs(config.seen_retention_secs.max(1));
        Self::with_kv(
            config,
            Arc::new(MemoryKv::new(retention)),
            Arc::new(MemoryKv::new(HOSTS_BUCKET_MAX_AGE)),
        )
    }

    /// The stage with shared stores: `seen` holds the per-URL records
    /// (bucket [`crate::SEEN_BUCKET`], max age `seen_retention_secs`),
    /// `hosts` the per-host schedule (bucket [`crate::HOSTS_BUCKET`]).
    /// Every replica given the same buckets keeps the per-host delay
    /// together.
    pub fn with_kv(
        config: FetchConfig,
        seen: Arc<dyn KvStore>,
        hosts: Arc<dyn KvStore>,
    ) -> Result<Self, FetchError> {
        let politeness = Politeness::new(&config, hosts);
        let skip_seen = Duration::from_secs(config.skip_seen_secs);
        Ok(Self {
            fetcher: Fetcher::new(config)?,
            politeness,
            seen: SeenStore::new(seen),
            skip_seen,
        })
    }

    /// The underlying fetcher.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    pub(crate) async fn process(
        &self,
        request: &UrlRequest,
        trace_id: &str,
        trace: &mut Trace,
    ) -> Result<Handled, FetchError> {
        let normalized = normalize_url(&request.url).map_err(|e| FetchError::BadUrl {
            url: request.url.chars().take(200).collect(),
            reason: e.to_string(),
        })?;
        let id = article_id(&normalized);
        // A record written by this very request (a redelivery after its
        // outputs failed to store) must not stop it.
        let record = self.seen.get(&id).await.filter(|r| r.trace_id != trace_id);
        if !request.force
            && !self.skip_seen.is_zero()
            && let Some(r) = &record
            && r.age() < self.skip_seen
        {
            return Ok(Handled::SkippedSeen { age: r.age() });
        }
        // `force` asks for a fresh copy, so no validators then.
        let validators = record
            .as_ref()
            .filter(|_| !request.force)
            .and_then(SeenRecord::validators);
        // The message's identity across redeliveries: a slot reserved for
        // it while it waits in the queue is found again when it returns.
        let ticket = format!("{trace_id}.{id}");
        let gate = self.politeness.gate(&self.fetcher, Some(&ticket));
        match self
            .fetcher
            .fetch_page(&request.url, &gate, validators.as_ref(), trace)
            .await?
        {
            PageResult::Page(outcome) => {
                let record = SeenRecord {
                    fetched_at_ms: now_ms(),
                    trace_id: trace_id.to_string(),
                    final_url: outcome.final_url.clone(),
                    etag: outcome.etag.clone(),
                    last_modified: outcome.last_modified.clone(),
                };
                self.seen.put(&id, &record).await;
                Ok(Handled::Fetched(outcome))
            }
            PageResult::NotModified { final_url } => {
                if let Some(mut r) = record {
                    r.fetched_at_ms = now_ms();
                    r.trace_id = trace_id.to_string();
                    self.seen.put(&id, &r).await;
                }
                Ok(Handled::NotModified { final_url })
            }
        }
    }
}

impl Stage for Fetch {
    type In = UrlRequest;
    type Out = Fetched;
    const NAME: &'static str = "fetch";

    async fn handle(
        &self,
        input: Envelope<UrlRequest>,
    ) -> Result<Vec<Envelope<Fetched>>, StageError> {
        let started = Instant::now();
        let mut trace = Trace::default();
        let result = self.process(&input.data, &input.trace_id, &mut trace).await;
        let elapsed = started.elapsed();
        match result {
            Ok(Handled::Fetched(outcome)) => {
                metrics::outcome("fetched", "none", elapsed);
                let fetched = outcome.into_fetched(input.data.tags.clone());
                Ok(vec![input.follow(fetched)])
            }
            Ok(Handled::SkippedSeen { age }) => {
                tracing::info!(url = %input.data.url, age_secs = age.as_secs(), "fetched recently; skipped (send force to refetch)");
                metrics::outcome("skipped_seen", "none", elapsed);
                Ok(Vec::new())
            }
            Ok(Handled::NotModified { final_url }) => {
                tracing::info!(url = %input.data.url, %final_url, "not modified since the last fetch; no new event");
                metrics::outcome("not_modified", "none", elapsed);
                Ok(Vec::new())
            }
            Err(error) => {
                let kind = error.kind();
                if error.is_transient() {
                    metrics::outcome("retry", &kind, elapsed);
                } else {
                    metrics::outcome("rejected", &kind, elapsed);
                    let url = Url::parse(&input.data.url).ok();
                    metrics::refusal(url.as_ref(), &kind);
                }
                Err(error.into_stage_error())
            }
        }
    }
}

/// What `newsflow fetch URL` prints: one fetch, through the same guard,
/// limits and robots.txt as the stage, described in one JSON object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FetchReport {
    /// Whether a page was fetched.
    pub ok: bool,
    /// The URL as given.
    pub url: String,
    /// The last URL requested (the page's URL on success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// URLs that redirected, in order, before `final_url`.
    pub redirects: Vec<String>,
    /// Every request made for the page, with its status.
    pub hops: Vec<Hop>,
    /// Status of the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Content-Type` of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Encoding the page was decoded with (WHATWG name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// Where that encoding came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset_source: Option<CharsetSource>,
    /// `Content-Length` the server announced (compressed size when the
    /// body was compressed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// Body bytes after content decoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// Bytes of the decoded text (UTF-8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_bytes: Option<u64>,
    /// `ETag` of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Whole time, robots.txt and politeness included, in milliseconds.
    pub elapsed_ms: u64,
    /// Part of it spent on politeness: reading robots.txt and waiting for
    /// the host's turn.
    pub waited_ms: u64,
    /// Why there is no page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
}

/// The failure part of a [`FetchReport`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportError {
    /// Machine-readable kind, as in DLQ records (`ssrf_refused`,
    /// `robots_disallowed`, `timeout`, `http_503`, …).
    pub kind: String,
    /// What happened.
    pub message: String,
    /// Whether the stage would retry it.
    pub retryable: bool,
    /// Least delay before that retry, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Fetch `url` once as the stage would (SSRF guard with `config.allow`,
/// robots.txt when `respect_robots`, limits, charset), ignoring the seen
/// record, and describe the result. The caller prints it as JSON and exits
/// non-zero when `ok` is false.
pub async fn fetch_once(config: FetchConfig, url: &str) -> FetchReport {
    let started = Instant::now();
    let mut trace = Trace::default();
    let result = match Fetch::new(config) {
        Ok(stage) => {
            let request = UrlRequest {
                url: url.to_string(),
                tags: Vec::new(),
                force: true,
            };
            stage.process(&request, "fetch-once", &mut trace).await
        }
        Err(e) => Err(e),
    };
    let mut report = FetchReport {
        ok: false,
        url: url.to_string(),
        final_url: trace.hops.last().map(|h| h.url.clone()),
        redirects: trace
            .hops
            .iter()
            .take(trace.hops.len().saturating_sub(1))
            .map(|h| h.url.clone())
            .collect(),
        status: trace.hops.last().and_then(|h| h.status),
        hops: trace.hops,
        content_type: None,
        charset: None,
        charset_source: None,
        content_length: trace.content_length,
        body_bytes: None,
        text_bytes: None,
        etag: None,
        last_modified: None,
        elapsed_ms: millis(started.elapsed()),
        waited_ms: millis(trace.waited),
        error: None,
    };
    match result {
        Ok(Handled::Fetched(o)) => {
            report.ok = true;
            report.final_url = Some(o.final_url.clone());
            report.redirects = o.redirects.clone();
            report.status = Some(o.status);
            report.charset = Some(o.charset().to_string());
            report.charset_source = Some(o.charset_source);
            report.body_bytes = Some(o.body.len() as u64);
            report.text_bytes = Some(o.html.len() as u64);
            report.content_type = o.content_type;
            report.etag = o.etag;
            report.last_modified = o.last_modified;
        }
        // Neither happens without a seen record, which a one-shot fetch
        // does not have; report them plainly all the same.
        Ok(Handled::NotModified { final_url }) => {
            report.ok = true;
            report.final_url = Some(final_url);
        }
        Ok(Handled::SkippedSeen { .. }) => report.ok = true,
        Err(e) => {
            report.error = Some(ReportError {
                kind: e.kind(),
                message: e.to_string(),
                retryable: e.is_transient(),
                retry_after_ms: e.retry_after().map(millis),
            });
        }
    }
    report
}
