//! The `newsflow` command's library half: configuration, the wiring of
//! stages to the bus, the local demo and the printing of articles.
//!
//! It holds glue only. The logic of each stage lives in its own crate, the
//! delivery policy in `newsflow-bus`; this crate builds the real clients
//! (NATS, HTTP, SQLite) and hands them over.

pub mod bench;
pub mod bench_extract;
pub mod chaos;
pub mod config;
pub mod demo;
pub mod kv;
pub mod offline;
pub mod ops;
pub mod pipeline;
pub mod print;
pub mod query;
