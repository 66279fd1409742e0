//! The four stages in one process, on real servers.

use std::time::Duration;

use bytes::Bytes;
use newsflow_cli::pipeline;
use newsflow_core::{DlqRecord, Envelope, subjects};
use newsflow_store::{ArticleStore, SearchQuery, SqliteStore};
use newsflow_test_support::{FixtureSite, NatsServer, Page};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::util::{self, eventually};

struct Running {
    bus: newsflow_bus::Bus,
    cfg: newsflow_cli::config::AppConfig,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start(nats: &NatsServer) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let cfg = util::config(&nats.url(), &dir.path().join("newsflow.db"));
    let bus = pipeline::connect(&cfg).await.expect("connect");
    let stop = CancellationToken::new();
    let task = {
        let (cfg, bus, stop) = (cfg.clone(), bus.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_all(&cfg, &bus, stop).await })
    };
    Running {
        bus,
        cfg,
        stop,
        task,
        _dir: dir,
    }
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("stages stop within 30 s")
            .expect("stage task")
            .expect("stages ran cleanly");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_goes_through_all_four_stages_to_the_enriched_subject_and_sqlite() {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    site.route("/h/300961.html", Page::html(util::seed_page()));
    let run = start(&nats).await;
    // A bare URL as the whole payload, as `nats pub newsflow.urls URL` sends.
    let url = site.url("/h/300961.html");
    run.bus
        .publish_bytes(subjects::URLS, Bytes::from(url.clone()), "seed")
        .await
        .unwrap();

    let got = util::enriched(&run.bus, 1, Duration::from_secs(60))
        .await
        .remove(0);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(util::repo().join("seeds/expected/enriched.json")).unwrap(),
    )
    .unwrap();
    let a = &got.data.article;
    assert_eq!(a.url, url);
    let want = &expected["data"]["article"];
    assert_eq!(a.title.as_deref(), want["title"].as_str());
    assert_eq!(a.published.as_deref(), Some("2025-06-25"));
    assert_eq!(a.authors, vec!["Alassane Souleymane", "Oumar Diop"]);
    assert_eq!(a.original_publisher.as_deref(), Some("L'Essor"));
    assert_eq!(a.body_text, want["body_text"].as_str().unwrap());
    assert!(a.body_text.starts_with("L'économique s'impose"));
    assert!(a.body_text.ends_with("qui infestent nos terres."));
    for noise in [
        "Signature d`accords",
        "Envoyés spéciaux",
        "Ã",
        "\u{FFFD}",
        "Commentaires",
    ] {
        assert!(!a.body_text.contains(noise), "body contains {noise:?}");
    }
    assert_eq!(got.data.enrichment.lang, "fr");
    let canonicals: Vec<&str> = got
        .data
        .enrichment
        .entities
        .iter()
        .map(|e| e.canonical.as_str())
        .collect();
    for name in want_entities(&expected) {
        assert!(
            canonicals.contains(&name.as_str()),
            "missing entity {name}; got {canonicals:?}"
        );
    }
    // The trace id followed the article; the fetch stage derived it.
    assert_eq!(got.trace_id.len(), 16);

    let store = SqliteStore::open(&run.cfg.store).await.unwrap();
    let stored = eventually(Duration::from_secs(20), "the SQLite row", || async {
        store.get(&got.article_id).await.unwrap()
    })
    .await;
    assert_eq!(stored.data.article.title, a.title);
    let hits = store
        .search(&SearchQuery {
            text: Some("Camara".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].article_id, got.article_id);
    run.stop().await;
}

fn want_entities(expected: &Value) -> Vec<String> {
    let mut names: Vec<String> = expected["data"]["enrichment"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["canonical"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_on_every_subject_land_in_their_dlq_and_good_ones_still_flow() {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    site.route("/ok.html", Page::html(util::seed_page()));
    site.route("/gone.html", Page::status(404));
    let run = start(&nats).await;
    let garbage: &[(&str, &[u8])] = &[
        (subjects::URLS, b"{\"url\": 42}"),
        (subjects::URLS, b"ftp://example.org/file"),
        (subjects::FETCHED, b"\x00\x01binary"),
        (
            subjects::PARSED,
            b"{\"type\":\"parsed\",\"version\":99,\"data\":{}}",
        ),
        (subjects::ENRICHED, b"[]"),
    ];
    for (i, (subject, payload)) in garbage.iter().enumerate() {
        run.bus
            .publish_bytes(subject, Bytes::copy_from_slice(payload), &format!("g{i}"))
            .await
            .unwrap();
    }
    run.bus
        .publish_bytes(subjects::URLS, Bytes::from(site.url("/gone.html")), "gone")
        .await
        .unwrap();
    run.bus
        .publish_bytes(subjects::URLS, Bytes::from(site.url("/ok.html")), "ok")
        .await
        .unwrap();

    let stored = util::enriched(&run.bus, 1, Duration::from_secs(60)).await;
    assert_eq!(stored[0].data.article.url, site.url("/ok.html"));

    let bus = run.bus.clone();
    let records: Vec<Envelope<DlqRecord>> =
        eventually(Duration::from_secs(30), "6 DLQ records", || {
            let bus = bus.clone();
            async move {
                let status = bus.status().await.ok()?;
                if status.dlq_total() < 6 {
                    return None;
                }
                let mut out = Vec::new();
                let mut stream = bus
                    .subscribe(&format!("{}.>", subjects::DLQ_PREFIX), true)
                    .await
                    .ok()?;
                while out.len() < 6 {
                    let item = futures::StreamExt::next(&mut stream).await?.ok()?;
                    out.push(serde_json::from_slice(&item.payload).ok()?);
                }
                Some(out)
            }
        })
        .await;
    let mut seen: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.data.stage.clone(), r.data.error_kind.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("enrich".to_string(), "wrong_version".to_string()),
            ("fetch".to_string(), "bad_url".to_string()),
            ("fetch".to_string(), "http_404".to_string()),
            ("fetch".to_string(), "malformed".to_string()),
            ("parse".to_string(), "malformed".to_string()),
            ("store".to_string(), "malformed".to_string()),
        ]
    );
    assert!(records.iter().all(|r| !r.data.message.is_empty()));
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_page_passes_through_the_whole_pipeline() {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    let paragraph = |i: usize| {
        format!(
            "<p>Paragraphe {i} : le Sahel reste au cœur des discussions entre Bamako et ses partenaires, qui suivent de près la situation sécuritaire dans la région.</p>\n"
        )
    };
    let mut page = String::from(
        "<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Un très long article</title></head><body><article><h1>Un très long article</h1>\n",
    );
    let mut i = 0;
    while page.len() < 10 * 1024 * 1024 {
        page.push_str(&paragraph(i));
        i += 1;
    }
    page.push_str("</article></body></html>");
    site.route("/big.html", Page::html(page.clone()));
    let run = start(&nats).await;
    run.bus
        .publish_bytes(subjects::URLS, Bytes::from(site.url("/big.html")), "big")
        .await
        .unwrap();
    let got = util::enriched(&run.bus, 1, Duration::from_secs(120))
        .await
        .remove(0);
    assert!(
        got.data.article.body_text.len() > 9 * 1024 * 1024,
        "body kept whole"
    );
    let store = SqliteStore::open(&run.cfg.store).await.unwrap();
    eventually(Duration::from_secs(30), "the big row", || async {
        store.get(&got.article_id).await.unwrap()
    })
    .await;
    run.stop().await;
}
