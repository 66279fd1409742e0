//! The store as a user meets it: the seed and the L'Essor original it
//! republishes go through the pipeline into SQLite or PostgreSQL, then
//! `newsflow search`/`show` (the real binary) and the query API served by
//! the store stage find them, the copy linked to its original.

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use newsflow_cli::pipeline;
use newsflow_core::subjects;
use newsflow_store::ArticleStore as _;
use newsflow_test_support::{FixtureSite, NatsServer, Page, free_port};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

use crate::util::{self, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_newsflow");

/// The seed as its first publisher would have printed it: another site
/// name and address, and a lightly edited opening sentence.
fn original_page() -> Vec<u8> {
    let seed = util::seed_page();
    let mut page = replace(&seed, b"abamako.com", b"essor.ml");
    page = replace(&page, b"s'impose", b"prend le dessus");
    assert_ne!(page, seed, "the edits must apply to the seed page");
    page
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// A GET on loopback over plain HTTP/1.0: status and body.
async fn get(port: u16, target: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

fn cli(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("NEWSFLOW_DB", db)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn seed_and_original_are_found_and_linked(db: String) {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    site.route("/essor/mali-russie.html", Page::html(original_page()));
    site.route("/h/300961.html", Page::html(util::seed_page()));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = util::config(&nats.url(), &dir.path().join("unused.db"));
    cfg.store.db = db.clone();
    let api_port = free_port();
    cfg.api.listen = format!("127.0.0.1:{api_port}");
    let bus = pipeline::connect(&cfg).await.unwrap();
    let stop = CancellationToken::new();
    let task = {
        let (cfg, bus, stop) = (cfg.clone(), bus.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_all(&cfg, &bus, stop).await })
    };
    let store = newsflow_store::open_store(&cfg.store).await.unwrap();

    // The original first, then the republication.
    let mut ids = Vec::new();
    for (n, path) in ["/essor/mali-russie.html", "/h/300961.html"]
        .into_iter()
        .enumerate()
    {
        bus.publish_bytes(subjects::URLS, Bytes::from(site.url(path)), path)
            .await
            .unwrap();
        let got = util::enriched(&bus, n + 1, Duration::from_secs(60)).await;
        ids.push(got[n].article_id.clone());
        let s = store.clone();
        eventually(Duration::from_secs(30), "the article stored", || {
            let s = s.clone();
            async move { (s.count().await.ok()? == n as u64 + 1).then_some(()) }
        })
        .await;
    }
    let (original, copy) = (ids[0].clone(), ids[1].clone());
    let detail = store
        .article(&copy)
        .await
        .unwrap()
        .expect("the seed is stored");
    assert_eq!(detail.duplicate_of.as_deref(), Some(original.as_str()));

    // The command line, as a user runs it.
    let (ok, out, err) = cli(&db, &["search", "Camara"]);
    assert!(ok, "{err}");
    assert!(out.contains(&copy) && out.contains(&original), "{out}");
    assert!(out.contains(&format!("[copy of {original}]")), "{out}");
    let (ok, out, err) = cli(&db, &["search", "--entity", "Sadio Camara", "--json"]);
    assert!(ok, "{err}");
    let hits: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hits.len(), 2, "{out}");
    let (ok, out, _) = cli(&db, &["search", "--place", "Mali", "--originals"]);
    assert!(ok);
    assert!(out.contains(&original) && !out.contains(&copy), "{out}");
    let (ok, out, _) = cli(&db, &["search", "--country", "ML", "--site", "essor.ml"]);
    assert!(ok);
    assert!(out.contains(&original) && !out.contains(&copy), "{out}");
    let (ok, out, _) = cli(&db, &["search", "Camara", "--entity", "Nobody Known"]);
    assert!(ok);
    assert!(out.trim().is_empty(), "{out}");
    let (ok, out, err) = cli(&db, &["show", &copy]);
    assert!(ok, "{err}");
    for want in [
        "Sadio Camara",
        "Mali",
        "L'Essor",
        &format!("copy of     {original}"),
    ] {
        assert!(out.contains(want), "show lacks {want:?}:\n{out}");
    }
    let (ok, _, err) = cli(&db, &["show", "0000000000000000"]);
    assert!(!ok);
    assert!(err.contains("no article 0000000000000000"), "{err}");

    // The query API the store stage serves.
    let (status, body) = get(
        api_port,
        "/articles?entity=Sadio%20Camara&duplicates=exclude",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["article_id"], original.as_str());
    let (status, body) = get(api_port, &format!("/articles/{copy}")).await;
    assert_eq!(status, 200, "{body}");
    let a: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(a["duplicate_of"], original.as_str());
    let (status, body) = get(api_port, "/articles?since=yesterday").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("since"), "{body}");

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("stages stop")
        .unwrap()
        .unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_finds_the_seed_and_links_its_original() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsflow.db").display().to_string();
    seed_and_original_are_found_and_linked(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_finds_the_seed_and_links_its_original() {
    let db = newsflow_store::testing::fresh_pg_database("e2e_search")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    seed_and_original_are_found_and_linked(db).await;
}
