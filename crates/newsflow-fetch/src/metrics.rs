//! Counters and histograms of the fetcher, through the `metrics` facade.
//! The binary installs an exporter (Prometheus on `/metrics`); without one
//! these calls cost next to nothing.
//!
//! Host names come from URLs anyone can publish, so the `host` label is
//! capped: past [`MAX_HOST_LABELS`] distinct hosts, new ones are counted
//! under `other`, and a flood of random subdomains cannot grow the
//! exporter's memory without bound.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics::{counter, describe_counter, describe_histogram, histogram};
use url::Url;

use crate::fetcher::RequestKind;

/// Distinct values of the `host` label before new hosts become `other`.
pub const MAX_HOST_LABELS: usize = 1000;

/// Every metric this crate records, with its labels.
pub mod names {
    /// Counter, labels `host`, `kind` (`page`/`robots`), `status`
    /// (`2xx`…`5xx`, or `error` when no answer came): HTTP requests sent,
    /// redirect hops included.
    pub const REQUESTS: &str = "newsflow_fetch_requests_total";
    /// Counter, labels `host`, `kind`: body bytes received, after content
    /// decoding.
    pub const BYTES: &str = "newsflow_fetch_bytes_total";
    /// Counter, label `outcome` (`fetched`, `skipped_seen`,
    /// `not_modified`, `retry`, `rejected`) and `reason` (the error kind,
    /// or `none`): how each request for a URL ended.
    pub const OUTCOMES: &str = "newsflow_fetch_outcomes_total";
    /// Counter, labels `host`, `reason` (`ssrf_refused`,
    /// `robots_disallowed`, `not_html`, `too_large`, `http_404`, …): URLs
    /// refused for good (they go to the DLQ).
    pub const REFUSALS: &str = "newsflow_fetch_refusals_total";
    /// Histogram, label `outcome`: seconds from the stage receiving a URL to
    /// its outcome, politeness waits included.
    pub const DURATION: &str = "newsflow_fetch_duration_seconds";
    /// Histogram: seconds a hop waited for its host to be due.
    pub const POLITENESS_WAIT: &str = "newsflow_fetch_politeness_wait_seconds";
    /// Counter, label `result` (`rules`, `allow_all`, `unavailable`):
    /// robots.txt fetches.
    pub const ROBOTS: &str = "newsflow_fetch_robots_total";
}

/// Register descriptions (the `# HELP` lines). Call once after installing
/// the exporter; recording works without it.
pub fn describe() {
    describe_counter!(
        names::REQUESTS,
        "HTTP requests sent by the fetcher, by host, kind and status class"
    );
    describe_counter!(
        names::BYTES,
        "Body bytes received after content decoding, by host and kind"
    );
    describe_counter!(
        names::OUTCOMES,
        "URLs handled by the fetch stage, by outcome and reason"
    );
    describe_counter!(
        names::REFUSALS,
        "URLs refused for good (sent to the DLQ), by host and reason"
    );
    describe_histogram!(
        names::DURATION,
        metrics::Unit::Seconds,
        "Time from receiving a URL to its outcome"
    );
    describe_histogram!(
        names::POLITENESS_WAIT,
        metrics::Unit::Seconds,
        "Time a request waited for its host to be due"
    );
    describe_counter!(names::ROBOTS, "robots.txt fetches by result");
}

fn known_hosts() -> &'static Mutex<HashSet<String>> {
    static HOSTS: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    HOSTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// The `host` label of a URL: `host` or `host:port`, or `other` once the
/// cap is reached.
pub(crate) fn host_label(url: &Url) -> String {
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return "none".into(),
    };
    let mut known = known_hosts().lock().unwrap_or_else(|p| p.into_inner());
    if known.contains(&host) {
        host
    } else if known.len() < MAX_HOST_LABELS {
        known.insert(host.clone());
        host
    } else {
        "other".into()
    }
}

fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        _ => "error",
    }
}

pub(crate) fn request(url: &Url, kind: RequestKind, status: Option<u16>) {
    counter!(
        names::REQUESTS,
        "host" => host_label(url),
        "kind" => kind.as_str(),
        "status" => status_class(status),
    )
    .increment(1);
}

pub(crate) fn bytes(url: &Url, kind: RequestKind, n: u64) {
    counter!(names::BYTES, "host" => host_label(url), "kind" => kind.as_str()).increment(n);
}

pub(crate) fn outcome(outcome: &'static str, reason: &str, elapsed: Duration) {
    counter!(names::OUTCOMES, "outcome" => outcome, "reason" => reason.to_string()).increment(1);
    histogram!(names::DURATION, "outcome" => outcome).record(elapsed.as_secs_f64());
}

pub(crate) fn refusal(url: Option<&Url>, reason: &str) {
    let host = url.map_or_else(|| "none".to_string(), host_label);
    counter!(names::REFUSALS, "host" => host, "reason" => reason.to_string()).increment(1);
}

pub(crate) fn politeness_wait(waited: Duration) {
    histogram!(names::POLITENESS_WAIT).record(waited.as_secs_f64());
}

pub(crate) fn robots(result: &'static str) {
    counter!(names::ROBOTS, "result" => result).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(304)), "3xx");
        assert_eq!(status_class(Some(429)), "4xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "error");
    }

    #[test]
    fn host_labels_are_capped() {
        let label = |u: &str| host_label(&Url::parse(u).unwrap());
        assert_eq!(label("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(label("https://news.example/"), "news.example");
        for i in 0..MAX_HOST_LABELS + 10 {
            label(&format!("http://h{i}.flood.example/"));
        }
        assert_eq!(label("http://late.flood.example/"), "other");
        // Hosts seen before the cap keep their own label.
        assert_eq!(label("https://news.example/"), "news.example");
    }
}
