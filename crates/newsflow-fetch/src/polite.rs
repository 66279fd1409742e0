//! Politeness: robots.txt, the per-host schedule, per-host and global
//! concurrency, applied before every request a fetch makes (robots.txt
//! itself and every redirect hop included).
//!
//! Order for one hop: robots.txt of its origin (cached; a refusal ends the
//! fetch) → a per-host permit (at most `host_max_concurrency` requests to
//! one origin from this replica) → a global permit (`max_concurrency`) →
//! a slot in the shared [`HostSchedule`] spaced by
//! `max(host_min_delay_ms, Crawl-delay)`, waited for if it is within
//! `host_max_wait_ms`, else held for the message's ticket while it is
//! NAKed until shortly before it. The global permit is taken before the slot so the
//! request starts on time once the slot comes; the per-host permit before
//! both so waiting for one busy host does not hold a global permit.
//!
//! A host answering 429, or 503 with `Retry-After`, pushes its schedule
//! back for every replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

use crate::fetcher::{HopGate, HopPermit};
use crate::kv::KvStore;
use crate::robots::{ROBOTS_MAX_BYTES, RobotsCache, Rules};
use crate::schedule::{HostSchedule, Slot};
use crate::{FetchConfig, FetchError, Fetcher, metrics};

/// Per-host semaphores kept before idle ones are dropped.
const MAX_HOST_SEMAPHORES: usize = 4096;

/// How long a 429 without `Retry-After` keeps its host waiting.
const DEFAULT_429_BACKOFF: Duration = Duration::from_secs(30);

/// `scheme://host[:port]`: what robots.txt and the schedule are kept per.
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

pub(crate) struct Politeness {
    respect_robots: bool,
    min_delay: Duration,
    max_crawl_delay: Duration,
    host_max_concurrency: usize,
    max_wait: Duration,
    robots: RobotsCache,
    schedule: HostSchedule,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    global: Arc<Semaphore>,
}

impl Politeness {
    pub(crate) fn new(config: &FetchConfig, hosts_kv: Arc<dyn KvStore>) -> Self {
        Self {
            respect_robots: config.respect_robots,
            min_delay: Duration::from_millis(config.host_min_delay_ms),
            max_crawl_delay: Duration::from_secs(config.max_crawl_delay_secs),
            host_max_concurrency: config.host_max_concurrency,
            max_wait: Duration::from_millis(config.host_max_wait_ms),
            robots: RobotsCache::new(
                config.robots_agent(),
                Duration::from_secs(config.robots_cache_secs),
            ),
            schedule: HostSchedule::new(hosts_kv),
            hosts: Mutex::new(HashMap::new()),
            global: Arc::new(Semaphore::new(config.max_concurrency)),
        }
    }

    /// The gate a page fetch goes through. `ticket` identifies the
    /// message across redeliveries, so a slot reserved for it while it
    /// waits in the queue is found again (see [`HostSchedule::reserve`]).
    pub(crate) fn gate<'a>(
        &'a self,
        fetcher: &'a Fetcher,
        ticket: Option<&'a str>,
    ) -> PageGate<'a> {
        PageGate {
            polite: self,
            fetcher,
            ticket,
        }
    }

    fn host_semaphore(&self, origin: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if !hosts.contains_key(origin) && hosts.len() >= MAX_HOST_SEMAPHORES {
            // Only the map holds an idle host's semaphore; clones are made
            // under this lock, so dropping those cannot split a host in two.
            hosts.retain(|_, s| Arc::strong_count(s) > 1);
        }
        hosts
            .entry(origin.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.host_max_concurrency)))
            .clone()
    }

    /// Robots check for a page hop, then the host's turn.
    async fn admit_page(
        &self,
        fetcher: &Fetcher,
        url: &Url,
        ticket: Option<&str>,
    ) -> Result<HopPermit, FetchError> {
        let origin = origin(url);
        let mut crawl_delay = None;
        if self.respect_robots {
            let robots_url = url.join("/robots.txt").map_err(|e| FetchError::BadUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
            let fetched_now = std::sync::atomic::AtomicBool::new(false);
            let rules = self
                .robots
                .rules(&origin, || async {
                    fetched_now.store(true, std::sync::atomic::Ordering::Relaxed);
                    fetcher
                        .fetch_raw(&robots_url, &RobotsGate { polite: self }, ROBOTS_MAX_BYTES)
                        .await
                })
                .await?;
            // robots.txt was itself a request to the host; its Crawl-delay
            // counts from it (the robots request was spaced by the minimum
            // delay only, not knowing the file yet).
            if fetched_now.load(std::sync::atomic::Ordering::Relaxed)
                && let Some(delay) = rules.crawl_delay()
            {
                let delay = delay.min(self.max_crawl_delay);
                if delay > self.min_delay {
                    self.schedule.defer(&origin, delay).await?;
                }
            }
            if let Rules::Unavailable { reason, until } = &rules {
                return Err(FetchError::RobotsUnavailable {
                    origin,
                    reason: reason.clone(),
                    retry_after: until.saturating_duration_since(Instant::now()),
                });
            }
            if !rules.allowed(url.as_str()) {
                return Err(FetchError::RobotsDisallowed {
                    url: url.to_string(),
                });
            }
            crawl_delay = rules.crawl_delay();
        }
        self.admit_host(&origin, crawl_delay, ticket).await
    }

    /// Wait for a per-host permit, a global permit and a schedule slot.
    async fn admit_host(
        &self,
        origin: &str,
        crawl_delay: Option<Duration>,
        ticket: Option<&str>,
    ) -> Result<HopPermit, FetchError> {
        let started = Instant::now();
        let interval = self
            .min_delay
            .max(crawl_delay.unwrap_or_default().min(self.max_crawl_delay));
        let mut held = Vec::with_capacity(2);
        if self.host_max_concurrency > 0 {
            let semaphore = self.host_semaphore(origin);
            match tokio::time::timeout(self.max_wait, semaphore.acquire_owned()).await {
                Ok(Ok(permit)) => held.push(permit),
                _ => {
                    return Err(FetchError::HostBusy {
                        origin: origin.to_string(),
                        retry_after: interval.max(Duration::from_secs(1)),
                    });
                }
            }
        }
        let global = self
            .global
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| FetchError::Config(format!("concurrency limit closed: {e}")))?;
        held.push(global);
        if !interval.is_zero() {
            let left = self.max_wait.saturating_sub(started.elapsed());
            match self
                .schedule
                .reserve(origin, interval, left, ticket)
                .await?
            {
                Slot::Reserved(wait) => tokio::time::sleep(wait).await,
                Slot::Busy(wait) => {
                    return Err(FetchError::HostBusy {
                        origin: origin.to_string(),
                        retry_after: wait,
                    });
                }
            }
        }
        metrics::politeness_wait(started.elapsed());
        Ok(HopPermit::new(held))
    }

    async fn answered(&self, url: &Url, status: StatusCode, retry_after: Option<Duration>) {
        let backoff = match (status, retry_after) {
            (StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, Some(after)) => after,
            (StatusCode::TOO_MANY_REQUESTS, None) => DEFAULT_429_BACKOFF,
            _ => return,
        };
        let origin = origin(url);
        tracing::info!(
            origin,
            ?backoff,
            status = status.as_u16(),
            "host asked us to slow down"
        );
        if let Err(e) = self.schedule.defer(&origin, backoff).await {
            tracing::warn!(origin, error = %e, "cannot record the host's back-off");
        }
    }
}

/// Politeness for a page and its redirect hops.
pub(crate) struct PageGate<'a> {
    polite: &'a Politeness,
    fetcher: &'a Fetcher,
    ticket: Option<&'a str>,
}

impl HopGate for PageGate<'_> {
    fn admit<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<HopPermit, FetchError>> {
        Box::pin(self.polite.admit_page(self.fetcher, url, self.ticket))
    }

    fn answered<'a>(
        &'a self,
        url: &'a Url,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.polite.answered(url, status, retry_after))
    }
}

/// Politeness for robots.txt itself: the host's turn, no robots check.
struct RobotsGate<'a> {
    polite: &'a Politeness,
}

impl HopGate for RobotsGate<'_> {
    fn admit<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<HopPermit, FetchError>> {
        Box::pin(async move { self.polite.admit_host(&origin(url), None, None).await })
    }

    fn answered<'a>(
        &'a self,
        url: &'a Url,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.polite.answered(url, status, retry_after))
    }
}
