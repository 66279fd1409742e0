use std::collections::HashSet;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use futures::future::BoxFuture;
use newsflow_core::{CharsetSource, Fetched, normalize_url};
use reqwest::header::{self, HeaderMap};
use reqwest::{StatusCode, redirect};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, timeout_at};
use url::Url;

use crate::error::TimeoutPhase;
use crate::guard::{Allow, DnsFailure, GuardedResolver, Overrides, SsrfRefusal};
use crate::metrics;
use crate::{FetchConfig, FetchError, decode_html, sniff_html};

/// What we ask for: HTML first, anything else only as a last resort (the
/// content-type check decides what is kept).
const ACCEPT: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1";

/// The longest `Retry-After` honoured; a server asking for more is treated
/// as asking for this, so one message cannot park a consumer for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A successful fetch: everything a [`Fetched`] event needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOutcome {
    /// The URL as requested.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// Every URL visited before `final_url`, starting with the requested one
    /// (empty when there was no redirect).
    pub redirects: Vec<String>,
    /// Status of the final response.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// Encoding the body was decoded with.
    pub encoding: &'static Encoding,
    /// Where that encoding came from.
    pub charset_source: CharsetSource,
    /// The body after content decoding (gzip, brotli, …), before charset
    /// decoding.
    pub body: Bytes,
    /// Time from the first request to the last body byte.
    pub elapsed: Duration,
    /// When the fetch ended.
    pub fetched_at: DateTime<Utc>,
    /// `ETag` of the final response.
    pub etag: Option<String>,
    /// `Last-Modified` of the final response.
    pub last_modified: Option<String>,
    /// The decoded page.
    pub html: String,
}

impl FetchOutcome {
    /// The WHATWG name of the encoding, e.g. `windows-1252`.
    pub fn charset(&self) -> &'static str {
        self.encoding.name()
    }

    /// The `fetched` event payload, carrying the request's tags.
    pub fn into_fetched(self, tags: Vec<String>) -> Fetched {
        Fetched {
            url: self.url,
            final_url: self.final_url,
            redirects: self.redirects,
            status: self.status,
            content_type: self.content_type,
            charset: self.encoding.name().to_string(),
            charset_source: self.charset_source,
            bytes: self.body.len() as u64,
            elapsed_ms: u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
            fetched_at: self.fetched_at,
            etag: self.etag,
            last_modified: self.last_modified,
            tags,
            html: self.html,
        }
    }
}

/// An HTTP client that only fetches what the SSRF guard allows, within the
/// configured time and size limits, and decodes HTML to text.
///
/// Redirects are followed here rather than by reqwest so that every hop is
/// checked by the guard (and, in the stage, by robots.txt and the per-host
/// schedule), loops are caught, and the chain is recorded.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow: Arc<Allow>,
    config: FetchConfig,
}

/// What kind of request, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Page,
    Robots,
}

impl RequestKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Robots => "robots",
        }
    }
}

/// Permits held while one hop is in flight (per-host and global
/// concurrency); dropped when its body has been read or the next hop starts.
#[derive(Debug, Default)]
pub(crate) struct HopPermit {
    _held: Vec<OwnedSemaphorePermit>,
}

impl HopPermit {
    pub(crate) fn new(held: Vec<OwnedSemaphorePermit>) -> Self {
        Self { _held: held }
    }
}

/// Asked before every request (the first and each redirect hop), and told
/// every answer: this is where politeness plugs into the redirect loop.
pub(crate) trait HopGate: Sync {
    /// Wait until `url` may be requested, or say why it may not.
    fn admit<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<HopPermit, FetchError>>;
    /// The host answered `status` (with `Retry-After` when it said so).
    fn answered<'a>(
        &'a self,
        url: &'a Url,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> BoxFuture<'a, ()>;
}

/// No politeness: every hop is admitted at once.
pub(crate) struct Ungated;

impl HopGate for Ungated {
    fn admit<'a>(&'a self, _url: &'a Url) -> BoxFuture<'a, Result<HopPermit, FetchError>> {
        Box::pin(async { Ok(HopPermit::default()) })
    }

    fn answered<'a>(
        &'a self,
        _url: &'a Url,
        _status: StatusCode,
        _retry_after: Option<Duration>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// `ETag` / `Last-Modified` of an earlier fetch, sent as `If-None-Match` /
/// `If-Modified-Since` to the URL they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One request of a fetch, as the one-shot report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hop {
    /// The URL requested.
    pub url: String,
    /// Its status, when an answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// What happened during a fetch, kept even when it fails.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    pub hops: Vec<Hop>,
    /// Time spent in politeness (reading robots.txt, waiting for the
    /// host's turn), not counted against the total timeout.
    pub waited: Duration,
    pub content_length: Option<u64>,
}

/// The final answer of a redirect chain, its body not read yet.
pub(crate) struct Answer {
    pub response: reqwest::Response,
    pub url: Url,
    pub redirects: Vec<String>,
    pub permit: HopPermit,
    pub deadline: Instant,
    /// Whether validators were sent on the request that got this answer.
    pub conditional: bool,
}

/// How a body over the limit is treated.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cap {
    /// Refuse it (pages).
    Refuse(u64),
    /// Keep the first bytes (robots.txt, read up to 500 KiB like Google).
    Truncate(u64),
}

/// A page fetch with validators either brings the page or learns it has
/// not changed.
#[derive(Debug)]
pub(crate) enum PageResult {
    Page(Box<FetchOutcome>),
    NotModified { final_url: String },
}

impl Fetcher {
    /// Validate the configuration and build the client.
    pub fn new(config: FetchConfig) -> Result<Self, FetchError> {
        for (name, value) in [
            ("connect_timeout_ms", config.connect_timeout_ms),
            ("first_byte_timeout_ms", config.first_byte_timeout_ms),
            ("total_timeout_ms", config.total_timeout_ms),
            ("max_body_bytes", config.max_body_bytes),
            ("max_concurrency", config.max_concurrency as u64),
            ("robots_cache_secs", config.robots_cache_secs),
        ] {
            if value == 0 {
                return Err(FetchError::Config(format!(
                    "`{name}` must be greater than 0"
                )));
            }
        }
        if config.user_agent.trim().is_empty() {
            return Err(FetchError::Config(
                "`user_agent` must name the crawler (site owners read it)".into(),
            ));
        }
        let allow = Arc::new(Allow::parse(&config.allow).map_err(FetchError::Config)?);
        let overrides = Arc::new(Overrides::parse(&config.resolve).map_err(FetchError::Config)?);
        // reqwest is built without a crypto provider so that the whole
        // workspace uses ring; installing fails harmlessly if one already is.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.as_str())
            // A proxy would resolve names itself, out of the guard's sight.
            .no_proxy()
            .redirect(redirect::Policy::none())
            .referer(false)
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .dns_resolver(Arc::new(GuardedResolver::with_overrides(
                allow.clone(),
                overrides,
            )))
            .build()
            .map_err(|e| FetchError::Config(error_chain(&e)))?;
        Ok(Self {
            client,
            allow,
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetch one page, following redirects, with no politeness (no
    /// robots.txt, no per-host schedule): the [`crate::Fetch`] stage adds
    /// those. The SSRF guard, limits and charset handling all apply.
    pub async fn fetch(&self, url: &str) -> Result<FetchOutcome, FetchError> {
        let mut trace = Trace::default();
        match self.fetch_page(url, &Ungated, None, &mut trace).await? {
            PageResult::Page(outcome) => Ok(*outcome),
            // Without validators a 304 is just a status we cannot use.
            PageResult::NotModified { .. } => Err(FetchError::Status {
                status: 304,
                retry_after: None,
            }),
        }
    }

    /// Fetch a page through `gate`, conditionally when `validators` are
    /// given.
    pub(crate) async fn fetch_page(
        &self,
        url: &str,
        gate: &dyn HopGate,
        validators: Option<&Validators>,
        trace: &mut Trace,
    ) -> Result<PageResult, FetchError> {
        let started = Instant::now();
        let requested = url.trim().to_string();
        // The core's normaliser applies the same acceptance rules as the rest
        // of the pipeline; the URL itself is fetched as given, since some
        // sites need the parameters the normaliser drops.
        normalize_url(&requested).map_err(|e| bad_url(&requested, e.to_string()))?;
        let answer = self
            .follow(&requested, RequestKind::Page, gate, validators, trace)
            .await?;
        let Answer {
            response,
            url: current,
            redirects,
            permit,
            deadline,
            conditional,
        } = answer;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && conditional {
            return Ok(PageResult::NotModified {
                final_url: current.into(),
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after_of(&response),
            });
        }
        let headers = response.headers();
        let content_type =
            header_str(headers, header::CONTENT_TYPE).filter(|v| !v.trim().is_empty());
        let etag = header_str(headers, header::ETAG);
        let last_modified = header_str(headers, header::LAST_MODIFIED);
        trace.content_length = response.content_length();
        if let Some(ct) = &content_type
            && !self.config.accept_non_html
            && !is_html_type(ct)
        {
            return Err(FetchError::NotHtml {
                content_type: Some(ct.clone()),
            });
        }

        let (body, _) = self
            .read_body(
                response,
                &current,
                RequestKind::Page,
                deadline,
                Cap::Refuse(self.config.max_body_bytes),
            )
            .await?;
        drop(permit);
        if content_type.is_none() && !self.config.accept_non_html && !sniff_html(&body) {
            return Err(FetchError::NotHtml { content_type: None });
        }
        let (html, encoding, charset_source) =
            decode_html(&body, content_type.as_deref(), tld(&current));
        let elapsed = started.elapsed();
        tracing::debug!(url = %requested, final_url = %current, bytes = body.len(), ?elapsed, charset = encoding.name(), "fetched");
        Ok(PageResult::Page(Box::new(FetchOutcome {
            url: requested,
            final_url: current.into(),
            redirects,
            status: status.as_u16(),
            content_type,
            encoding,
            charset_source,
            body,
            elapsed,
            fetched_at: Utc::now(),
            etag,
            last_modified,
            html,
        })))
    }

    /// Fetch `/robots.txt` (or whatever `url` is) through `gate`: any
    /// status, any content type, the body cut at `limit` bytes.
    pub(crate) async fn fetch_raw(
        &self,
        url: &Url,
        gate: &dyn HopGate,
        limit: u64,
    ) -> Result<(StatusCode, Option<Duration>, Bytes), FetchError> {
        let mut trace = Trace::default();
        let answer = self
            .follow(url.as_str(), RequestKind::Robots, gate, None, &mut trace)
            .await?;
        let status = answer.response.status();
        if !status.is_success() {
            return Ok((status, retry_after_of(&answer.response), Bytes::new()));
        }
        let (body, _) = self
            .read_body(
                answer.response,
                &answer.url,
                RequestKind::Robots,
                answer.deadline,
                Cap::Truncate(limit),
            )
            .await?;
        Ok((status, None, body))
    }

    /// Send the request and follow redirects by hand, asking `gate` before
    /// each hop and the SSRF guard on each. The total deadline does not
    /// count the time `gate` made us wait.
    async fn follow(
        &self,
        requested: &str,
        kind: RequestKind,
        gate: &dyn HopGate,
        validators: Option<&Validators>,
        trace: &mut Trace,
    ) -> Result<Answer, FetchError> {
        let total = Duration::from_millis(self.config.total_timeout_ms);
        let mut deadline = Instant::now() + total;
        let mut current = Url::parse(requested).map_err(|e| bad_url(requested, e.to_string()))?;
        if !matches!(current.scheme(), "http" | "https") {
            return Err(bad_url(requested, "only http and https are fetched".into()));
        }
        current.set_fragment(None);
        let mut redirects: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([current.to_string()]);
        loop {
            // The guard first: a refused literal never reaches the gate, so
            // it cannot cost a robots.txt request either.
            self.allow.check_url(&current).map_err(refused)?;
            let waiting = Instant::now();
            let permit = gate.admit(&current).await?;
            let waited = waiting.elapsed();
            trace.waited += waited;
            deadline += waited;
            let conditional = validators.filter(|v| v.url == current.as_str());
            trace.hops.push(Hop {
                url: current.to_string(),
                status: None,
            });
            let response = self.send(&current, kind, conditional, deadline).await?;
            let status = response.status();
            if let Some(hop) = trace.hops.last_mut() {
                hop.status = Some(status.as_u16());
            }
            gate.answered(&current, status, retry_after_of(&response))
                .await;
            if !is_followed_redirect(status) {
                return Ok(Answer {
                    response,
                    url: current,
                    redirects,
                    permit,
                    deadline,
                    conditional: conditional.is_some(),
                });
            }
            drop(permit);
            let next = redirect_target(&current, response.headers())?;
            if !seen.insert(next.to_string()) {
                return Err(FetchError::TooManyRedirects {
                    reason: format!("redirect loop: {current} redirects back to {next}"),
                });
            }
            if redirects.len() >= self.config.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    reason: format!(
                        "more than {} redirects (last to {next})",
                        self.config.max_redirects
                    ),
                });
            }
            tracing::debug!(from = %current, to = %next, status = status.as_u16(), "redirect");
            redirects.push(std::mem::replace(&mut current, next).into());
        }
    }

    /// One request, up to the response headers.
    async fn send(
        &self,
        url: &Url,
        kind: RequestKind,
        validators: Option<&Validators>,
        deadline: Instant,
    ) -> Result<reqwest::Response, FetchError> {
        let first_byte = Duration::from_millis(self.config.first_byte_timeout_ms);
        let first_byte_deadline = Instant::now() + first_byte;
        let (until, phase, after) = if first_byte_deadline < deadline {
            (first_byte_deadline, TimeoutPhase::FirstByte, first_byte)
        } else {
            (
                deadline,
                TimeoutPhase::Total,
                Duration::from_millis(self.config.total_timeout_ms),
            )
        };
        let accept = match kind {
            RequestKind::Page => ACCEPT,
            RequestKind::Robots => "text/plain,*/*;q=0.1",
        };
        let mut request = self.client.get(url.clone()).header(header::ACCEPT, accept);
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(header::IF_NONE_MATCH, etag.as_str());
            }
            if let Some(date) = &v.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date.as_str());
            }
        }
        let result = match timeout_at(until, request.send()).await {
            Err(_) => Err(FetchError::Timeout { phase, after }),
            Ok(Err(e)) => Err(self.map_error(&e)),
            Ok(Ok(response)) => Ok(response),
        };
        metrics::request(url, kind, result.as_ref().ok().map(|r| r.status().as_u16()));
        result
    }

    /// Read the body, refusing (or cutting) it as soon as it passes the
    /// cap. The chunks come out of reqwest's decoder, so the cap bounds what
    /// a compressed body inflates to. Returns the body and whether it was
    /// cut.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        url: &Url,
        kind: RequestKind,
        deadline: Instant,
        cap: Cap,
    ) -> Result<(Bytes, bool), FetchError> {
        let (limit, refuse) = match cap {
            Cap::Refuse(limit) => (limit, true),
            Cap::Truncate(limit) => (limit, false),
        };
        if refuse && response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        // A claimed length is a hint, not a promise: reserve at most 1 MiB up
        // front so that silent servers cannot make us hold the whole cap.
        let capacity = response
            .content_length()
            .unwrap_or(64 * 1024)
            .min(limit)
            .min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        let result = loop {
            match timeout_at(deadline, response.chunk()).await {
                Err(_) => {
                    break Err(FetchError::Timeout {
                        phase: TimeoutPhase::Total,
                        after: Duration::from_millis(self.config.total_timeout_ms),
                    });
                }
                Ok(Err(e)) => break Err(self.map_body_error(&e)),
                Ok(Ok(None)) => break Ok(false),
                Ok(Ok(Some(chunk))) => {
                    let room = usize::try_from(limit)
                        .unwrap_or(usize::MAX)
                        .saturating_sub(body.len());
                    if chunk.len() > room {
                        if refuse {
                            break Err(FetchError::TooLarge { limit });
                        }
                        body.extend_from_slice(&chunk[..room]);
                        break Ok(true);
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        };
        metrics::bytes(url, kind, body.len() as u64);
        result.map(|cut| (Bytes::from(body), cut))
    }

    /// A failure while the body streams in: a broken content encoding is
    /// the server's fault and permanent; anything else means the transfer
    /// was cut off, which a retry may fix.
    fn map_body_error(&self, error: &reqwest::Error) -> FetchError {
        match self.map_error(error) {
            FetchError::Connect(reason) => FetchError::Interrupted(reason),
            FetchError::Decode(reason) if is_truncation(error) => FetchError::Interrupted(reason),
            other => other,
        }
    }

    fn map_error(&self, error: &reqwest::Error) -> FetchError {
        let mut source = error.source();
        while let Some(cause) = source {
            if let Some(refusal) = cause.downcast_ref::<SsrfRefusal>() {
                return refused(refusal.clone());
            }
            if let Some(dns) = cause.downcast_ref::<DnsFailure>() {
                return FetchError::Dns {
                    host: dns.host.clone(),
                    reason: dns.reason.clone(),
                };
            }
            source = cause.source();
        }
        if error.is_timeout() {
            // The only deadline reqwest itself enforces is the connect one.
            FetchError::Timeout {
                phase: TimeoutPhase::Connect,
                after: Duration::from_millis(self.config.connect_timeout_ms),
            }
        } else if error.is_decode() {
            FetchError::Decode(error_chain(error))
        } else if error.is_builder() {
            bad_url(error.url().map_or("", Url::as_str), error_chain(error))
        } else {
            FetchError::Connect(error_chain(error))
        }
    }
}

/// Whether a decode error is really the transfer ending early (the
/// decompressor ran out of input), which deserves a retry.
fn is_truncation(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        source = cause.source();
    }
    let text = error_chain(error).to_ascii_lowercase();
    text.contains("end of file") || text.contains("unexpected eof") || text.contains("incomplete")
}

fn retry_after_of(response: &reqwest::Response) -> Option<Duration> {
    match response.status() {
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            header_str(response.headers(), header::RETRY_AFTER).and_then(|v| parse_retry_after(&v))
        }
        _ => None,
    }
}

fn bad_url(url: &str, reason: String) -> FetchError {
    FetchError::BadUrl {
        url: url.chars().take(200).collect(),
        reason,
    }
}

fn refused(r: SsrfRefusal) -> FetchError {
    FetchError::SsrfRefused {
        host: r.host,
        addr: r.addr,
        class: r.class,
    }
}

/// reqwest's own message is terse ("error sending request"); the causes say
/// what actually happened.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn redirect_target(current: &Url, headers: &HeaderMap) -> Result<Url, FetchError> {
    let bad = |reason: String| FetchError::BadRedirect {
        from: current.to_string(),
        reason,
    };
    let location = headers
        .get(header::LOCATION)
        .ok_or_else(|| bad("no Location header".into()))?
        .to_str()
        .map_err(|_| bad("Location is not ASCII".into()))?;
    let mut next = current
        .join(location.trim())
        .map_err(|e| bad(format!("Location `{location}`: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(bad(format!("Location `{location}` is not http(s)")));
    }
    if next.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("Location `{location}` has no host")));
    }
    next.set_fragment(None);
    Ok(next)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    let value = headers.get(name)?;
    // Header values are bytes; latin-1 is the historical reading of the
    // non-ASCII ones.
    Some(match value.to_str() {
        Ok(s) => s.to_string(),
        Err(_) => value.as_bytes().iter().map(|&b| char::from(b)).collect(),
    })
}

fn is_html_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("text/html")
        || essence.eq_ignore_ascii_case("application/xhtml+xml")
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let date = DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc);
        (date - Utc::now()).to_std().unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// The top-level domain of a host name, the hint chardetng wants.
fn tld(url: &Url) -> Option<&str> {
    let label = url.domain()?.trim_end_matches('.').rsplit('.').next()?;
    label
        .bytes()
        .all(|b| b.is_ascii_alphabetic())
        .then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = (Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        let delay = parse_retry_after(&future).unwrap();
        assert!(
            delay > Duration::from_secs(80) && delay <= Duration::from_secs(90),
            "{delay:?}"
        );
        assert_eq!(parse_retry_after("99999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn html_types() {
        assert!(is_html_type("text/html"));
        assert!(is_html_type("Text/HTML; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("application/pdf"));
        assert!(!is_html_type("text/plain"));
        assert!(!is_html_type("text/htmlx"));
    }

    #[test]
    fn tld_hint() {
        let tld_of = |u: &str| tld(&Url::parse(u).unwrap()).map(str::to_string);
        assert_eq!(tld_of("http://news.abamako.com/x").as_deref(), Some("com"));
        assert_eq!(tld_of("http://lessor.ml./x").as_deref(), Some("ml"));
        assert_eq!(tld_of("http://127.0.0.1/x"), None);
        assert_eq!(tld_of("http://[::1]/x"), None);
    }

    #[test]
    fn redirect_targets() {
        let base = Url::parse("http://a.example/x/y?q=1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::LOCATION, "../z#frag".parse().unwrap());
        assert_eq!(
            redirect_target(&base, &headers).unwrap().as_str(),
            "http://a.example/z"
        );
        headers.insert(header::LOCATION, "//b.example/p".parse().unwrap());
        assert_eq!(
            redirect_target(&base, &headers).unwrap().as_str(),
            "http://b.example/p"
        );
        headers.insert(header::LOCATION, "ftp://b.example/p".parse().unwrap());
        assert!(matches!(
            redirect_target(&base, &headers),
            Err(FetchError::BadRedirect { .. })
        ));
        headers.insert(header::LOCATION, "file:///etc/passwd".parse().unwrap());
        assert!(redirect_target(&base, &headers).is_err());
        headers.remove(header::LOCATION);
        assert!(redirect_target(&base, &headers).is_err());
    }
}
