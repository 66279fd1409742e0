//! Docker cannot run here, so docker-compose.yml is kept honest by a test:
//! every service that runs our image runs a real `newsflow` subcommand, and
//! every environment variable it sets is one the code reads.

use std::process::Command;

use serde_yaml_ng::Value;

use crate::util;

const BIN: &str = env!("CARGO_BIN_EXE_newsflow");

/// Variables read outside the `NEWSFLOW__*` scheme.
const KNOWN_VARS: &[&str] = &["NATS_URL", "NEWSFLOW_DB", "NEWSFLOW_CONFIG", "RUST_LOG"];

fn compose() -> Value {
    let text = std::fs::read_to_string(util::repo().join("docker-compose.yml")).unwrap();
    let mut value: Value = serde_yaml_ng::from_str(&text).unwrap();
    value.apply_merge().unwrap();
    value
}

#[test]
fn every_newsflow_service_runs_a_real_subcommand() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let mut checked = 0;
    for (name, service) in services {
        if service.get("build").is_none() {
            continue; // nats, postgres: not our image
        }
        let command = service["command"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name:?} has no command"));
        let sub = command[0].as_str().unwrap();
        let status = Command::new(BIN).args([sub, "--help"]).output().unwrap();
        assert!(
            status.status.success(),
            "service {name:?} runs `newsflow {sub}`, which does not exist"
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the four stage services, checked {checked}"
    );
}

#[test]
fn every_environment_variable_is_one_the_code_reads() {
    let compose = compose();
    for (name, service) in compose["services"].as_mapping().unwrap() {
        if service.get("build").is_none() {
            continue;
        }
        let Some(env) = service.get("environment").and_then(Value::as_mapping) else {
            continue;
        };
        for (key, value) in env {
            let key = key.as_str().unwrap();
            if KNOWN_VARS.contains(&key) {
                continue;
            }
            assert!(
                key.starts_with("NEWSFLOW__"),
                "service {name:?} sets {key}, which nothing reads"
            );
            let value = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{value:?}"));
            let loaded: Result<newsflow_cli::config::AppConfig, _> =
                newsflow_runtime::config::load_with_env(
                    newsflow_cli::config::DEFAULTS,
                    None,
                    vec![(key.to_string(), value)],
                );
            assert!(
                loaded.is_ok(),
                "service {name:?} sets {key}: {}",
                loaded.err().unwrap()
            );
        }
    }
}

#[test]
fn the_docker_config_file_loads() {
    let path = util::repo().join("config/docker.toml");
    let cfg = newsflow_cli::config::AppConfig::load(Some(&path)).unwrap();
    assert_eq!(
        cfg.nats.url,
        std::env::var("NATS_URL").unwrap_or("nats://nats:4222".into())
    );
}

#[test]
fn the_config_file_documents_every_setting() {
    // default.toml is the built-in default, so any setting missing from it
    // would silently take a code default nobody can read about.
    let text = std::fs::read_to_string(util::repo().join("config/default.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    for section in [
        "nats", "fetch", "parse", "enrich", "store", "api", "log", "up", "ops",
    ] {
        assert!(
            table.contains_key(section),
            "config/default.toml lacks [{section}]"
        );
    }
    // Every key line is preceded by a comment line.
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
            continue;
        }
        let mut j = i;
        while j > 0 && !lines[j - 1].trim().starts_with('#') && !lines[j - 1].trim().is_empty() {
            j -= 1;
        }
        assert!(
            j > 0 && lines[j - 1].trim().starts_with('#'),
            "setting without a comment: {t}"
        );
    }
}

/// docker-compose.yml with docker-compose.cluster.yml layered over it, as
/// `docker compose -f … -f …` merges them: maps merge, lists replace.
fn cluster_compose() -> Value {
    let text = std::fs::read_to_string(util::repo().join("docker-compose.cluster.yml")).unwrap();
    let mut over: Value = serde_yaml_ng::from_str(&text).unwrap();
    over.apply_merge().unwrap();
    let mut base = compose();
    fn merge(base: &mut Value, over: &Value) {
        match (base, over) {
            (Value::Mapping(b), Value::Mapping(o)) => {
                for (k, v) in o {
                    match b.get_mut(k) {
                        Some(existing) => merge(existing, v),
                        None => {
                            b.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            (b, o) => *b = o.clone(),
        }
    }
    merge(&mut base, &over);
    base
}

#[test]
fn the_cluster_variant_runs_every_stage_on_three_replicated_nodes() {
    let compose = cluster_compose();
    let services = compose["services"].as_mapping().unwrap();
    let nodes: Vec<&str> = services
        .iter()
        .filter(|(_, s)| {
            s.get("image")
                .and_then(Value::as_str)
                .is_some_and(|i| i.starts_with("nats:"))
        })
        .map(|(n, _)| n.as_str().unwrap())
        .collect();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    // Every node routes to every node, by a service name that exists.
    for node in &nodes {
        let command: Vec<&str> = services[*node]["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let routes = command[command.iter().position(|a| *a == "--routes").unwrap() + 1];
        for n in &nodes {
            assert!(
                routes.contains(&format!("nats://{n}:6222")),
                "{node} has no route to {n}"
            );
        }
        assert!(command.contains(&"-js"), "{node} runs without JetStream");
    }
    let mut stages = 0;
    for (name, service) in services {
        if service.get("build").is_none() {
            continue;
        }
        stages += 1;
        let env = &service["environment"];
        let url = env["NATS_URL"].as_str().unwrap();
        for n in &nodes {
            assert!(
                url.contains(&format!("nats://{n}:4222")),
                "{name:?} does not know node {n}: {url}"
            );
        }
        let vars: Vec<(String, String)> = env
            .as_mapping()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.as_str().unwrap().starts_with("NEWSFLOW__"))
            .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
            .collect();
        let cfg: newsflow_cli::config::AppConfig =
            newsflow_runtime::config::load_with_env(newsflow_cli::config::DEFAULTS, None, vars)
                .unwrap();
        assert_eq!(cfg.nats.replicas, 3, "{name:?} would create R1 streams");
    }
    assert!(stages >= 4);
    // The store keeps its PostgreSQL URL after the layering.
    assert!(
        services["store"]["environment"]["NEWSFLOW_DB"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
}
