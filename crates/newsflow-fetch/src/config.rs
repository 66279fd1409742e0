use std::collections::BTreeMap;

use serde::Deserialize;

/// Configuration of the fetch stage (`[fetch]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// `User-Agent` sent with every request. It names the project and where
    /// to read about it, so a site owner can find out who is calling.
    pub user_agent: String,
    /// Longest wait for a TCP (and TLS) connection, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Longest wait from sending a request to receiving the response
    /// headers, in milliseconds (each redirect hop gets its own).
    pub first_byte_timeout_ms: u64,
    /// Longest time for a whole fetch, redirects and body included, in
    /// milliseconds.
    pub total_timeout_ms: u64,
    /// Largest body accepted, in bytes, after content decoding (so a
    /// compressed body cannot inflate past it). The default, 16 MiB, lets a
    /// 10 MB page through.
    pub max_body_bytes: u64,
    /// Most redirects followed before giving up.
    pub max_redirects: usize,
    /// Hosts (`intranet.example`), addresses (`127.0.0.1`) or CIDRs
    /// (`10.0.0.0/8`) that bypass the SSRF guard. Empty by default: only
    /// public addresses are fetched.
    pub allow: Vec<String>,
    /// Fixed answers for host names, like curl's `--resolve`: host name →
    /// IP address, used instead of DNS for those names. The address still
    /// goes through the SSRF guard (so a loopback answer needs `allow`).
    /// Empty by default; tests use it to serve many virtual hosts from one
    /// loopback site.
    pub resolve: BTreeMap<String, String>,
    /// Most fetches in flight at once, across all hosts.
    pub max_concurrency: usize,
    /// Accept bodies that are not HTML (by `Content-Type`, or by sniffing
    /// when there is none). Off by default: the parser only reads HTML.
    pub accept_non_html: bool,
    /// Fetch and obey `/robots.txt` (RFC 9309) for every host, including
    /// `Crawl-delay`. The rules for our agent are looked up under the first
    /// token of `user_agent` (`newsflow`), falling back to `*`.
    pub respect_robots: bool,
    /// How long a host's robots.txt is cached, in seconds (RFC 9309 asks
    /// for at most 24 hours).
    pub robots_cache_secs: u64,
    /// Least time between two requests to one host (`scheme://host:port`),
    /// in milliseconds, across every replica sharing the politeness store.
    /// A larger `Crawl-delay` in robots.txt wins. 0 turns the per-host
    /// delay off.
    pub host_min_delay_ms: u64,
    /// Largest `Crawl-delay` honoured, in seconds; a site asking for more
    /// gets this one.
    pub max_crawl_delay_secs: u64,
    /// Most requests in flight to one host from one replica. 0 means no
    /// limit.
    pub host_max_concurrency: usize,
    /// Longest a fetch waits in-process for its host to be due, in
    /// milliseconds. Beyond it the message is retried later (NAK with the
    /// time the host is due), so one busy host does not hold the workers.
    pub host_max_wait_ms: u64,
    /// A URL fetched less than this many seconds ago is skipped (the
    /// message is acknowledged without output) unless the request says
    /// `force`. 0 turns skipping off.
    pub skip_seen_secs: u64,
    /// How long the "seen" record of a URL is kept, in seconds: the
    /// lifetime of the `newsflow-fetch-seen` KV bucket. The record holds
    /// the `ETag`/`Last-Modified` validators, so a refetch after
    /// `skip_seen_secs` but within this period is a conditional GET.
    pub seen_retention_secs: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            user_agent: "newsflow/0.1 (+https://github.com/newsflow/newsflow)".to_string(),
            connect_timeout_ms: 10_000,
            first_byte_timeout_ms: 15_000,
            total_timeout_ms: 30_000,
            max_body_bytes: 16 * 1024 * 1024,
            max_redirects: 5,
            allow: Vec::new(),
            resolve: BTreeMap::new(),
            max_concurrency: 32,
            accept_non_html: false,
            respect_robots: true,
            robots_cache_secs: 3600,
            host_min_delay_ms: 1000,
            max_crawl_delay_secs: 30,
            host_max_concurrency: 2,
            host_max_wait_ms: 10_000,
            skip_seen_secs: 24 * 3600,
            seen_retention_secs: 30 * 24 * 3600,
        }
    }
}

impl FetchConfig {
    /// The settings for measuring raw speed: no robots.txt, no per-host
    /// delay or concurrency limit, no skipping of seen URLs. Never for
    /// fetching other people's sites.
    pub fn impolite(self) -> Self {
        Self {
            respect_robots: false,
            host_min_delay_ms: 0,
            host_max_concurrency: 0,
            skip_seen_secs: 0,
            ..self
        }
    }

    /// The product token robots.txt groups are matched against: the
    /// `user_agent` up to its first `/` or space (`newsflow`).
    pub fn robots_agent(&self) -> &str {
        let ua = self.user_agent.trim();
        let end = ua.find(['/', ' ']).unwrap_or(ua.len());
        match &ua[..end] {
            "" => "*",
            token => token,
        }
    }
}
