//! Beyond one server: the stages, as separate processes, on a three-node
//! JetStream cluster with replicated (R3) streams; one node is killed with
//! SIGKILL mid-run (half the URLs are published after it) and every
//! article still arrives, once.

use std::process::{Child, Command};
use std::time::Duration;

use bytes::Bytes;
use newsflow_core::subjects;
use newsflow_store::{ArticleStore, SqliteStore, StoreConfig};
use newsflow_test_support::{FixtureSite, NatsCluster, Page};

use crate::util::{self, eventually};

fn stage(name: &str, nats: &str, db: &std::path::Path) -> Child {
    let db = db.display().to_string();
    util::stage_process(
        name,
        nats,
        &db,
        &[
            ("NEWSFLOW__NATS__REPLICAS", "3"),
            ("NEWSFLOW__NATS__CONSUMER__ACK_WAIT_SECS", "3"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_node_killed_mid_run_loses_nothing() {
    let mut cluster = NatsCluster::start(3);
    let site = FixtureSite::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newsflow.db");
    let n = 60;
    for i in 0..n {
        site.route(&format!("/c/{i}.html"), Page::html(util::seed_page()));
    }
    let mut cfg = util::config(&cluster.url(), &db);
    cfg.nats.replicas = 3;
    // The cluster elects its JetStream leaders after it starts: the same
    // start-up wait every service does.
    let bus = newsflow_cli::pipeline::connect(&cfg).await.unwrap();
    let info = bus.status().await.unwrap();
    for s in &info.streams {
        assert_eq!(s.replicas, 3, "stream {} is not replicated", s.name);
    }
    let mut children: Vec<util::Reaped> = ["fetch", "parse", "enrich", "store"]
        .iter()
        .map(|s| util::Reaped(stage(s, &cluster.url(), &db)))
        .collect();
    // Half the URLs before the kill, half after: the pipeline stores 60
    // articles faster than the test can see the first ones arrive, so
    // the kill is made to come mid-run rather than hoped to.
    let half = n / 2;
    for i in 0..half {
        let url = site.url(&format!("/c/{i}.html"));
        bus.publish_bytes(subjects::URLS, Bytes::from(url), &format!("c{i}"))
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&StoreConfig {
        db: db.display().to_string(),
        ..Default::default()
    })
    .await
    .unwrap();
    let before = eventually(Duration::from_secs(60), "the first stored articles", || {
        let store = store.clone();
        async move { store.count().await.ok().filter(|c| *c >= 5) }
    })
    .await;
    assert!(before < n as u64, "the kill must come mid-run");
    // Node 0 is first in every client's list, so it holds connections and
    // stream leaders: the worst one to lose.
    cluster.kill(0);
    for i in half..n {
        let url = site.url(&format!("/c/{i}.html"));
        // The cluster may be electing new leaders: retry; the message id
        // makes a retried publish count once.
        eventually(Duration::from_secs(60), "a publish after the kill", || {
            let (bus, url) = (bus.clone(), url.clone());
            async move {
                bus.publish_bytes(subjects::URLS, Bytes::from(url), &format!("c{i}"))
                    .await
                    .ok()
            }
        })
        .await;
    }

    let count = eventually(Duration::from_secs(180), "all articles stored", || {
        let store = store.clone();
        async move {
            let c = store.count().await.ok()?;
            (c == n as u64).then_some(c)
        }
    })
    .await;
    assert_eq!(count, n as u64);
    let status = eventually(Duration::from_secs(30), "the status of the cluster", || {
        let bus = bus.clone();
        async move { bus.status().await.ok() }
    })
    .await;
    assert_eq!(status.dlq_total(), 0, "dead letters: {:?}", status.dlq);
    for child in &mut children {
        let _ = Command::new("kill")
            .args(["-TERM", &child.0.id().to_string()])
            .status();
    }
    for child in &mut children {
        let _ = child.0.wait();
    }
}
