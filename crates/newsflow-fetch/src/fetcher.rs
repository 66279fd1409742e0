use std::collections::HashSet;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use encoding_rs::Encoding;
use newsflow_core::{CharsetSource, Fetched, normalize_url};
use reqwest::header::{self, HeaderMap};
use reqwest::{StatusCode, redirect};
use tokio::time::{Instant, timeout_at};
use url::Url;

use crate::error::TimeoutPhase;
use crate::guard::{Allow, DnsFailure, GuardedResolver, SsrfRefusal};
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
/// checked by the guard, loops are caught, and the chain is recorded.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow: Arc<Allow>,
    config: FetchConfig,
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
        ] {
            if value == 0 {
                return Err(FetchError::Config(format!(
                    "`{name}` must be greater than 0"
                )));
            }
        }
        let allow = Arc::new(Allow::parse(&config.allow).map_err(FetchError::Config)?);
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
            .dns_resolver(Arc::new(GuardedResolver::new(allow.clone())))
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

    /// Fetch one page, following redirects.
    pub async fn fetch(&self, url: &str) -> Result<FetchOutcome, FetchError> {
        let started = Instant::now();
        let total = Duration::from_millis(self.config.total_timeout_ms);
        let deadline = started + total;
        let requested = url.trim().to_string();
        // The core's normaliser applies the same acceptance rules as the rest
        // of the pipeline; the URL itself is fetched as given, since some
        // sites need the parameters the normaliser drops.
        normalize_url(&requested).map_err(|e| bad_url(&requested, e.to_string()))?;
        let mut current = Url::parse(&requested).map_err(|e| bad_url(&requested, e.to_string()))?;
        current.set_fragment(None);

        let mut redirects: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([current.to_string()]);
        let response = loop {
            self.allow.check_url(&current).map_err(refused)?;
            let response = self.send(&current, deadline).await?;
            let status = response.status();
            if !is_followed_redirect(status) {
                break response;
            }
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
        };

        let status = response.status();
        if !status.is_success() {
            let retry_after = match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    header_str(response.headers(), header::RETRY_AFTER)
                        .and_then(|v| parse_retry_after(&v))
                }
                _ => None,
            };
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after,
            });
        }
        let headers = response.headers();
        let content_type =
            header_str(headers, header::CONTENT_TYPE).filter(|v| !v.trim().is_empty());
        let etag = header_str(headers, header::ETAG);
        let last_modified = header_str(headers, header::LAST_MODIFIED);
        if let Some(ct) = &content_type
            && !self.config.accept_non_html
            && !is_html_type(ct)
        {
            return Err(FetchError::NotHtml {
                content_type: Some(ct.clone()),
            });
        }

        let body = self.read_body(response, deadline, total).await?;
        if content_type.is_none() && !self.config.accept_non_html && !sniff_html(&body) {
            return Err(FetchError::NotHtml { content_type: None });
        }
        let (html, encoding, charset_source) =
            decode_html(&body, content_type.as_deref(), tld(&current));
        let elapsed = started.elapsed();
        tracing::debug!(url = %requested, final_url = %current, bytes = body.len(), ?elapsed, charset = encoding.name(), "fetched");
        Ok(FetchOutcome {
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
        })
    }

    /// One request, up to the response headers.
    async fn send(&self, url: &Url, deadline: Instant) -> Result<reqwest::Response, FetchError> {
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
        let request = self
            .client
            .get(url.clone())
            .header(header::ACCEPT, ACCEPT)
            .send();
        match timeout_at(until, request).await {
            Err(_) => Err(FetchError::Timeout { phase, after }),
            Ok(Err(e)) => Err(self.map_error(&e)),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// Read the body, refusing it as soon as it passes the size cap. The
    /// chunks come out of reqwest's decoder, so the cap bounds what a
    /// compressed body inflates to.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        deadline: Instant,
        total: Duration,
    ) -> Result<Bytes, FetchError> {
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
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
        loop {
            match timeout_at(deadline, response.chunk()).await {
                Err(_) => {
                    return Err(FetchError::Timeout {
                        phase: TimeoutPhase::Total,
                        after: total,
                    });
                }
                Ok(Err(e)) => return Err(self.map_error(&e)),
                Ok(Ok(None)) => return Ok(Bytes::from(body)),
                Ok(Ok(Some(chunk))) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(FetchError::TooLarge { limit });
                    }
                    body.extend_from_slice(&chunk);
                }
            }
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
