//! The fetch stage: turns a URL request into the decoded HTML of the page,
//! or into a classified failure.
//!
//! One job: get the bytes of a page safely and turn them into text. That
//! means an SSRF guard on every address it connects to (IP literals, every
//! DNS answer, every redirect hop), time limits (connect, first byte,
//! total), a body-size cap that also bounds decompression, a content-type
//! check, and browser-compatible charset handling ([`decode_html`]).
//!
//! It must not parse the page (the parse stage does) nor talk to the bus:
//! [`Fetch`] implements [`newsflow_core::Stage`] and `newsflow-bus` runs it.
//!
//! Not yet here (a later issue): robots.txt and per-host politeness (rate
//! limits, crawl delay). Only the global `max_concurrency` limit applies.

#![deny(missing_docs)]

mod charset;
mod config;
mod error;
mod fetcher;
mod guard;
mod stage;

pub use charset::{decode_html, header_charset, sniff_html};
pub use config::FetchConfig;
pub use encoding_rs::Encoding;
pub use error::{FetchError, TimeoutPhase};
pub use fetcher::{FetchOutcome, Fetcher};
pub use guard::{AddrClass, Allow, classify};
pub use stage::Fetch;
