//! The whole configuration of the `newsflow` command: one section per
//! component, each type defined next to the code that uses it.

use std::path::Path;

use serde::Deserialize;

/// Built-in defaults: the commented `config/default.toml`, so the file and
/// the code cannot disagree.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Every setting, as merged from defaults, `--config` and `NEWSFLOW__*`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// NATS connection, streams and consumers.
    pub nats: newsflow_bus::BusConfig,
    /// Fetch stage.
    pub fetch: newsflow_fetch::FetchConfig,
    /// Parse stage.
    pub parse: newsflow_parse::ParseConfig,
    /// Enrich stage.
    pub enrich: newsflow_enrich::EnrichConfig,
    /// Store stage.
    pub store: newsflow_store::StoreConfig,
    /// The query API the store service serves.
    pub api: newsflow_api::ApiConfig,
    /// Logging.
    pub log: LogConfig,
    /// `newsflow up`.
    pub up: UpConfig,
    /// Health and metrics endpoints.
    pub ops: crate::ops::OpsConfig,
}

/// Logging settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// One JSON object per line instead of text.
    pub json: bool,
}

/// Settings of the local all-in-one pipeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Where the local nats-server keeps its JetStream files.
    pub data_dir: String,
    /// Port of the local nats-server.
    pub nats_port: u16,
}

impl Default for UpConfig {
    fn default() -> Self {
        Self {
            data_dir: "data".into(),
            nats_port: 4222,
        }
    }
}

impl AppConfig {
    /// Load defaults, then the file, then `NEWSFLOW__*` variables, then the
    /// conventional variables `NATS_URL` and `NEWSFLOW_DB`.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut cfg: AppConfig = newsflow_runtime::load(DEFAULTS, file)?;
        if let Ok(url) = std::env::var("NATS_URL") {
            cfg.nats.url = url;
        }
        if let Ok(db) = std::env::var("NEWSFLOW_DB") {
            cfg.store.db = db;
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_resolve_is_set_from_one_environment_variable() {
        // Spawned stage processes get their host map this way (the chaos
        // test and `bench soak`), so the inline-table syntax must parse.
        let cfg: AppConfig = newsflow_runtime::config::load_with_env(
            DEFAULTS,
            None,
            [(
                "NEWSFLOW__FETCH__RESOLVE".to_string(),
                r#"{ "a.chaos.test" = "127.0.0.1", "B.chaos.test" = "::1" }"#.to_string(),
            )],
        )
        .unwrap();
        assert_eq!(cfg.fetch.resolve.len(), 2);
        assert_eq!(cfg.fetch.resolve["a.chaos.test"], "127.0.0.1");
        let defaults: AppConfig =
            newsflow_runtime::config::load_with_env(DEFAULTS, None, Vec::new()).unwrap();
        assert!(defaults.fetch.resolve.is_empty());
    }
}
