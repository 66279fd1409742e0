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
    /// Most fetches in flight at once, across all hosts.
    pub max_concurrency: usize,
    /// Accept bodies that are not HTML (by `Content-Type`, or by sniffing
    /// when there is none). Off by default: the parser only reads HTML.
    pub accept_non_html: bool,
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
            max_concurrency: 32,
            accept_non_html: false,
        }
    }
}
