//! Bad input on every subject, with the stages as separate processes:
//! malformed JSON, a wrong schema version, missing fields, 20 MB payloads
//! (text and binary), invalid UTF-8, empty payloads, URLs with odd schemes.
//! Each lands in its stage's DLQ at
//! once with a precise reason; no stage crashes or stalls; good articles
//! published after the garbage are all stored.

use std::process::{Child, Command};
use std::time::Duration;

use bytes::Bytes;
use newsflow_core::{DlqRecord, Envelope, subjects};
use newsflow_store::{ArticleStore as _, SqliteStore, StoreConfig};
use newsflow_test_support::{FixtureSite, NatsServer, Page};

use crate::util::{self, eventually};

const MB: usize = 1024 * 1024;

fn stage(name: &str, nats: &str, db: &std::path::Path) -> Child {
    let db = db.display().to_string();
    util::stage_process(
        name,
        nats,
        &db,
        &[
            // Decoding and keeping 20 MB payloads takes seconds in a debug
            // build on a busy machine: the default ack_wait leaves room.
            ("NEWSFLOW__NATS__CONSUMER__ACK_WAIT_SECS", "30"),
            ("NEWSFLOW__NATS__CONSUMER__BACKOFF_BASE_MS", "100"),
            ("NEWSFLOW__NATS__CONSUMER__BACKOFF_MAX_MS", "300"),
            ("RUST_LOG", "error"),
        ],
    )
}

/// Pseudo-random bytes (xorshift): binary garbage that is not UTF-8.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn envelope(kind: &str, version: u32) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","version":{version},"article_id":"0123456789abcdef","trace_id":"t","time":"2025-06-25T07:13:00Z","data":{{}}}}"#
    )
    .into_bytes()
}

/// The bad payloads for one subject, each with a label for failure messages.
fn bad_payloads(subject: &str, kind: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("truncated JSON".to_string(), b"{\"type\":".to_vec()),
        ("schema version 99".into(), envelope(kind, 99)),
        ("missing fields".into(), envelope(kind, 1)),
        ("wrong event type".into(), envelope("something_else", 1)),
        ("20 MB of text".into(), vec![b'x'; 20 * MB]),
        ("20 MB of binary".into(), garbage(20 * MB)),
        (
            "invalid UTF-8".into(),
            b"{\"url\":\"http://127.0.0.1/\xff\xfe\"}".to_vec(),
        ),
        ("empty".into(), Vec::new()),
        ("JSON array".into(), b"[1,2,3]".to_vec()),
    ];
    if subject == subjects::URLS {
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<p>x</p>",
            "gopher://127.0.0.1/",
            "mailto:someone@127.0.0.1",
            "http://",
            "http://[::1",
            "ftp://127.0.0.1/file",
        ] {
            out.push((format!("URL {url}"), url.as_bytes().to_vec()));
        }
        out.push((
            "URL request with a non-string url".into(),
            b"{\"url\": 42}".to_vec(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_every_subject_is_dead_lettered_and_good_input_still_flows() {
    // A server that accepts 20 MB messages, as one tuned for big pages
    // would: the stages, not the server, must refuse them.
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("nats.conf");
    std::fs::write(&conf, "max_payload: 25165824\n").unwrap();
    let nats = NatsServer::start_with(&["-c", conf.to_str().unwrap()]);
    let site = FixtureSite::start().await.unwrap();
    let good = 10;
    for i in 0..good {
        site.route(&format!("/good/{i}.html"), Page::html(util::seed_page()));
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsflow.db");
    let cfg = util::config(&nats.url(), &db);
    let bus = newsflow_cli::pipeline::connect(&cfg).await.unwrap();
    assert!(bus.max_payload() >= 24 * MB, "the test server takes 20 MB");
    let mut children: Vec<(&str, util::Reaped)> = ["fetch", "parse", "enrich", "store"]
        .into_iter()
        .map(|s| (s, util::Reaped(stage(s, &nats.url(), &db))))
        .collect();

    let mut expected = Vec::new();
    let subjects_and_stages = [
        (subjects::URLS, "url", "fetch"),
        (subjects::FETCHED, "fetched", "parse"),
        (subjects::PARSED, "parsed", "enrich"),
        (subjects::ENRICHED, "enriched", "store"),
    ];
    for (subject, kind, stage_name) in subjects_and_stages {
        for (n, (label, payload)) in bad_payloads(subject, kind).into_iter().enumerate() {
            bus.publish_bytes(subject, Bytes::from(payload), &format!("bad-{kind}-{n}"))
                .await
                .unwrap_or_else(|e| panic!("publish {label} on {subject}: {e}"));
            expected.push((stage_name, label));
        }
    }
    // Good articles after all the garbage.
    for i in 0..good {
        let url = site.url(&format!("/good/{i}.html"));
        bus.publish_bytes(subjects::URLS, Bytes::from(url), &format!("good-{i}"))
            .await
            .unwrap();
    }

    let store = SqliteStore::open(&StoreConfig {
        db: db.display().to_string(),
        ..Default::default()
    })
    .await
    .unwrap();
    eventually(Duration::from_secs(120), "the good articles stored", || {
        let store = store.clone();
        async move { (store.count().await.ok()? == good as u64).then_some(()) }
    })
    .await;
    let total = expected.len() as u64;
    let b = bus.clone();
    eventually(
        Duration::from_secs(120),
        "a dead letter for every bad message",
        || {
            let b = b.clone();
            async move { (b.status().await.ok()?.dlq_total() >= total).then_some(()) }
        },
    )
    .await;
    let records = bus
        .read_stored(&format!("{}.>", subjects::DLQ_PREFIX), 1000)
        .await
        .unwrap();
    let kinds: Vec<String> = records
        .iter()
        .filter_map(|r| serde_json::from_slice::<Envelope<DlqRecord>>(&r.payload).ok())
        .map(|r| {
            let m: String = r.data.message.chars().take(80).collect();
            format!("{} {} {m}", r.data.stage, r.data.error_kind)
        })
        .collect();
    assert_eq!(
        records.len() as u64,
        total,
        "one dead letter per bad message, no more:\n{}",
        kinds.join("\n")
    );
    let mut per_stage = std::collections::BTreeMap::<String, usize>::new();
    let mut listing = Vec::new();
    for r in &records {
        let rec: Envelope<DlqRecord> = serde_json::from_slice(&r.payload)
            .unwrap_or_else(|e| panic!("a DLQ record that does not decode: {e}"));
        let d = &rec.data;
        assert!(!d.error_kind.is_empty() && !d.message.is_empty(), "{d:?}");
        assert!(d.error_kind != "panic", "a stage panicked: {}", d.message);
        // Poison goes at once, never through retries.
        assert_ne!(
            d.error_kind, "retries_exhausted",
            "retried poison: {}",
            d.message
        );
        // The original travels with the record, so nothing is lost.
        let original_len = d.original.as_ref().map_or(0, String::len)
            + d.original_base64.as_ref().map_or(0, String::len);
        assert!(
            original_len > 0 || d.message.contains("empty"),
            "no original kept: {d:?}"
        );
        *per_stage.entry(d.stage.clone()).or_default() += 1;
        listing.push(format!(
            "{} {} {} {}",
            d.stage,
            d.subject,
            d.error_kind,
            d.message.chars().take(100).collect::<String>()
        ));
    }
    let mut want = std::collections::BTreeMap::<String, usize>::new();
    for (stage, _) in &expected {
        *want.entry(stage.to_string()).or_default() += 1;
    }
    assert_eq!(
        per_stage,
        want,
        "dead letters per stage:\n{}",
        listing.join("\n")
    );

    // Every stage is still up, and stops cleanly.
    for (name, child) in &mut children {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the {name} stage died on bad input"
        );
        let _ = Command::new("kill")
            .args(["-TERM", &child.0.id().to_string()])
            .status();
    }
    for (name, child) in &mut children {
        let status = child.0.wait().unwrap();
        assert!(status.success(), "{name} exited with {status}");
    }
}
