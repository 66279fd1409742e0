//! Layered configuration: built-in defaults, then a TOML file, then
//! environment variables `NEWSFLOW__<SECTION>__<KEY>=value` (double
//! underscores separate levels, as in `NEWSFLOW__FETCH__MAX_BODY_BYTES`).
//!
//! Raw layers are merged as TOML tables first and only then deserialised
//! into the typed config, so each type keeps `deny_unknown_fields` and a
//! typo in a file or a variable is an error that names it.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "NEWSFLOW__";

/// A configuration problem, naming where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax {
        /// File.
        path: String,
        /// Parser message.
        message: String,
    },
    /// An environment variable does not fit.
    #[error("environment variable {var}: {message}")]
    Env {
        /// Variable name.
        var: String,
        /// What is wrong.
        message: String,
    },
    /// The merged settings do not match the expected types or names.
    #[error("invalid configuration: {0} (see config/default.toml for every setting)")]
    Invalid(String),
}

/// Merge `defaults` (TOML text), the optional file and the process
/// environment, and deserialise the result.
pub fn load<T: DeserializeOwned>(defaults: &str, file: Option<&Path>) -> Result<T, ConfigError> {
    load_with_env(defaults, file, std::env::vars())
}

/// [`load`] with an explicit environment, for tests.
pub fn load_with_env<T: DeserializeOwned>(
    defaults: &str,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let mut merged: Table = defaults
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            path: "<built-in defaults>".into(),
            message: e.to_string(),
        })?;
    if let Some(path) = file {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: display.clone(),
            source,
        })?;
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                path: display,
                message: e.to_string(),
            })?;
        merge(&mut merged, table);
    }
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let path: Vec<String> = var[ENV_PREFIX.len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var,
                message: "empty path segment".into(),
            });
        }
        set_path(&mut merged, &path, env_value(&raw)).map_err(|message| ConfigError::Env {
            var: var.clone(),
            message,
        })?;
    }
    T::deserialize(Value::Table(merged)).map_err(|e| ConfigError::Invalid(e.to_string()))
}

/// A value from the environment: TOML syntax when it parses as such
/// (numbers, booleans, arrays like `["a","b"]`), else the raw string.
fn env_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

fn set_path(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty name")?;
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = match entry {
            Value::Table(t) => t,
            _ => return Err(format!("`{key}` is a value, not a section")),
        };
    }
    // Keep strings strings: "0123" for a string setting must not become 123.
    let value = match (current.get(last), value) {
        (Some(Value::String(_)), v @ Value::String(_)) => v,
        (Some(Value::String(_)), v) => Value::String(toml_scalar_text(&v)),
        (_, v) => v,
    };
    current.insert(last.clone(), value);
    Ok(())
}

fn toml_scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        fetch: Fetch,
        name: String,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Fetch {
        max: u64,
        allow: Vec<String>,
        agent: String,
    }

    const DEFAULTS: &str = "name = \"x\"\n[fetch]\nmax = 1\nallow = []\nagent = \"a\"\n";

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn env_overrides_defaults() {
        let cfg: Cfg = load_with_env(
            DEFAULTS,
            None,
            env(&[
                ("NEWSFLOW__FETCH__MAX", "42"),
                ("NEWSFLOW__FETCH__ALLOW", "[\"127.0.0.1\"]"),
                ("NEWSFLOW__FETCH__AGENT", "007"),
                ("OTHER", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.fetch.max, 42);
        assert_eq!(cfg.fetch.allow, vec!["127.0.0.1"]);
        assert_eq!(cfg.fetch.agent, "007");
    }

    #[test]
    fn file_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("nf-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "[fetch]\nmax = 7\n").unwrap();
        let cfg: Cfg = load_with_env(DEFAULTS, Some(&path), env(&[])).unwrap();
        assert_eq!(cfg.fetch.max, 7);
        assert_eq!(cfg.name, "x");
    }

    #[test]
    fn typos_are_errors_that_name_the_key() {
        let err = load_with_env::<Cfg>(DEFAULTS, None, env(&[("NEWSFLOW__FETCH__MAXX", "1")]))
            .unwrap_err();
        assert!(err.to_string().contains("maxx"), "{err}");
        let err = load_with_env::<Cfg>(DEFAULTS, None, env(&[("NEWSFLOW__FETCH__MAX", "lots")]))
            .unwrap_err();
        assert!(matches!(err, ConfigError::Invalid(_)), "{err}");
        let err =
            load_with_env::<Cfg>(DEFAULTS, None, env(&[("NEWSFLOW__NAME__X", "1")])).unwrap_err();
        assert!(err.to_string().contains("NEWSFLOW__NAME__X"), "{err}");
    }
}
