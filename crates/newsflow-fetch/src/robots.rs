//! robots.txt, fetched through the same guarded client as pages, cached
//! per origin, and read as RFC 9309 says:
//!
//! - 2xx: the first 500 KiB are parsed (Google's limit; the rest is
//!   ignored), and the group for our product token, or `*`, applies,
//!   `Crawl-delay` included.
//! - 4xx other than 429 (missing, forbidden): no restrictions.
//! - 429, 5xx, timeouts, connection or DNS failures: "unreachable", so
//!   everything is disallowed for now; the fetch is retried later and the
//!   failure is cached for a minute (or the server's `Retry-After`) so a
//!   host that is down is not asked again for every queued URL.
//! - Redirects are followed (up to `max_redirects`, every hop guarded); a
//!   chain that goes nowhere, or a body that cannot be decoded, counts as
//!   no robots.txt.
//!
//! One fetch per origin at a time: concurrent requests for a new host wait
//! for the first one's answer instead of all asking.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use texting_robots::Robot;
use tokio::time::Instant;

use crate::FetchError;
use crate::metrics;

/// Bytes of robots.txt read; the rest is ignored (RFC 9309 asks for at
/// least 500 KiB).
pub(crate) const ROBOTS_MAX_BYTES: u64 = 500 * 1024;

/// How long an unreachable robots.txt stops fetches to its host when the
/// server gave no `Retry-After`.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(60);

/// Origins whose robots.txt is kept; past this, idle expired entries (then
/// any idle ones) are dropped.
const MAX_ORIGINS: usize = 10_000;

/// The rules that apply to us on one origin.
#[derive(Clone, Debug)]
pub(crate) enum Rules {
    /// A parsed robots.txt.
    Parsed(Arc<Robot>),
    /// No robots.txt (4xx) or none usable: everything allowed.
    AllowAll,
    /// Could not be read; everything disallowed until `until`.
    Unavailable { reason: String, until: Instant },
}

impl Rules {
    pub(crate) fn allowed(&self, url: &str) -> bool {
        match self {
            Self::Parsed(robot) => robot.allowed(url),
            Self::AllowAll => true,
            Self::Unavailable { .. } => false,
        }
    }

    /// `Crawl-delay`, when the file gives a usable one.
    pub(crate) fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Self::Parsed(robot) => robot
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f64(f64::from(d).min(86_400.0))),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Cached {
    rules: Rules,
    expires: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// robots.txt rules per origin (`scheme://host:port`), for `ttl`.
pub(crate) struct RobotsCache {
    agent: String,
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl RobotsCache {
    pub(crate) fn new(agent: &str, ttl: Duration) -> Self {
        Self {
            agent: agent.to_string(),
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, origin: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.contains_key(origin) && slots.len() >= MAX_ORIGINS {
            let now = Instant::now();
            // Only entries nobody is using (the map holds the one reference)
            // can go; expired ones first.
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot
                        .try_lock()
                        .map(|c| c.as_ref().is_some_and(|c| c.expires > now))
                        .unwrap_or(true)
            });
            if slots.len() >= MAX_ORIGINS {
                slots.retain(|_, slot| Arc::strong_count(slot) > 1);
            }
        }
        slots.entry(origin.to_string()).or_default().clone()
    }

    /// The rules for `origin`, from the cache or by calling `fetch` (the
    /// robots.txt request: status, `Retry-After`, first bytes of the body).
    pub(crate) async fn rules<F, Fut>(&self, origin: &str, fetch: F) -> Result<Rules, FetchError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(StatusCode, Option<Duration>, Bytes), FetchError>>,
    {
        let slot = self.slot(origin);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && c.expires > Instant::now()
        {
            return Ok(c.rules.clone());
        }
        let (rules, ttl) = match fetch().await {
            Ok((status, retry_after, body)) => self.interpret(status, retry_after, body).await,
            Err(e) => match e {
                // The page would meet the same refusal; report it as such
                // and remember nothing.
                FetchError::SsrfRefused { .. }
                | FetchError::BadUrl { .. }
                | FetchError::HostBusy { .. }
                | FetchError::Store(_)
                | FetchError::Config(_) => return Err(e),
                e if e.is_transient() => unavailable(
                    format!("{}: {e}", e.kind()),
                    e.retry_after().unwrap_or(UNAVAILABLE_RETRY),
                ),
                e => {
                    tracing::debug!(origin, error = %e, "unusable robots.txt; no restrictions");
                    metrics::robots("allow_all");
                    (Rules::AllowAll, self.ttl)
                }
            },
        };
        *cached = Some(Cached {
            rules: rules.clone(),
            expires: Instant::now() + ttl,
        });
        Ok(rules)
    }

    async fn interpret(
        &self,
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Bytes,
    ) -> (Rules, Duration) {
        if status.is_success() {
            let agent = self.agent.clone();
            // Parsing compiles a pattern per rule: half a megabyte of rules
            // is real CPU, so keep it off the async workers.
            let parsed = tokio::task::spawn_blocking(move || Robot::new(&agent, &body)).await;
            match parsed {
                Ok(Ok(robot)) => {
                    metrics::robots("rules");
                    (Rules::Parsed(Arc::new(robot)), self.ttl)
                }
                _ => {
                    metrics::robots("allow_all");
                    (Rules::AllowAll, self.ttl)
                }
            }
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            unavailable(
                format!("HTTP {}", status.as_u16()),
                retry_after.unwrap_or(UNAVAILABLE_RETRY),
            )
        } else {
            metrics::robots("allow_all");
            (Rules::AllowAll, self.ttl)
        }
    }
}

fn unavailable(reason: String, retry: Duration) -> (Rules, Duration) {
    metrics::robots("unavailable");
    let retry = retry.max(Duration::from_secs(1));
    (
        Rules::Unavailable {
            reason,
            until: Instant::now() + retry,
        },
        retry,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ok(body: &'static str) -> Result<(StatusCode, Option<Duration>, Bytes), FetchError> {
        Ok((StatusCode::OK, None, Bytes::from_static(body.as_bytes())))
    }

    #[tokio::test]
    async fn rules_for_our_agent_win_over_the_star_group() {
        let cache = RobotsCache::new("newsflow", Duration::from_secs(60));
        let rules = cache
            .rules("http://a", || async {
                ok("User-agent: *\nDisallow: /\n\nUser-agent: newsflow\nDisallow: /private\nCrawl-delay: 2.5\n")
            })
            .await
            .unwrap();
        assert!(rules.allowed("http://a/news/1.html"));
        assert!(!rules.allowed("http://a/private/x"));
        assert_eq!(rules.crawl_delay(), Some(Duration::from_millis(2500)));
        // Other agents' rules do not apply; the star group does when ours is absent.
        let rules = cache
            .rules("http://b", || async { ok("User-agent: *\nDisallow: /x\n") })
            .await
            .unwrap();
        assert!(!rules.allowed("/x/1"));
        assert!(rules.allowed("/y"));
    }

    #[tokio::test]
    async fn statuses_follow_rfc_9309() {
        let cache = RobotsCache::new("newsflow", Duration::from_secs(60));
        let status = |s: u16, ra: Option<u64>| {
            move || async move {
                Ok((
                    StatusCode::from_u16(s).unwrap(),
                    ra.map(Duration::from_secs),
                    Bytes::new(),
                ))
            }
        };
        let r = cache.rules("http://404", status(404, None)).await.unwrap();
        assert!(r.allowed("/anything"));
        let r = cache.rules("http://403", status(403, None)).await.unwrap();
        assert!(r.allowed("/anything"));
        let r = cache
            .rules("http://503", status(503, Some(120)))
            .await
            .unwrap();
        assert!(!r.allowed("/anything"));
        match r {
            Rules::Unavailable { until, reason } => {
                assert_eq!(reason, "HTTP 503");
                assert!(until > Instant::now() + Duration::from_secs(100));
            }
            other => panic!("{other:?}"),
        }
        let r = cache.rules("http://429", status(429, None)).await.unwrap();
        assert!(matches!(r, Rules::Unavailable { .. }));
        let r = cache
            .rules("http://down", || async {
                Err(FetchError::Connect("refused".into()))
            })
            .await
            .unwrap();
        assert!(matches!(r, Rules::Unavailable { .. }));
        let err = cache
            .rules("http://guarded", || async {
                Err(FetchError::SsrfRefused {
                    host: "x".into(),
                    addr: "10.0.0.1".parse().unwrap(),
                    class: crate::AddrClass::Private,
                })
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "ssrf_refused");
    }

    #[tokio::test]
    async fn one_fetch_per_origin_and_ttl() {
        let cache = Arc::new(RobotsCache::new("newsflow", Duration::from_millis(100)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let ask = |cache: Arc<RobotsCache>, fetches: Arc<AtomicUsize>| async move {
            cache
                .rules("http://a", || async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    ok("User-agent: *\nDisallow: /x\n")
                })
                .await
                .unwrap()
        };
        let tasks: Vec<_> = (0..10)
            .map(|_| tokio::spawn(ask(cache.clone(), fetches.clone())))
            .collect();
        for t in tasks {
            assert!(!t.await.unwrap().allowed("/x"));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(150)).await;
        ask(cache.clone(), fetches.clone()).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
