//! The fetch stage: turns a URL request into the decoded HTML of the page,
//! or into a classified failure, politely and without being abusable.
//!
//! One job: get the bytes of a page safely and turn them into text. It must
//! not parse the page (the parse stage does) nor talk to the bus: [`Fetch`]
//! implements [`newsflow_core::Stage`] and `newsflow-bus` runs it. Shared
//! state between replicas goes through the [`KvStore`] trait, which the
//! binary implements over a JetStream KV bucket.
//!
//! # Safety
//!
//! An SSRF guard on every address a request may reach (`guard`): IP-literal
//! hosts in every notation (the `url` crate canonicalises decimal, hex,
//! octal and short forms; IPv4-mapped and other embedding IPv6 forms are
//! judged on the IPv4 address), every answer of every DNS lookup (hyper
//! connects only to the addresses the guarded resolver returned, so there
//! is no rebinding window), and every redirect hop, which is followed by
//! hand. Only http and https. `allow` opens named hosts or CIDRs.
//!
//! # Bounded resources
//!
//! Connect, first-byte (per hop) and total deadlines; the total one runs
//! while the body streams, so a server sending one byte a second is cut
//! off. A body cap checked on the announced `Content-Length` (a 5 GB claim
//! is refused before reading) and on every decoded chunk, so gzip, brotli,
//! zstd or deflate bombs stop at the cap. Redirect cap and loop detection.
//! HTML and XHTML only. A connection closed mid-body is a retry
//! (`interrupted`).
//!
//! # Politeness, across replicas
//!
//! Before every request (robots.txt and redirect hops included):
//!
//! 1. robots.txt of the origin (`scheme://host:port`), fetched through the
//!    same guarded client, cached `robots_cache_secs`, read as RFC 9309
//!    says (first 500 KiB; 4xx = no rules; 5xx/429/network failure = all
//!    disallowed for now, so retry). A disallowed URL is rejected with
//!    kind `robots_disallowed`.
//! 2. A per-host permit (`host_max_concurrency` per replica) and a global
//!    one (`max_concurrency`).
//! 3. A slot in the per-host schedule, shared through [`KvStore`]: one
//!    record per origin holds the earliest start of the next request; a
//!    fetch reads it, takes `max(now, next)` and writes
//!    `next = slot + max(host_min_delay_ms, Crawl-delay)` with a
//!    compare-and-set on the revision it read. Replicas racing for a host
//!    serialise on that write, so requests to a host start at least the
//!    interval apart however many replicas run. A slot within
//!    `host_max_wait_ms` is waited for in-process. A later one (up to 15
//!    minutes ahead) is reserved for the message's *ticket* (its trace id
//!    and article id, stable across redeliveries) and the fetch fails with
//!    `host_busy` and `after` = a little before that slot, a deferral
//!    (`StageError::Defer`): the bus parks the message until then without
//!    holding a worker or spending a delivery attempt (beyond a minute it
//!    NAKs it with that delay, which does count), and the next attempt
//!    finds its ticket and takes its slot. No busy loop, one slow site does
//!    not hold every worker, and a message queued behind a long backlog for
//!    one host is set aside about once rather than once per round. A host
//!    at its concurrency limit defers the same way. A 429 (or 503 with `Retry-After`)
//!    pushes the host's record back for everyone.
//!
//! Per-host concurrency is per replica; the cross-replica guarantee is the
//! request spacing. Replicas need synchronised clocks (NTP).
//!
//! # No wasted work
//!
//! A "seen" record per article id (the hash of the normalised URL) holds
//! when the URL was fetched and its `ETag`/`Last-Modified`. A URL fetched
//! less than `skip_seen_secs` ago is acknowledged without output unless the
//! request says `force`; an older one is refetched with `If-None-Match` /
//! `If-Modified-Since`, and a 304 acknowledges without output. Both are
//! logged and counted; `force` fetches unconditionally. A redelivery of
//! the request that wrote a record ignores it, so a crash between fetch
//! and publish loses nothing.
//!
//! # Wiring
//!
//! `Fetch::new` keeps both stores in memory (one replica). Services call
//! [`Fetch::with_kv`] with two JetStream KV buckets, [`SEEN_BUCKET`] (max
//! age `seen_retention_secs`) and [`HOSTS_BUCKET`] (max age
//! [`HOSTS_BUCKET_MAX_AGE`]), each wrapped to implement [`KvStore`].
//! [`fetch_once`] is the one-shot command, [`bench`](mod@bench) the benchmark;
//! metrics names are in [`metrics::names`].

#![deny(missing_docs)]

pub mod bench;
mod charset;
mod config;
mod error;
mod fetcher;
mod guard;
mod kv;
pub mod metrics;
mod polite;
mod robots;
mod schedule;
mod seen;
mod stage;

pub use charset::{decode_html, header_charset, sniff_html};
pub use config::FetchConfig;
pub use encoding_rs::Encoding;
pub use error::{FetchError, TimeoutPhase};
pub use fetcher::{FetchOutcome, Fetcher, Hop};
pub use guard::{AddrClass, Allow, classify};
pub use kv::{
    HOSTS_BUCKET, HOSTS_BUCKET_MAX_AGE, KvEntry, KvError, KvStore, MemoryKv, SEEN_BUCKET,
};
pub use stage::{Fetch, FetchReport, ReportError, fetch_once};
