//! Shared helpers: configuration for a test, the seed page, waiting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use newsflow_bus::Bus;
use newsflow_cli::config::AppConfig;
use newsflow_core::{Enriched, Envelope, Event};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// The seed page as served (windows-1252 bytes).
pub fn seed_page() -> Vec<u8> {
    std::fs::read(repo().join("seeds/abamako-300961.html")).expect("seeds/abamako-300961.html")
}

/// Defaults, pointed at this test's servers, with short timers so that
/// redelivery happens within a test's patience.
pub fn config(nats_url: &str, db: &Path) -> AppConfig {
    let mut cfg: AppConfig =
        newsflow_runtime::config::load_with_env(newsflow_cli::config::DEFAULTS, None, Vec::new())
            .expect("default config");
    cfg.nats.url = nats_url.to_string();
    cfg.nats.consumer.ack_wait_secs = 3;
    cfg.nats.consumer.backoff_base_ms = 100;
    cfg.nats.consumer.backoff_max_ms = 500;
    cfg.nats.consumer.max_deliver = 3;
    cfg.store.db = db.display().to_string();
    // Tests run side by side: the query API takes any free port.
    cfg.api.listen = "127.0.0.1:0".into();
    cfg.fetch.allow = vec!["127.0.0.1".into()];
    // Every fixture page is on one loopback host; the tests are not about
    // politeness (the fetch crate's own tests are).
    cfg.fetch.host_min_delay_ms = 0;
    cfg
}

/// Wait for `n` enriched events (from the start of the stream).
pub async fn enriched(bus: &Bus, n: usize, within: Duration) -> Vec<Envelope<Enriched>> {
    // Garbage published to the subject on purpose is skipped here; the
    // store stage dead-letters it.
    let stream = bus
        .subscribe(newsflow_core::subjects::ENRICHED, true)
        .await
        .expect("subscribe");
    let events = stream
        .filter_map(|r| async move { Enriched::decode(&r.expect("message").payload, "").ok() });
    tokio::time::timeout(within, events.take(n).collect::<Vec<_>>())
        .await
        .unwrap_or_else(|_| panic!("fewer than {n} enriched articles within {within:?}"))
}

/// Poll `check` every 100 ms until it returns Some, or panic after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves
/// no stage processes behind.
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `newsflow <name>` as its own OS process, as docker compose runs it,
/// pointed at this test's servers: loopback allowed, no per-host delay, no
/// API or ops port; `env` adds or overrides variables.
pub fn stage_process(
    name: &str,
    nats: &str,
    db: &str,
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_newsflow"));
    command
        .arg(name)
        .env("NATS_URL", nats)
        .env("NEWSFLOW_DB", db)
        .env("NEWSFLOW__FETCH__ALLOW", "[\"127.0.0.1\"]")
        .env("NEWSFLOW__FETCH__HOST_MIN_DELAY_MS", "0")
        .env("NEWSFLOW__API__LISTEN", "")
        .env("NEWSFLOW__OPS__LISTEN", "")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("spawn newsflow")
}
