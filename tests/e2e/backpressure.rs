//! Back-pressure: a slow store (PostgreSQL throttled by a trigger that
//! sleeps on every row write) with the stages as separate processes. The
//! store holds a small constant number of messages (its in-flight limit
//! and one pull batch ahead), its memory stays flat, the
//! enriched articles wait in their JetStream stream (on disk, not in any
//! process), the upstream stages are not slowed, and once the store is fast
//! again every article is stored: nothing dropped, nothing dead-lettered.

use std::process::Command;
use std::time::{Duration, Instant};

use bytes::Bytes;
use newsflow_core::subjects;
use newsflow_store::ArticleStore as _;
use newsflow_test_support::{FixtureSite, NatsServer, Page};

use crate::util::{self, Reaped, eventually};

const IN_FLIGHT: usize = 4;

fn stage(name: &str, nats: &str, db: &str) -> Reaped {
    let in_flight = IN_FLIGHT.to_string();
    Reaped(util::stage_process(
        name,
        nats,
        db,
        &[
            ("NEWSFLOW__NATS__CONSUMER__MAX_IN_FLIGHT", &in_flight),
            ("RUST_LOG", "error"),
        ],
    ))
}

fn psql(url: &str, sql: &str) {
    let bin = newsflow_store::testing::find_bin_dir()
        .unwrap()
        .join("psql");
    let out = Command::new(bin)
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_makes_work_wait_in_the_stream_with_bounded_memory() {
    let nats = NatsServer::start();
    let db = newsflow_store::testing::fresh_pg_database("backpressure")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let site = FixtureSite::start().await.unwrap();
    let n = 120;
    for i in 0..n {
        site.route(&format!("/bp/{i}.html"), Page::html(util::seed_page()));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = util::config(&nats.url(), &dir.path().join("unused.db"));
    cfg.store.db = db.clone();
    let bus = newsflow_cli::pipeline::connect(&cfg).await.unwrap();
    let store_proc = stage("store", &nats.url(), &db);
    let store_pid = store_proc.0.id();
    let upstream: Vec<Reaped> = ["fetch", "parse", "enrich"]
        .into_iter()
        .map(|s| stage(s, &nats.url(), &db))
        .collect();
    // The store has migrated its schema once it answers a count.
    let store = eventually(Duration::from_secs(30), "the store's schema", || {
        let db = db.clone();
        async move {
            let s = newsflow_store::open_store(&newsflow_store::StoreConfig {
                db,
                ..Default::default()
            })
            .await
            .ok()?;
            s.count().await.ok().map(|_| s)
        }
    })
    .await;
    // Throttle: every article write now takes 300 ms.
    psql(
        &db,
        "CREATE FUNCTION slow_down() RETURNS trigger AS $$ \
         BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$ LANGUAGE plpgsql; \
         CREATE TRIGGER slow_down BEFORE INSERT OR UPDATE ON articles \
         FOR EACH ROW EXECUTE FUNCTION slow_down();",
    );
    let rss_before = rss_mib(store_pid);
    for i in 0..n {
        let url = site.url(&format!("/bp/{i}.html"));
        bus.publish_bytes(subjects::URLS, Bytes::from(url), &format!("bp{i}"))
            .await
            .unwrap();
    }

    // Upstream runs at its own pace: everything is enriched while the store
    // is still far behind, and the store never holds more than its limit.
    let started = Instant::now();
    let mut peak_unacked = 0usize;
    let mut peak_rss = rss_before;
    let mut backlog_seen = 0u64;
    loop {
        let status = bus.status().await.unwrap();
        let consumer = |stream: &str, name: &str| {
            status
                .streams
                .iter()
                .find(|s| s.name == stream)
                .and_then(|s| s.consumers.iter().find(|c| c.name == name))
                .cloned()
        };
        if let Some(c) = consumer(subjects::STREAM_ENRICHED, "store") {
            peak_unacked = peak_unacked.max(c.ack_pending);
            backlog_seen = backlog_seen.max(c.pending);
        }
        peak_rss = peak_rss.max(rss_mib(store_pid));
        let enriched = status
            .streams
            .iter()
            .find(|s| s.name == subjects::STREAM_ENRICHED)
            .map_or(0, |s| s.messages);
        if enriched >= n as u64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "upstream did not finish while the store was slow"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored_when_upstream_done = store.count().await.unwrap();
    assert!(
        stored_when_upstream_done < n as u64 / 2,
        "the store should lag far behind: {stored_when_upstream_done} of {n} stored"
    );
    assert!(
        backlog_seen > 0,
        "enriched articles waited in the stream for the store"
    );
    // In work (the in-flight limit) plus the next pull batch the client
    // fetches ahead: a small constant, whatever the backlog.
    assert!(
        peak_unacked <= 3 * IN_FLIGHT,
        "the store held {peak_unacked} messages with an in-flight limit of {IN_FLIGHT}"
    );

    // The store catches up once it is fast again; nothing is lost.
    psql(&db, "DROP TRIGGER slow_down ON articles;");
    eventually(Duration::from_secs(120), "every article stored", || {
        let store = store.clone();
        async move { (store.count().await.ok()? == n as u64).then_some(()) }
    })
    .await;
    peak_rss = peak_rss.max(rss_mib(store_pid));
    assert!(
        peak_rss - rss_before < 64.0,
        "the store's memory grew by {:.1} MiB under back-pressure",
        peak_rss - rss_before
    );
    let status = bus.status().await.unwrap();
    assert_eq!(status.dlq_total(), 0, "dead letters: {:?}", status.dlq);
    eprintln!(
        "back-pressure: {stored_when_upstream_done}/{n} stored when upstream finished; \
         backlog in the stream up to {backlog_seen}; store held at most {peak_unacked} \
         messages; store RSS {rss_before:.1} MiB, peak {peak_rss:.1} MiB"
    );
    store.close().await;
    drop(upstream);
    drop(store_proc);
}
