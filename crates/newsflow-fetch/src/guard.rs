//! The SSRF guard: which addresses the fetcher may connect to.
//!
//! Three places ask it: the up-front check of a URL whose host is an IP
//! literal (reqwest skips the resolver for those), the resolver for every
//! host name (all answers must pass, so a name that resolves to one public
//! and one private address cannot be used to reach the private one), and the
//! redirect loop, which runs both checks again on every hop.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// What kind of address an IP is, as far as the SSRF guard cares.
///
/// Everything but [`AddrClass::Public`] is refused unless the configuration
/// allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrClass {
    /// A globally routable unicast address.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and the deprecated IPv6
    /// site-local fec0::/10.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// IPv6 unique-local fc00::/7.
    UniqueLocal,
    /// Carrier-grade NAT shared space 100.64/10.
    SharedCgnat,
    /// 224/4, ff00::/8.
    Multicast,
    /// 0.0.0.0/8 ("this network", which Linux connects to the local host)
    /// and ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18/15, 2001:2::/48.
    Benchmarking,
    /// Reserved or special-purpose space: 240/4, 192.0.0/24, 192.88.99/24,
    /// IPv6 outside 2000::/3, Teredo and the other 2001::/23 assignments,
    /// discard-only 100::/64, local-use NAT64.
    Reserved,
    /// Cloud instance metadata endpoints: 169.254.169.254, fd00:ec2::254.
    CloudMetadata,
}

impl AddrClass {
    /// Whether the fetcher may connect to such an address without an
    /// explicit allow-list entry.
    pub fn is_public(self) -> bool {
        self == Self::Public
    }

    /// Short lower-case name, used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique-local",
            Self::SharedCgnat => "shared (CGNAT)",
            Self::Multicast => "multicast",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::Reserved => "reserved",
            Self::CloudMetadata => "cloud metadata",
        }
    }
}

impl fmt::Display for AddrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classify an address. Pure: no lookup, no configuration.
///
/// IPv6 forms that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are
/// judged on the embedded address, since that is where the packets end up.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        (0, ..) => AddrClass::Unspecified,
        (10, ..) => AddrClass::Private,
        (100, 64..=127, ..) => AddrClass::SharedCgnat,
        (127, ..) => AddrClass::Loopback,
        (169, 254, 169, 254) => AddrClass::CloudMetadata,
        (169, 254, ..) => AddrClass::LinkLocal,
        (172, 16..=31, ..) => AddrClass::Private,
        (192, 0, 0, _) => AddrClass::Reserved,
        (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => AddrClass::Documentation,
        (192, 88, 99, _) => AddrClass::Reserved,
        (192, 168, ..) => AddrClass::Private,
        (198, 18..=19, ..) => AddrClass::Benchmarking,
        (224..=239, ..) => AddrClass::Multicast,
        (255, 255, 255, 255) => AddrClass::Broadcast,
        (240..=255, ..) => AddrClass::Reserved,
        _ => AddrClass::Public,
    }
}

fn embedded_v4(low32: [u16; 2]) -> Ipv4Addr {
    let [hi, lo] = low32;
    Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
    let s = ip.segments();
    if ip.is_unspecified() {
        return AddrClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddrClass::Loopback;
    }
    if ip == METADATA_V6 {
        return AddrClass::CloudMetadata;
    }
    match s {
        // IPv4-mapped ::ffff:a.b.c.d.
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => classify_v4(embedded_v4([hi, lo])),
        // IPv4-compatible ::a.b.c.d (deprecated, but stacks may still route it).
        [0, 0, 0, 0, 0, 0, hi, lo] => classify_v4(embedded_v4([hi, lo])),
        // NAT64 well-known prefix.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => classify_v4(embedded_v4([hi, lo])),
        // NAT64 local-use prefix: the translator is on the local network.
        [0x64, 0xff9b, 1, ..] => AddrClass::Reserved,
        // Discard-only.
        [0x100, 0, 0, 0, ..] => AddrClass::Reserved,
        [0x2001, 0x0db8, ..] => AddrClass::Documentation,
        [0x2001, 0x0002, 0, ..] => AddrClass::Benchmarking,
        // Teredo (2001::/32) and the other IETF protocol assignments.
        [0x2001, 0x0000..=0x01ff, ..] => AddrClass::Reserved,
        // 6to4: the IPv4 address sits in bits 16..48.
        [0x2002, hi, lo, ..] => classify_v4(embedded_v4([hi, lo])),
        [0x3fff, 0x0000..=0x0fff, ..] => AddrClass::Documentation,
        [0xfc00..=0xfdff, ..] => AddrClass::UniqueLocal,
        [0xfe80..=0xfebf, ..] => AddrClass::LinkLocal,
        [0xfec0..=0xfeff, ..] => AddrClass::Private,
        [0xff00..=0xffff, ..] => AddrClass::Multicast,
        // Global unicast is 2000::/3; the rest is unassigned or reserved.
        [0x2000..=0x3fff, ..] => AddrClass::Public,
        _ => AddrClass::Reserved,
    }
}

/// Why the guard refused a target. Travels through reqwest's error chain
/// when the resolver refuses, and is found again by downcasting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} resolves to {addr}, a {class} address")]
pub struct SsrfRefusal {
    /// The host as written in the URL.
    pub host: String,
    /// The offending address.
    pub addr: IpAddr,
    /// Its class.
    pub class: AddrClass,
}

/// The resolver could not resolve a name (no answer, or a system error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve {host}: {reason}")]
pub struct DnsFailure {
    /// The host name.
    pub host: String,
    /// What the system resolver said.
    pub reason: String,
}

/// `localhost` or a name under it (RFC 6761 special-use names).
fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Hosts and networks that bypass the guard, parsed from `FetchConfig::allow`.
#[derive(Debug, Clone, Default)]
pub struct Allow {
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl Allow {
    /// Parse entries: an IP (`127.0.0.1`, `::1`), a CIDR (`10.0.0.0/8`) or a
    /// host name (`intranet.example`, matched exactly, case-insensitively).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut allow = Self::default();
        for raw in entries {
            let entry = raw.trim();
            if entry.is_empty() {
                return Err("empty entry in `allow`".into());
            }
            if let Ok(net) = entry.parse::<IpNet>() {
                allow.nets.push(net.trunc());
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                allow.nets.push(IpNet::from(ip));
            } else if entry.contains('/') {
                return Err(format!("`{entry}` in `allow` is not a valid CIDR"));
            } else {
                let host = entry.trim_end_matches('.').to_ascii_lowercase();
                allow.hosts.push(host);
            }
        }
        Ok(allow)
    }

    /// Whether a host name is allowed as such (every address it resolves to
    /// is then accepted).
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether an address is inside an allowed network. For an IPv4-mapped
    /// IPv6 address the embedded IPv4 address is tried too.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.nets
            .iter()
            .any(|net| net.contains(&ip) || mapped.is_some_and(|m| net.contains(&m)))
    }

    /// The guard's verdict for one address reached through `host`.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), SsrfRefusal> {
        let class = classify(ip);
        if class.is_public() || self.allows_host(host) || self.allows_ip(ip) {
            Ok(())
        } else {
            Err(SsrfRefusal {
                host: host.to_string(),
                addr: ip,
                class,
            })
        }
    }

    /// The verdict on a whole DNS answer: every address must pass, so a
    /// name cannot smuggle an internal address in next to a public one.
    pub fn check_answers(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), SsrfRefusal> {
        addrs.iter().try_for_each(|a| self.check(host, a.ip()))
    }

    /// The up-front check of a URL: an IP-literal host is judged here,
    /// because reqwest connects to it without asking the resolver. Domain
    /// names pass; the resolver judges their answers.
    ///
    /// `localhost` and `*.localhost` are refused here too, before any
    /// lookup, unless allowed by name: RFC 6761 makes them loopback
    /// whatever a resolver says, and an address entry such as `127.0.0.1`
    /// opens that address as written, not every name for the machine.
    pub fn check_url(&self, url: &Url) -> Result<(), SsrfRefusal> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.check(&v4.to_string(), IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.check(&format!("[{v6}]"), IpAddr::V6(v6)),
            Some(Host::Domain(name)) if is_localhost_name(name) && !self.allows_host(name) => {
                Err(SsrfRefusal {
                    host: name.to_string(),
                    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    class: AddrClass::Loopback,
                })
            }
            Some(Host::Domain(_)) | None => Ok(()),
        }
    }
}

/// Fixed answers for host names, parsed from `FetchConfig::resolve` (like
/// curl's `--resolve`): a listed name is not looked up, it resolves to its
/// address, which the guard then judges like any DNS answer.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    hosts: HashMap<String, IpAddr>,
}

impl Overrides {
    /// Parse `host name → IP address` entries. Names are matched
    /// case-insensitively, without a trailing dot.
    pub fn parse(entries: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut hosts = HashMap::with_capacity(entries.len());
        for (name, addr) in entries {
            let key = name.trim().trim_end_matches('.').to_ascii_lowercase();
            if key.is_empty() || key.contains(['/', ':', ' ']) {
                return Err(format!("`{name}` in `resolve` is not a host name"));
            }
            let ip: IpAddr = addr.trim().parse().map_err(|_| {
                format!("`resolve` maps `{name}` to `{addr}`, which is not an IP address")
            })?;
            hosts.insert(key, ip);
        }
        Ok(Self { hosts })
    }

    /// The fixed address of `host`, if it has one.
    pub fn get(&self, host: &str) -> Option<IpAddr> {
        if self.hosts.is_empty() {
            return None;
        }
        let key = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.get(&key).copied()
    }
}

/// A reqwest resolver that asks the system resolver and refuses the whole
/// answer if any address in it is not public (and not allowed).
///
/// Refusing rather than filtering is deliberate: a name that mixes public
/// and internal answers is a rebinding attempt or a misconfiguration, and
/// either way the page is not worth the risk. hyper connects to exactly the
/// addresses returned here, so there is no window between check and use.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow: Arc<Allow>,
    overrides: Arc<Overrides>,
}

impl GuardedResolver {
    /// A resolver applying `allow` that answers the names in `overrides`
    /// itself. Their addresses go through the same check as DNS answers, so
    /// an override cannot open what `allow` keeps closed.
    pub fn with_overrides(allow: Arc<Allow>, overrides: Arc<Overrides>) -> Self {
        Self { allow, overrides }
    }

    /// Resolve `host` and check every answer.
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, ResolveError> {
        if let Some(ip) = self.overrides.get(host) {
            let addrs = vec![SocketAddr::new(ip, 0)];
            self.allow.check_answers(host, &addrs)?;
            return Ok(addrs);
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| DnsFailure {
                host: host.to_string(),
                reason: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(DnsFailure {
                host: host.to_string(),
                reason: "no addresses".into(),
            }
            .into());
        }
        self.allow.check_answers(host, &addrs)?;
        Ok(addrs)
    }
}

/// Why [`GuardedResolver::lookup`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// An answer was refused.
    #[error(transparent)]
    Refused(#[from] SsrfRefusal),
    /// No answer.
    #[error(transparent)]
    Dns(#[from] DnsFailure),
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        let fut: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            match this.lookup(&host).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                // Keep the concrete types in the chain so the fetcher can
                // downcast them back out of reqwest's error.
                Err(ResolveError::Refused(r)) => Err(Box::new(r) as _),
                Err(ResolveError::Dns(d)) => Err(Box::new(d) as _),
            }
        });
        fut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(literal: &str, expect: AddrClass) {
        let ip: IpAddr = literal.parse().unwrap();
        assert_eq!(classify(ip), expect, "{literal}");
    }

    #[test]
    fn classifies_ipv4() {
        use AddrClass::*;
        for (lit, class) in [
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
            ("93.184.215.14", Public),
            ("196.200.92.10", Public),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("172.15.255.255", Public),
            ("172.32.0.0", Public),
            ("198.17.255.255", Public),
            ("198.20.0.0", Public),
            ("223.255.255.255", Public),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("169.254.0.1", LinkLocal),
            ("169.254.169.254", CloudMetadata),
            ("100.64.0.1", SharedCgnat),
            ("100.100.100.200", SharedCgnat),
            ("100.127.255.255", SharedCgnat),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("254.1.1.1", Reserved),
            ("192.0.0.8", Reserved),
            ("192.88.99.1", Reserved),
            ("192.0.2.1", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.255", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
        ] {
            check(lit, class);
        }
    }

    #[test]
    fn classifies_ipv6() {
        use AddrClass::*;
        for (lit, class) in [
            ("2606:4700:4700::1111", Public),
            ("2001:4860:4860::8888", Public),
            ("2a00:1450:4007:80e::200e", Public),
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Private),
            ("fc00::1", UniqueLocal),
            ("fd12:3456:789a::1", UniqueLocal),
            ("fd00:ec2::254", CloudMetadata),
            ("ff02::1", Multicast),
            ("ff05::1:3", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001::1", Reserved),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Reserved),
            ("100::1", Reserved),
            ("64:ff9b:1::1", Reserved),
            ("4000::1", Reserved),
            ("1234::1", Reserved),
        ] {
            check(lit, class);
        }
    }

    #[test]
    fn embedded_ipv4_is_judged_on_the_ipv4() {
        use AddrClass::*;
        for (lit, class) in [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.1.2.3", Private),
            ("::ffff:169.254.169.254", CloudMetadata),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Loopback),
            ("::192.168.0.1", Private),
            ("::8.8.8.8", Public),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::8.8.8.8", Public),
            ("2002:7f00:1::1", Loopback),
            ("2002:a00:1::", Private),
            ("2002:808:808::1", Public),
        ] {
            check(lit, class);
        }
    }

    #[test]
    fn url_literals_are_checked_in_every_spelling() {
        let allow = Allow::default();
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0/",
            "http://[fd00:ec2::254]/",
            "http://localhost/",
            "http://LocalHost./",
            "http://api.localhost:8080/",
        ] {
            let parsed = Url::parse(url).unwrap();
            assert!(allow.check_url(&parsed).is_err(), "{url} should be refused");
        }
        for url in [
            "http://8.8.8.8/",
            "https://news.abamako.com/",
            "http://[2606:4700::1]/",
        ] {
            let parsed = Url::parse(url).unwrap();
            assert!(allow.check_url(&parsed).is_ok(), "{url} should pass");
        }
    }

    #[test]
    fn allow_list_opens_exactly_what_it_names() {
        let allow = Allow::parse(&[
            "127.0.0.1".into(),
            "10.0.0.0/8".into(),
            "Intranet.Example".into(),
        ])
        .unwrap();
        assert!(allow.check("x", "127.0.0.1".parse().unwrap()).is_ok());
        assert!(
            allow
                .check("x", "::ffff:127.0.0.1".parse().unwrap())
                .is_ok()
        );
        assert!(allow.check("x", "127.0.0.2".parse().unwrap()).is_err());
        assert!(allow.check("x", "::1".parse().unwrap()).is_err());
        assert!(allow.check("x", "10.200.1.1".parse().unwrap()).is_ok());
        assert!(allow.check("x", "192.168.1.1".parse().unwrap()).is_err());
        assert!(
            allow
                .check("intranet.example", "192.168.1.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            allow
                .check("intranet.example.", "192.168.1.1".parse().unwrap())
                .is_ok()
        );
        // The address does not open the name that means it.
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(allow.check_url(&url("http://localhost:8080/")).is_err());
        assert!(allow.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        let by_name = Allow::parse(&["localhost".into()]).unwrap();
        assert!(by_name.check_url(&url("http://localhost:8080/")).is_ok());
        let refusal = allow
            .check("x", "169.254.169.254".parse().unwrap())
            .unwrap_err();
        assert_eq!(refusal.class, AddrClass::CloudMetadata);
        assert!(Allow::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(Allow::parse(&[" ".into()]).is_err());
    }

    #[test]
    fn every_dns_answer_is_checked() {
        let answers = |list: &[&str]| -> Vec<SocketAddr> {
            list.iter()
                .map(|ip| SocketAddr::new(ip.parse().unwrap(), 0))
                .collect()
        };
        let open = Allow::default();
        assert!(
            open.check_answers("news.example", &answers(&["8.8.8.8", "2606:4700::1"]))
                .is_ok()
        );
        for mixed in [
            &["8.8.8.8", "10.0.0.1"][..],
            &["1.1.1.1", "169.254.169.254"],
            &["2606:4700::1", "fd00::1"],
            &["8.8.8.8", "::ffff:127.0.0.1"],
        ] {
            let refusal = open
                .check_answers("rebind.example", &answers(mixed))
                .unwrap_err();
            assert_eq!(refusal.addr.to_string(), mixed[1].to_string());
        }
        // Allowing 127.0.0.1 does not allow ::1 next to it.
        let loopback = Allow::parse(&["127.0.0.1".into()]).unwrap();
        assert!(
            loopback
                .check_answers("localhost", &answers(&["127.0.0.1", "::1"]))
                .is_err()
        );
        assert!(
            loopback
                .check_answers("localhost", &answers(&["127.0.0.1"]))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn overrides_answer_for_their_names_and_still_pass_the_guard() {
        let entries: BTreeMap<String, String> = [
            ("News01.Chaos.Test".to_string(), "127.0.0.1".to_string()),
            ("metadata.test".to_string(), "169.254.169.254".to_string()),
        ]
        .into();
        let overrides = Arc::new(Overrides::parse(&entries).unwrap());
        let allow = Arc::new(Allow::parse(&["127.0.0.1".into()]).unwrap());
        let resolver = GuardedResolver::with_overrides(allow, overrides.clone());
        // Matched case-insensitively, trailing dot or not, without a lookup
        // (`.test` names never resolve through DNS).
        for name in ["news01.chaos.test", "NEWS01.chaos.test."] {
            let addrs = resolver.lookup(name).await.unwrap();
            assert_eq!(addrs, vec![SocketAddr::from(([127, 0, 0, 1], 0))]);
        }
        // The override's address is judged like any answer.
        let err = resolver.lookup("metadata.test").await.unwrap_err();
        assert!(matches!(
            err,
            ResolveError::Refused(SsrfRefusal {
                class: AddrClass::CloudMetadata,
                ..
            })
        ));
        // Without the allow-list entry, loopback stays closed.
        let closed = GuardedResolver::with_overrides(Arc::new(Allow::default()), overrides);
        assert!(matches!(
            closed.lookup("news01.chaos.test").await.unwrap_err(),
            ResolveError::Refused(_)
        ));
        // Names not listed go to the system resolver as before.
        assert!(matches!(
            closed.lookup("not-listed.invalid").await.unwrap_err(),
            ResolveError::Dns(_)
        ));
    }

    #[test]
    fn overrides_refuse_what_is_not_a_name_or_an_address() {
        let parse = |name: &str, addr: &str| {
            Overrides::parse(&[(name.to_string(), addr.to_string())].into())
        };
        assert!(parse("a.test", "127.0.0.1").is_ok());
        assert!(parse("a.test", "::1").is_ok());
        assert!(parse("a.test", "localhost").is_err());
        assert!(parse("a.test", "127.0.0.1:80").is_err());
        assert!(parse("a.test:80", "127.0.0.1").is_err());
        assert!(parse(" ", "127.0.0.1").is_err());
    }

    #[tokio::test]
    async fn resolver_refuses_localhost() {
        let resolver = GuardedResolver::with_overrides(Arc::default(), Arc::default());
        let err = resolver.lookup("localhost").await.unwrap_err();
        assert!(matches!(
            err,
            ResolveError::Refused(SsrfRefusal {
                class: AddrClass::Loopback,
                ..
            })
        ));
    }
}
