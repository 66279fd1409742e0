//! The operations endpoints every service serves: `/healthz` (the process
//! is alive), `/readyz` (connected to NATS and, for the store, to its
//! database) and `/metrics` (Prometheus text).
//!
//! Metrics are recorded anywhere through the `metrics` facade; this module
//! installs the one Prometheus recorder of the process and renders it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

/// Where the endpoints listen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// Address of the HTTP endpoints; port 0 picks a free one (printed in
    /// the log); an empty string turns them off.
    pub listen: String,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
        }
    }
}

/// A readiness check: resolves to `Err(reason)` when not ready.
pub type Check =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

#[derive(Clone)]
struct Ops {
    metrics: PrometheusHandle,
    checks: Vec<(String, Check)>,
}

fn recorder() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    // Histograms of seconds get buckets, so they export as histograms and
    // can be aggregated across replicas (summaries cannot).
    let buckets = [
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &buckets,
        )
        .context("bad histogram buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    newsflow_fetch::metrics::describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Serve the endpoints until `shutdown`; returns the bound address, or
/// `None` when turned off.
pub async fn serve(
    cfg: &OpsConfig,
    checks: Vec<(String, Check)>,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<SocketAddr>> {
    if cfg.listen.trim().is_empty() {
        return Ok(None);
    }
    let ops = Ops {
        metrics: recorder()?,
        checks,
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(|State(ops): State<Ops>| async move { ops.metrics.render() }),
        )
        .with_state(ops);
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await.with_context(|| {
        format!("cannot listen on {} for /healthz and /metrics; set ops.listen (NEWSFLOW__OPS__LISTEN) to a free address, or \"\" to turn them off", cfg.listen)
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "health and metrics endpoints: /healthz /readyz /metrics");
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "ops endpoint stopped");
        }
    });
    Ok(Some(addr))
}

async fn readyz(State(ops): State<Ops>) -> (StatusCode, String) {
    let mut failures = Vec::new();
    for (name, check) in &ops.checks {
        if let Err(reason) = check().await {
            failures.push(format!("{name}: {reason}"));
        }
    }
    if failures.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", failures.join("\n")),
        )
    }
}

/// Readiness of the NATS connection.
pub fn nats_check(bus: &newsflow_bus::Bus) -> (String, Check) {
    let bus = bus.clone();
    let check: Check = Arc::new(move || {
        let connected = bus.is_connected();
        Box::pin(async move {
            if connected {
                Ok(())
            } else {
                Err("not connected to NATS".into())
            }
        })
    });
    ("nats".into(), check)
}
