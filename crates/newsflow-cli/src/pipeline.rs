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

/// How long a service waits at start-up for JetStream to accept its
/// streams: a cluster elects its leaders some seconds after it starts, and
/// a restarted server recovers its streams first.
const TOPOLOGY_WAIT: Duration = Duration::from_secs(60);

/// Connect to NATS and make sure the streams exist, waiting (with a log
/// line per attempt) while JetStream is not ready yet.
pub async fn connect(cfg: &AppConfig) -> anyhow::Result<Bus> {
    let bus = Bus::connect(cfg.nats.clone()).await?;
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match bus.ensure_topology().await {
            Ok(()) => return Ok(bus),
            Err(e @ newsflow_bus::BusError::Config(_)) => return Err(e.into()),
            Err(e) if started.elapsed() < TOPOLOGY_WAIT => {
                tracing::warn!(error = %e, "JetStream not ready for the streams yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "JetStream did not accept the streams within {}s; check that the server runs with JetStream (-js) and, in a cluster, that a majority of nodes is up",
                        TOPOLOGY_WAIT.as_secs()
                    )
                });
            }
        }
    }
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
            let store = crate::query::open(cfg).await?;
            let api = serve_api(cfg, store.clone(), shutdown.clone()).await?;
            let result = run(
                bus,
                newsflow_store::StoreStage::new(store.clone()),
                shutdown,
            )
            .await;
            // The API answers until the stage has drained, then finishes
            // the requests in flight.
            if let Some(api) = api {
                let _ = api.await;
            }
            store.close().await;
            result
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

/// Serve the query API next to the store stage until `shutdown`; `None`
/// when `api.listen` is empty.
async fn serve_api(
    cfg: &AppConfig,
    store: newsflow_store::AnyStore,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let listen = cfg.api.listen.trim();
    if listen.is_empty() {
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {listen} for the query API; set api.listen \
             (NEWSFLOW__API__LISTEN) to a free address, or \"\" to turn the API off"
            )
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "query API: GET /articles /articles/{{id}} /entities /quotes /openapi.json");
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = newsflow_api::serve(listener, store, shutdown.cancelled_owned()).await {
            tracing::warn!(error = %e, "query API stopped");
        }
    })))
}
