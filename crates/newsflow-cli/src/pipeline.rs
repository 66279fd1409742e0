//! Wiring: build each stage from its settings and run it on the bus.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use newsflow_bus::Bus;
use newsflow_core::Stage;
use tokio_util::sync::CancellationToken;

use crate::config::AppConfig;
use crate::kv::NatsKv;

/// The stages `newsflow` can run as services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageName {
    /// `newsflow.urls` → `newsflow.fetched`.
    Fetch,
    /// `newsflow.fetched` → `newsflow.parsed`.
    Parse,
    /// `newsflow.parsed` → `newsflow.enriched`.
    Enrich,
    /// `newsflow.enriched` → the database.
    Store,
}

/// Connect to NATS and make sure the streams exist.
pub async fn connect(cfg: &AppConfig) -> anyhow::Result<Bus> {
    let bus = Bus::connect(cfg.nats.clone()).await?;
    bus.ensure_topology().await?;
    Ok(bus)
}

async fn run<S: Stage>(bus: &Bus, stage: S, shutdown: CancellationToken) -> anyhow::Result<()> {
    bus.run_stage(Arc::new(stage), shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Run one stage until `shutdown` is cancelled.
pub async fn run_one(
    cfg: &AppConfig,
    bus: &Bus,
    name: StageName,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    match name {
        StageName::Fetch => {
            // Replicas share the "seen" records and the per-host schedule
            // through JetStream KV, so politeness holds across processes.
            let seen = bus
                .kv_bucket(
                    newsflow_fetch::SEEN_BUCKET,
                    Duration::from_secs(cfg.fetch.seen_retention_secs),
                )
                .await?;
            let hosts = bus
                .kv_bucket(
                    newsflow_fetch::HOSTS_BUCKET,
                    newsflow_fetch::HOSTS_BUCKET_MAX_AGE,
                )
                .await?;
            let stage = newsflow_fetch::Fetch::with_kv(
                cfg.fetch.clone(),
                Arc::new(NatsKv(seen)),
                Arc::new(NatsKv(hosts)),
            )
            .context("cannot build the HTTP client")?;
            run(bus, stage, shutdown).await
        }
        StageName::Parse => run(bus, newsflow_parse::Parse::new(cfg.parse.clone()), shutdown).await,
        StageName::Enrich => {
            run(
                bus,
                newsflow_enrich::Enrich::new(cfg.enrich.clone()),
                shutdown,
            )
            .await
        }
        StageName::Store => {
            let store = newsflow_store::SqliteStore::open(&cfg.store)
                .await
                .with_context(|| format!("cannot open the store at {}", cfg.store.db))?;
            run(bus, newsflow_store::StoreStage::new(store), shutdown).await
        }
    }
}

/// Run every stage in this process until `shutdown` is cancelled; returns
/// when all have finished their in-flight work.
pub async fn run_all(
    cfg: &AppConfig,
    bus: &Bus,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let stages = [
        StageName::Fetch,
        StageName::Parse,
        StageName::Enrich,
        StageName::Store,
    ];
    let runs = stages.map(|name| {
        let shutdown = shutdown.clone();
        async move {
            let result = run_one(cfg, bus, name, shutdown.clone()).await;
            if result.is_err() {
                // One stage failing to start stops the others: a half
                // pipeline would only pile up work.
                shutdown.cancel();
            }
            result.with_context(|| format!("{name:?} stage"))
        }
    });
    let results = futures::future::join_all(runs).await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    Ok(())
}
