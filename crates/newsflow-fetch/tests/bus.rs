//! The fetch stage run by `newsflow-bus` on a real nats-server, its
//! politeness and seen records in real JetStream KV buckets: what the
//! services do, end to end, against a local site on 127.0.0.1.

#[path = "util/nats_kv.rs"]
mod nats_kv;
mod util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use nats_kv::NatsKv;
use newsflow_bus::{Bus, BusConfig, ConsumerSettings, StageStats};
use newsflow_core::{DlqRecord, Envelope, Fetched, subjects};
use newsflow_fetch::{Fetch, FetchConfig, HOSTS_BUCKET, HOSTS_BUCKET_MAX_AGE, SEEN_BUCKET};
use newsflow_test_support::NatsServer;
use tokio::sync::watch;
use util::{Reply, Server, config};

async fn bus(server: &NatsServer) -> Bus {
    bus_with(server, 30).await
}

async fn bus_with(server: &NatsServer, max_deliver: i64) -> Bus {
    let bus = Bus::connect(BusConfig {
        url: server.url(),
        consumer: ConsumerSettings {
            max_in_flight: 4,
            ack_wait_secs: 10,
            max_deliver,
            backoff_base_ms: 50,
            backoff_max_ms: 500,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .expect("connect");
    bus.ensure_topology().await.expect("topology");
    bus
}

/// The stage as a service builds it: both stores in JetStream KV.
async fn stage(bus: &Bus, config: FetchConfig) -> Fetch {
    let seen = bus
        .kv_bucket(SEEN_BUCKET, Duration::from_secs(config.seen_retention_secs))
        .await
        .unwrap();
    let hosts = bus
        .kv_bucket(HOSTS_BUCKET, HOSTS_BUCKET_MAX_AGE)
        .await
        .unwrap();
    Fetch::with_kv(config, Arc::new(NatsKv(seen)), Arc::new(NatsKv(hosts))).unwrap()
}

/// Run `stages` as replicas on the bus until the returned sender says stop.
fn run(
    bus: &Bus,
    stages: Vec<Fetch>,
) -> (
    watch::Sender<bool>,
    Vec<tokio::task::JoinHandle<Arc<StageStats>>>,
) {
    let (stop, rx) = watch::channel(false);
    let tasks = stages
        .into_iter()
        .map(|stage| {
            let (bus, mut rx) = (bus.clone(), rx.clone());
            tokio::spawn(async move {
                bus.run_stage(Arc::new(stage), async move {
                    let _ = rx.changed().await;
                })
                .await
                .unwrap()
            })
        })
        .collect();
    (stop, tasks)
}

async fn publish(bus: &Bus, url: &str, msg_id: &str) {
    bus.publish_bytes(subjects::URLS, Bytes::from(url.to_string()), msg_id)
        .await
        .unwrap();
}

/// The next `n` payloads of `subject`, within `bound`.
async fn collect<T: serde::de::DeserializeOwned>(
    bus: &Bus,
    subject: &str,
    n: usize,
    bound: Duration,
) -> Vec<T> {
    let mut stream = bus.subscribe(subject, true).await.unwrap();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + bound;
    while out.len() < n {
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} on {subject}", out.len()))
            .expect("stream open")
            .unwrap();
        out.push(serde_json::from_slice(&next.payload).unwrap());
    }
    out
}

#[tokio::test]
async fn replicas_on_the_bus_keep_the_per_host_delay() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let site = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html("<html><body>page</body></html>"),
    })
    .await;
    let config = FetchConfig {
        host_min_delay_ms: 200,
        // Short, so some fetches are NAKed and come back later.
        host_max_wait_ms: 500,
        ..config()
    };
    let replicas = vec![
        stage(&bus, config.clone()).await,
        stage(&bus, config.clone()).await,
    ];
    let (stop, tasks) = run(&bus, replicas);
    let started = Instant::now();
    for i in 0..8 {
        publish(&bus, &site.url(&format!("/news/{i}")), &format!("u{i}")).await;
    }
    let events: Vec<Envelope<Fetched>> =
        collect(&bus, subjects::FETCHED, 8, Duration::from_secs(30)).await;
    assert_eq!(events.len(), 8);
    let _ = stop.send(true);
    let (mut retried, mut deferred) = (0, 0);
    for t in tasks {
        let stats = t.await.unwrap();
        retried += stats.retried.load(Ordering::Relaxed);
        deferred += stats.deferred.load(Ordering::Relaxed);
    }
    let times: Vec<Instant> = site.requests().into_iter().map(|h| h.at).collect();
    // Each page once, and robots.txt once per replica that fetched (the
    // consumer may hand every message to one of them), each request at
    // least the delay after the one before, whichever replica sent it.
    let hits = site.hits();
    let robots = hits.iter().filter(|p| *p == "/robots.txt").count();
    let mut pages: Vec<&String> = hits.iter().filter(|p| *p != "/robots.txt").collect();
    pages.sort();
    pages.dedup();
    assert_eq!(pages.len(), 8, "{hits:?}");
    assert!((1..=2).contains(&robots), "{hits:?}");
    assert_eq!(hits.len(), 8 + robots, "a page fetched twice: {hits:?}");
    util::assert_spaced(&times, Duration::from_millis(200));
    // Postponed fetches hold a ticketed slot: set aside once or twice
    // each, not once per round of the queue, and never an attempt spent.
    assert!(deferred > 0, "no fetch was postponed (host_busy)");
    assert!(deferred <= 16, "{deferred} deferrals for 8 messages");
    assert_eq!(retried, 0, "a busy host cost delivery attempts");
    util::within(started, Duration::from_secs(30));
}

#[tokio::test]
async fn retry_after_robots_refusal_and_seen_skip_through_the_bus() {
    let nats = NatsServer::start();
    let bus = bus(&nats).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let site = Server::start({
        let calls = calls.clone();
        move |path, _| match path {
            "/robots.txt" => Reply::robots("User-agent: *\nDisallow: /private\n"),
            "/flaky" if calls.fetch_add(1, Ordering::SeqCst) == 0 => {
                Reply::status(503).header("Retry-After", "1")
            }
            _ => Reply::html("<html><body>ok</body></html>"),
        }
    })
    .await;
    let config = FetchConfig {
        host_min_delay_ms: 20,
        ..config()
    };
    let (stop, tasks) = run(&bus, vec![stage(&bus, config).await]);
    publish(&bus, &site.url("/flaky"), "a").await;
    publish(&bus, &site.url("/private/x"), "b").await;
    publish(&bus, &site.url("/once"), "c").await;
    // The same article again (another message, tracking parameter added).
    let events: Vec<Envelope<Fetched>> =
        collect(&bus, subjects::FETCHED, 2, Duration::from_secs(20)).await;
    publish(&bus, &site.url("/once?utm_source=x"), "d").await;
    let dlq: Vec<Envelope<DlqRecord>> =
        collect(&bus, &subjects::dlq("fetch"), 1, Duration::from_secs(20)).await;
    assert_eq!(dlq[0].data.error_kind, "robots_disallowed");
    assert_eq!(dlq[0].data.attempts, 1);
    let mut urls: Vec<_> = events.iter().map(|e| e.data.url.clone()).collect();
    urls.sort();
    assert_eq!(urls, vec![site.url("/flaky"), site.url("/once")]);
    // Wait until the fourth message is acked, then stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = bus.status().await.unwrap();
        let pending = status
            .streams
            .iter()
            .flat_map(|s| &s.consumers)
            .find(|c| c.name == "fetch")
            .map(|c| c.pending + c.ack_pending as u64);
        if pending == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "messages still pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let stats = tasks.into_iter().next().unwrap().await.unwrap();
    assert_eq!(
        stats.acked.load(Ordering::Relaxed),
        3,
        "flaky, once, skipped"
    );
    assert_eq!(stats.retried.load(Ordering::Relaxed), 1, "the 503");
    assert_eq!(stats.dead_lettered.load(Ordering::Relaxed), 1);
    let mut pages: Vec<_> = site
        .hits()
        .into_iter()
        .filter(|p| p != "/robots.txt")
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        vec!["/flaky", "/flaky", "/once"],
        "skip made no request"
    );
}

#[tokio::test]
async fn a_long_queue_for_one_host_is_not_dead_lettered() {
    // 30 pages of one host, 100 ms apart, with only 300 ms of in-process
    // waiting and 3 deliveries per message: without ticketed slots each
    // message would be NAKed about ten times and end in the DLQ.
    let nats = NatsServer::start();
    let bus = bus_with(&nats, 3).await;
    let site = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html("<html><body>page</body></html>"),
    })
    .await;
    let config = FetchConfig {
        host_min_delay_ms: 100,
        host_max_wait_ms: 300,
        ..config()
    };
    let (stop, tasks) = run(&bus, vec![stage(&bus, config).await]);
    let started = Instant::now();
    for i in 0..30 {
        publish(&bus, &site.url(&format!("/q/{i}")), &format!("q{i}")).await;
    }
    let events: Vec<Envelope<Fetched>> =
        collect(&bus, subjects::FETCHED, 30, Duration::from_secs(60)).await;
    assert_eq!(events.len(), 30);
    let _ = stop.send(true);
    let stats = tasks.into_iter().next().unwrap().await.unwrap();
    assert_eq!(stats.dead_lettered.load(Ordering::Relaxed), 0);
    assert_eq!(stats.retried.load(Ordering::Relaxed), 0, "{stats:?}");
    assert!(stats.deferred.load(Ordering::Relaxed) <= 45, "{stats:?}");
    let times = site.page_times();
    assert_eq!(times.len(), 30);
    util::assert_spaced(&times, Duration::from_millis(100));
    util::within(started, Duration::from_secs(60));
}

#[tokio::test]
async fn a_slow_host_at_its_concurrency_limit_spends_no_attempts() {
    // One request at a time per host, pages taking 300 ms, 100 ms of
    // in-process waiting for the host's permit and 2 deliveries per
    // message: a busy host used to be a NAK per round, and most of these
    // pages ended in the DLQ as `retries_exhausted`.
    let nats = NatsServer::start();
    let bus = bus_with(&nats, 2).await;
    let site = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html("<html><body>page</body></html>").delay(Duration::from_millis(300)),
    })
    .await;
    let config = FetchConfig {
        host_min_delay_ms: 0,
        host_max_concurrency: 1,
        host_max_wait_ms: 100,
        ..config()
    };
    let (stop, tasks) = run(&bus, vec![stage(&bus, config).await]);
    for i in 0..10 {
        publish(&bus, &site.url(&format!("/s/{i}")), &format!("s{i}")).await;
    }
    let events: Vec<Envelope<Fetched>> =
        collect(&bus, subjects::FETCHED, 10, Duration::from_secs(60)).await;
    assert_eq!(events.len(), 10);
    let _ = stop.send(true);
    let stats = tasks.into_iter().next().unwrap().await.unwrap();
    assert_eq!(stats.dead_lettered.load(Ordering::Relaxed), 0, "{stats:?}");
    assert_eq!(stats.retried.load(Ordering::Relaxed), 0, "{stats:?}");
    assert!(stats.deferred.load(Ordering::Relaxed) > 0, "{stats:?}");
    assert_eq!(site.page_times().len(), 10);
}
