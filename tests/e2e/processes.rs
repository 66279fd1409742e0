//! The `newsflow` binary as separate OS processes, one per stage, as docker
//! compose runs them: a stage killed with SIGKILL mid-run loses nothing, and
//! `newsflow up` stops cleanly on SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use newsflow_core::subjects;
use newsflow_store::{ArticleStore, SqliteStore, StoreConfig};
use newsflow_test_support::{FixtureSite, NatsServer, Page, free_port};

use crate::util::{self, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_newsflow");

fn stage(name: &str, nats: &str, db: &Path) -> Child {
    let db = db.display().to_string();
    util::stage_process(
        name,
        nats,
        &db,
        &[("NEWSFLOW__NATS__CONSUMER__ACK_WAIT_SECS", "3")],
    )
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            start.elapsed() < within,
            "process did not exit within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_process_killed_mid_run_loses_nothing() {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsflow.db");
    let n = 150;
    for i in 0..n {
        site.route(&format!("/a/{i}.html"), Page::html(util::seed_page()));
    }
    let cfg = util::config(&nats.url(), &db);
    let bus = newsflow_cli::pipeline::connect(&cfg).await.unwrap();
    let mut children: Vec<Child> = ["fetch", "parse", "store"]
        .iter()
        .map(|s| stage(s, &nats.url(), &db))
        .collect();
    let mut enrich = stage("enrich", &nats.url(), &db);
    for i in 0..n {
        let url = site.url(&format!("/a/{i}.html"));
        bus.publish_bytes(subjects::URLS, Bytes::from(url), &format!("u{i}"))
            .await
            .unwrap();
    }
    // Kill the enrich stage once work is flowing through it.
    let b = bus.clone();
    let enriched_before_kill = eventually(
        Duration::from_secs(60),
        "the first enriched article",
        || {
            let b = b.clone();
            async move {
                let status = b.status().await.ok()?;
                let enriched = status
                    .streams
                    .iter()
                    .find(|s| s.name == subjects::STREAM_ENRICHED)?;
                (enriched.messages > 0).then_some(enriched.messages)
            }
        },
    )
    .await;
    assert!(
        enriched_before_kill < n as u64,
        "the kill must come mid-run"
    );
    signal(&enrich, "-KILL");
    let _ = enrich.wait();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let enrich = stage("enrich", &nats.url(), &db);

    let store_cfg = StoreConfig {
        db: db.display().to_string(),
        ..Default::default()
    };
    let store = SqliteStore::open(&store_cfg).await.unwrap();
    let count = eventually(Duration::from_secs(90), "all articles stored", || async {
        let c = store.count().await.ok()?;
        (c == n as u64).then_some(c)
    })
    .await;
    assert_eq!(count, n as u64);
    let status = bus.status().await.unwrap();
    assert_eq!(
        status.dlq_total(),
        0,
        "nothing dead-lettered: {:?}",
        status.dlq
    );

    // Graceful stop of every stage: SIGTERM → exit 0.
    children.push(enrich);
    for child in &children {
        signal(child, "-TERM");
    }
    for child in &mut children {
        let status = wait_exit(child, Duration::from_secs(30));
        assert!(status.success(), "stage exited with {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_stops_cleanly_on_sigterm_with_its_nats_child() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ops_port = free_port();
    let mut up = Command::new(BIN)
        .arg("up")
        .env("NEWSFLOW__OPS__LISTEN", format!("127.0.0.1:{ops_port}"))
        .env("NEWSFLOW__API__LISTEN", "127.0.0.1:0")
        .env_remove("NATS_URL")
        .env("NEWSFLOW_DB", dir.path().join("db.sqlite"))
        .env("NEWSFLOW__UP__DATA_DIR", dir.path().join("data"))
        .env("NEWSFLOW__UP__NATS_PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let url = format!("nats://127.0.0.1:{port}");
    eventually(Duration::from_secs(30), "the pipeline's streams", || {
        let url = url.clone();
        async move {
            let cfg = newsflow_bus::BusConfig {
                url,
                ..Default::default()
            };
            let bus = newsflow_bus::Bus::connect(cfg).await.ok()?;
            let status = bus.status().await.ok()?;
            status
                .streams
                .iter()
                .any(|s| s.consumers.iter().any(|c| c.name == "store"))
                .then_some(())
        }
    })
    .await;
    // The operations endpoints answer.
    for (path, want) in [("/healthz", "ok"), ("/readyz", "ready"), ("/metrics", "")] {
        let (status, body) = http_get(ops_port, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert!(body.contains(want), "GET {path}: {body}");
    }
    signal(&up, "-TERM");
    let status = wait_exit(&mut up, Duration::from_secs(30));
    assert!(status.success(), "newsflow up exited with {status}");
    // Its nats-server child is gone too.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nats-server still listening"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_replayed_after_a_fix() {
    let nats = NatsServer::start();
    let site = FixtureSite::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsflow.db");
    let cfg = util::config(&nats.url(), &db);
    let bus = newsflow_cli::pipeline::connect(&cfg).await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let stages = {
        let (cfg, bus, stop) = (cfg.clone(), bus.clone(), stop.clone());
        tokio::spawn(async move { newsflow_cli::pipeline::run_all(&cfg, &bus, stop).await })
    };
    // The page is missing at first: the fetch stage dead-letters a 404.
    let url = site.url("/late.html");
    bus.publish_bytes(subjects::URLS, Bytes::from(url.clone()), "late")
        .await
        .unwrap();
    let b = bus.clone();
    eventually(Duration::from_secs(30), "one dead letter", || {
        let b = b.clone();
        async move { (b.status().await.ok()?.dlq_total() == 1).then_some(()) }
    })
    .await;
    let cli = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("NATS_URL", nats.url())
            .output()
            .unwrap();
        (out.status, String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (status, listing) = cli(&["dlq", "list"]);
    assert!(status.success());
    assert!(
        listing.contains("fetch") && listing.contains("http_404"),
        "{listing}"
    );
    let (status, _) = cli(&["status"]);
    assert_eq!(
        status.code(),
        Some(2),
        "a dead letter makes the status unhealthy"
    );

    // The fix: the page now exists. Replay, and the article comes through.
    site.route("/late.html", Page::html(util::seed_page()));
    let (status, _) = cli(&["dlq", "replay", "--all"]);
    assert!(status.success());
    let got = util::enriched(&bus, 1, Duration::from_secs(60)).await;
    assert_eq!(got[0].data.article.url, url);
    let (status, listing) = cli(&["dlq", "list"]);
    assert!(status.success());
    assert!(
        listing.trim().is_empty(),
        "replayed records are removed: {listing}"
    );
    let (status, _) = cli(&["status"]);
    assert_eq!(status.code(), Some(0));
    stop.cancel();
    stages.await.unwrap().unwrap();
}

/// A bare HTTP/1.1 GET on 127.0.0.1, returning the status and the body.
async fn http_get(port: u16, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}
