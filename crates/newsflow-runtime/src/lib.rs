//! Process plumbing shared by every newsflow service: layered configuration
//! (defaults → file → `NEWSFLOW__*` environment), logging, the shutdown
//! signal, and supervising a local `nats-server` child.
//!
//! No pipeline logic lives here, and nothing here talks to NATS.

pub mod config;
pub mod nats_server;

pub use config::{ConfigError, load};
pub use nats_server::{NatsServerError, NatsServerProcess, find_nats_server};

/// Install the global tracing subscriber. Level from `RUST_LOG` (default
/// `info`); JSON lines when `json` is set, for log collectors.
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,async_nats=warn,sqlx=warn,hyper=warn,reqwest=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, `up` after a stage) keeps the first subscriber.
    drop(result);
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM (what Docker and
/// systemd send).
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown requested: finishing in-flight work");
}
