//! The fetch benchmark outside the binary, for figures from this crate
//! alone:
//!
//! ```text
//! cargo run --release -p newsflow-fetch --example bench_fetch -- \
//!     [--memory-kv] [--pages N] [--page-bytes B] [--concurrency C] \
//!     [--replicas R] [--hosts H] [--pages-per-host P] [--delay-ms D]
//! ```
//!
//! Throughput with politeness off, then several replicas sharing the host
//! schedule in a JetStream KV bucket on a private nats-server (or, with
//! `--memory-kv`, in one in-process store). Prints the report as JSON.
//! Everything runs on 127.0.0.1.

#[path = "../tests/util/nats_kv.rs"]
mod nats_kv;

use std::sync::Arc;

use newsflow_bus::{Bus, BusConfig};
use newsflow_fetch::bench::{self, BenchOptions};
use newsflow_fetch::{HOSTS_BUCKET, HOSTS_BUCKET_MAX_AGE, KvStore};
use newsflow_test_support::NatsServer;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let memory = args.iter().any(|a| a == "--memory-kv");
    let value = |flag: &str| -> Option<u64> {
        let i = args.iter().position(|a| a == flag)?;
        Some(args.get(i + 1)?.parse().expect("a number after the flag"))
    };
    let mut options = BenchOptions::default();
    if let Some(v) = value("--pages") {
        options.pages = v as usize;
    }
    if let Some(v) = value("--page-bytes") {
        options.page_bytes = v as usize;
    }
    if let Some(v) = value("--concurrency") {
        options.concurrency = v as usize;
    }
    if let Some(v) = value("--replicas") {
        options.replicas = v as usize;
    }
    if let Some(v) = value("--hosts") {
        options.hosts = v as usize;
    }
    if let Some(v) = value("--pages-per-host") {
        options.pages_per_host = v as usize;
    }
    if let Some(v) = value("--delay-ms") {
        options.host_min_delay_ms = v;
    }
    let (_nats, kv): (Option<NatsServer>, Option<Arc<dyn KvStore>>) = if memory {
        (None, None)
    } else {
        let nats = NatsServer::start();
        let bus = Bus::connect(BusConfig {
            url: nats.url(),
            ..Default::default()
        })
        .await
        .expect("connect to the private nats-server");
        let bucket = bus
            .kv_bucket(HOSTS_BUCKET, HOSTS_BUCKET_MAX_AGE)
            .await
            .expect("hosts bucket");
        (Some(nats), Some(Arc::new(nats_kv::NatsKv(bucket))))
    };
    let report = bench::run(options, kv).await.expect("bench");
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
