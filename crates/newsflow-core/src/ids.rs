use sha2::{Digest, Sha256};
use url::Url;

/// Why a URL cannot be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Does not parse as an absolute URL.
    #[error("`{url}` is not an absolute URL: {reason}")]
    Invalid {
        /// The input (truncated).
        url: String,
        /// Parser message.
        reason: String,
    },
    /// Only http and https are fetched.
    #[error("scheme `{0}` is not supported (only http and https)")]
    Scheme(String),
    /// No host.
    #[error("`{0}` has no host")]
    NoHost(String),
}

/// Query parameters that identify a campaign or a click, not a page. Removing
/// them makes the same article shared through different channels one id.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "xtor",
    "at_medium",
    "at_campaign",
    "ns_source",
    "ns_mchannel",
    "ns_campaign",
    "ref_src",
    "s_cid",
    "twclid",
    "ttclid",
    "li_fat_id",
];

fn is_tracking(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_") || TRACKING_PARAMS.contains(&lower.as_str())
}

/// Canonical form of an article URL: http(s) only, scheme and host lower-cased
/// (the `url` crate also drops default ports and resolves dot segments),
/// fragment and tracking parameters removed, remaining parameters sorted.
pub fn normalize_url(input: &str) -> Result<Url, UrlError> {
    let trimmed = input.trim();
    let mut url = Url::parse(trimmed).map_err(|e| UrlError::Invalid {
        url: trimmed.chars().take(200).collect(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::Scheme(other.to_string())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost(trimmed.chars().take(200).collect()));
    }
    url.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Ok(url)
}

/// First 16 hex digits of the SHA-256 of `text`: short, stable, and with
/// 64 bits far from colliding at the scale of a news archive.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The article id: the short hash of the normalised URL.
pub fn article_id(normalized: &Url) -> String {
    short_hash(normalized.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: &str) {
        assert_eq!(
            normalize_url(input).unwrap().as_str(),
            expect,
            "input: {input}"
        );
    }

    #[test]
    fn normalises() {
        check(
            "HTTP://News.Abamako.COM:80/h/300961.html?utm_source=x&b=2&a=1#top",
            "http://news.abamako.com/h/300961.html?a=1&b=2",
        );
        check(
            "https://example.com:443/a/./b/../c",
            "https://example.com/a/c",
        );
        check(
            "https://example.com/a?fbclid=1&gclid=2",
            "https://example.com/a",
        );
        check("  https://example.com/  ", "https://example.com/");
    }

    #[test]
    fn same_article_same_id() {
        let a = article_id(&normalize_url("http://news.abamako.com/h/300961.html").unwrap());
        let b = article_id(
            &normalize_url("http://NEWS.abamako.com/h/300961.html?utm_medium=rss#c").unwrap(),
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 16);
        let c = article_id(&normalize_url("http://news.abamako.com/h/300962.html").unwrap());
        assert_ne!(a, c);
    }

    #[test]
    fn refuses_non_http() {
        assert!(matches!(
            normalize_url("ftp://x.org/a"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            normalize_url("javascript:alert(1)"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            normalize_url("not a url"),
            Err(UrlError::Invalid { .. })
        ));
        assert!(matches!(
            normalize_url("file:///etc/passwd"),
            Err(UrlError::Scheme(_))
        ));
    }
}
