//! Guards the wire format: every fixture decodes into its event type,
//! survives a round trip unchanged, and validates against the JSON Schema
//! checked in under `schemas/`.

use std::path::{Path, PathBuf};

use newsflow_core::{DlqRecord, Enriched, Envelope, Event, Fetched, Parsed, UrlRequest};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

/// Validate `value` against `schemas/<schema>`, panicking with every error.
pub fn validate(schema: &str, value: &Value) {
    let path = repo().join("schemas").join(schema).canonicalize().unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    let index = compiler
        .compile(path.to_str().unwrap(), &mut schemas)
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"));
    if let Err(e) = schemas.validate(value, index) {
        panic!("does not match {schema}: {e:#}");
    }
}

fn round_trip<T: Event + PartialEq + std::fmt::Debug>(name: &str, schema: &str) {
    let bytes = fixture(name);
    let env: Envelope<T> = T::decode(&bytes, "fallback").unwrap_or_else(|e| panic!("{name}: {e}"));
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    let again: Value = serde_json::from_slice(&env.to_bytes()).unwrap();
    assert_eq!(
        normalise(original.clone()),
        normalise(again.clone()),
        "{name} changes in a round trip"
    );
    validate(schema, &original);
    validate(schema, &again);
}

/// Timestamps may be re-serialised with another number of fraction digits.
fn normalise(mut v: Value) -> Value {
    for key in ["time"] {
        if let Some(t) = v.get(key).and_then(Value::as_str) {
            let parsed = chrono::DateTime::parse_from_rfc3339(t).unwrap();
            v[key] = Value::String(parsed.to_rfc3339());
        }
    }
    if let Some(data) = v.get_mut("data") {
        for key in ["time", "fetched_at"] {
            if let Some(t) = data.get(key).and_then(Value::as_str) {
                let parsed = chrono::DateTime::parse_from_rfc3339(t).unwrap();
                data[key] = Value::String(parsed.to_rfc3339());
            }
        }
    }
    v
}

#[test]
fn fetched_fixture() {
    round_trip::<Fetched>("fetched.json", "fetched.v1.json");
}

#[test]
fn parsed_fixture() {
    round_trip::<Parsed>("parsed.json", "parsed.v1.json");
}

#[test]
fn enriched_fixture() {
    round_trip::<Enriched>("enriched.json", "enriched.v1.json");
    // Offsets are Unicode scalar values into body_text.
    let env = Enriched::decode(&fixture("enriched.json"), "").unwrap();
    let chars: Vec<char> = env.data.article.body_text.chars().collect();
    for e in &env.data.enrichment.entities {
        let span: String = chars[e.start..e.end].iter().collect();
        assert_eq!(span, e.text);
    }
}

#[test]
fn dlq_fixture() {
    round_trip::<DlqRecord>("dlq.json", "dlq.v1.json");
}

#[test]
fn url_request_fixture() {
    let bytes = fixture("url.json");
    validate("url.v1.json", &serde_json::from_slice(&bytes).unwrap());
    let env = UrlRequest::decode(&bytes, "t").unwrap();
    assert_eq!(env.data.tags, vec!["sahel", "mali"]);
    // The envelope form of a request is a valid envelope too.
    validate(
        "envelope.v1.json",
        &serde_json::from_slice(&env.to_bytes()).unwrap(),
    );
}

#[test]
fn schemas_reject_what_the_decoder_rejects() {
    let mut v: Value = serde_json::from_slice(&fixture("enriched.json")).unwrap();
    v["data"]["enrichment"]["entities"][0]["label"] = "MISC".into();
    let path = repo()
        .join("schemas/enriched.v1.json")
        .canonicalize()
        .unwrap();
    let mut schemas = boon::Schemas::new();
    let index = boon::Compiler::new()
        .compile(path.to_str().unwrap(), &mut schemas)
        .unwrap();
    assert!(
        schemas.validate(&v, index).is_err(),
        "schema accepted an unknown label"
    );
    assert!(Enriched::decode(&serde_json::to_vec(&v).unwrap(), "").is_err());
}
