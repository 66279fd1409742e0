//! The delivery policy of `run_stage`, against a real nats-server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use newsflow_bus::{Bus, BusConfig, ConsumerSettings, ConsumerStatus, Status};
use newsflow_core::{
    CharsetSource, DlqRecord, Envelope, Event, Fetched, Stage, StageError, UrlRequest, subjects,
};
use newsflow_test_support::NatsServer;
use tokio::sync::oneshot;

fn config(url: &str) -> BusConfig {
    BusConfig {
        url: url.to_string(),
        consumer: ConsumerSettings {
            max_in_flight: 4,
            ack_wait_secs: 2,
            max_deliver: 3,
            backoff_base_ms: 50,
            backoff_max_ms: 200,
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn bus(server: &NatsServer) -> Bus {
    let bus = Bus::connect(config(&server.url())).await.expect("connect");
    bus.ensure_topology().await.expect("topology");
    bus
}

/// A stage that turns a URL request into a `Fetched` event and records
/// every URL it handled; URLs containing "fail" fail transiently, "reject"
/// permanently, "slow" take `slow` to handle, "big" return a 10 MB page.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    slow: Duration,
    started: AtomicUsize,
    /// URLs containing "down" find their dependency unavailable this many
    /// times before it is back.
    outage: AtomicUsize,
    /// URLs containing "later" are deferred by `defer_for` this many times.
    defers: AtomicUsize,
    defer_for: Duration,
}

impl Stage for Recorder {
    type In = UrlRequest;
    type Out = Fetched;
    const NAME: &'static str = "fetch";

    async fn handle(
        &self,
        input: Envelope<UrlRequest>,
    ) -> Result<Vec<Envelope<Fetched>>, StageError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let url = input.data.url.clone();
        if url.contains("slow") {
            tokio::time::sleep(self.slow).await;
        }
        self.seen.lock().unwrap().push(url.clone());
        if url.contains("down")
            && self
                .outage
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err(StageError::unavailable("db", "connection refused"));
        }
        if url.contains("later")
            && self
                .defers
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err(StageError::defer("host_busy", "not yet", self.defer_for));
        }
        if url.contains("fail") {
            return Err(StageError::retry("http_503", "upstream unavailable"));
        }
        if url.contains("reject") {
            return Err(StageError::reject("http_404", "no such page"));
        }
        let html = if url.contains("big") {
            "x".repeat(10 * 1024 * 1024)
        } else {
            url.clone()
        };
        Ok(vec![input.follow(Fetched {
            url: url.clone(),
            final_url: url,
            redirects: vec![],
            status: 200,
            content_type: Some("text/html".into()),
            charset: "UTF-8".into(),
            charset_source: CharsetSource::Header,
            bytes: html.len() as u64,
            elapsed_ms: 1,
            fetched_at: Utc::now(),
            etag: None,
            last_modified: None,
            tags: vec![],
            html,
        })])
    }
}

async fn publish_url(bus: &Bus, url: &str) {
    bus.publish_bytes(subjects::URLS, Bytes::from(url.to_string()), url)
        .await
        .expect("publish");
}

/// Collect `n` payloads of `subject` (from the start of its stream).
async fn collect(bus: &Bus, subject: &str, n: usize) -> Vec<Bytes> {
    let stream = bus.subscribe(subject, true).await.expect("subscribe");
    let items = tokio::time::timeout(Duration::from_secs(30), stream.take(n).collect::<Vec<_>>())
        .await
        .unwrap_or_else(|_| panic!("fewer than {n} messages on {subject} within 30 s"));
    items
        .into_iter()
        .map(|r| r.expect("message").payload)
        .collect()
}

/// The fetch stage's consumer in `status`.
fn fetch_consumer(status: &Status) -> &ConsumerStatus {
    status
        .streams
        .iter()
        .find(|s| s.name == subjects::STREAM_URLS)
        .and_then(|urls| urls.consumers.iter().find(|c| c.name == "fetch"))
        .expect("the fetch consumer of the urls stream")
}

/// Wait (up to 2 s) until the stage has been handed its first message.
async fn wait_until_started(stage: &Recorder) {
    for _ in 0..100 {
        if stage.started.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn_stage(
    bus: &Bus,
    stage: Arc<Recorder>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let bus = bus.clone();
    let handle = tokio::spawn(async move {
        bus.run_stage(stage, async {
            let _ = rx.await;
        })
        .await
        .expect("run_stage");
    });
    (tx, handle)
}

#[tokio::test]
async fn outputs_are_published_and_inputs_acked() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let stage = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/a").await;
    let out = collect(&bus, subjects::FETCHED, 1).await;
    let env = Fetched::decode(&out[0], "").unwrap();
    assert_eq!(env.data.url, "https://example.org/a");
    let _ = stop.send(());
    handle.await.unwrap();
    let status = bus.status().await.unwrap();
    let consumer = fetch_consumer(&status);
    assert_eq!(
        (consumer.pending, consumer.ack_pending),
        (0, 0),
        "input acked"
    );
}

#[tokio::test]
async fn poison_and_rejected_messages_land_in_the_dlq_with_reason() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let stage = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    bus.publish_bytes(subjects::URLS, Bytes::from_static(b"{not json"), "p1")
        .await
        .unwrap();
    bus.publish_bytes(
        subjects::URLS,
        Bytes::from_static(&[0xff, 0x00, 0xfe]),
        "p2",
    )
    .await
    .unwrap();
    publish_url(&bus, "https://example.org/reject").await;
    publish_url(&bus, "https://example.org/good").await;
    let dlq = collect(&bus, &subjects::dlq("fetch"), 3).await;
    let records: Vec<Envelope<DlqRecord>> = dlq
        .iter()
        .map(|b| serde_json::from_slice(b).expect("DLQ record is JSON"))
        .collect();
    let kinds: Vec<&str> = records.iter().map(|r| r.data.error_kind.as_str()).collect();
    assert_eq!(kinds, vec!["malformed", "not_utf8", "http_404"]);
    assert_eq!(records[0].data.original.as_deref(), Some("{not json"));
    assert_eq!(records[1].data.original_base64.as_deref(), Some("/wD+"));
    assert_eq!(records[2].data.message, "no such page");
    assert_eq!(records[2].data.stage, "fetch");
    // Good input still flows.
    let out = collect(&bus, subjects::FETCHED, 1).await;
    assert!(
        Fetched::decode(&out[0], "")
            .unwrap()
            .data
            .url
            .ends_with("/good")
    );
    let _ = stop.send(());
    handle.await.unwrap();
}

#[tokio::test]
async fn transient_failures_are_retried_then_dead_lettered() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let stage = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/fail").await;
    let dlq = collect(&bus, &subjects::dlq("fetch"), 1).await;
    let record: Envelope<DlqRecord> = serde_json::from_slice(&dlq[0]).unwrap();
    assert_eq!(record.data.error_kind, "retries_exhausted");
    assert!(
        record.data.message.contains("http_503"),
        "{}",
        record.data.message
    );
    assert_eq!(record.data.attempts, 3);
    assert_eq!(
        stage.seen.lock().unwrap().len(),
        3,
        "max_deliver attempts, no more"
    );
    let _ = stop.send(());
    handle.await.unwrap();
}

#[tokio::test]
async fn an_outage_is_waited_out_in_place_without_spending_deliveries() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    // Twice max_deliver: counted retries would have dead-lettered it.
    let stage = Arc::new(Recorder {
        outage: AtomicUsize::new(6),
        ..Default::default()
    });
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/down").await;
    let out = collect(&bus, subjects::FETCHED, 1).await;
    assert!(String::from_utf8_lossy(&out[0]).contains("example.org/down"));
    assert_eq!(
        stage.started.load(Ordering::SeqCst),
        7,
        "6 waits, then done"
    );
    let status = bus.status().await.unwrap();
    assert_eq!(status.dlq_total(), 0);
    let fetch = fetch_consumer(&status);
    assert_eq!(fetch.redelivered, 0, "held in place, never redelivered");
    let _ = stop.send(());
    handle.await.unwrap();
}

#[tokio::test]
async fn replicas_share_the_work_without_handling_a_message_twice() {
    let server = NatsServer::start();
    let bus_a = bus(&server).await;
    let bus_b = Bus::connect(config(&server.url())).await.unwrap();
    let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let (stop_a, ha) = spawn_stage(&bus_a, a.clone());
    let (stop_b, hb) = spawn_stage(&bus_b, b.clone());
    let n = 200;
    for i in 0..n {
        publish_url(&bus_a, &format!("https://example.org/{i}")).await;
    }
    let out = collect(&bus_a, subjects::FETCHED, n).await;
    assert_eq!(out.len(), n);
    let _ = stop_a.send(());
    let _ = stop_b.send(());
    ha.await.unwrap();
    hb.await.unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for url in a
        .seen
        .lock()
        .unwrap()
        .iter()
        .chain(b.seen.lock().unwrap().iter())
    {
        *counts.entry(url.clone()).or_default() += 1;
    }
    assert_eq!(counts.len(), n, "every message handled");
    assert!(counts.values().all(|&c| c == 1), "no message handled twice");
    let (na, nb) = (a.seen.lock().unwrap().len(), b.seen.lock().unwrap().len());
    assert!(na > 0 && nb > 0, "both replicas worked: {na} / {nb}");
}

#[tokio::test]
async fn a_killed_stage_loses_nothing() {
    let server = NatsServer::start();
    let bus_a = bus(&server).await;
    // A stage that dies (its task aborted, its connection gone) while
    // holding unacked messages.
    let slow = Arc::new(Recorder {
        slow: Duration::from_secs(60),
        ..Default::default()
    });
    let dying = {
        let bus = Bus::connect(config(&server.url())).await.unwrap();
        let slow = slow.clone();
        tokio::spawn(async move {
            let _ = bus.run_stage(slow, std::future::pending()).await;
        })
    };
    for i in 0..3 {
        publish_url(&bus_a, &format!("https://example.org/slow-{i}")).await;
    }
    // Wait until it holds them all.
    for _ in 0..100 {
        if slow.started.load(Ordering::SeqCst) == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(slow.started.load(Ordering::SeqCst), 3);
    dying.abort();
    let _ = dying.await;
    // A fresh replica picks them up after ack_wait.
    let fresh = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus_a, fresh.clone());
    let out = collect(&bus_a, subjects::FETCHED, 3).await;
    assert_eq!(out.len(), 3);
    let _ = stop.send(());
    handle.await.unwrap();
    assert_eq!(fresh.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_message_that_kills_every_replica_is_dead_lettered_not_dropped() {
    let server = NatsServer::start();
    let bus_a = bus(&server).await;
    publish_url(&bus_a, "https://example.org/slow-crasher").await;
    // Each delivery dies with its replica (max_deliver is 3 in `config`).
    let slow = Arc::new(Recorder {
        slow: Duration::from_secs(60),
        ..Default::default()
    });
    for attempt in 1..=3 {
        let dying = {
            let bus = Bus::connect(config(&server.url())).await.unwrap();
            let slow = slow.clone();
            tokio::spawn(async move {
                let _ = bus.run_stage(slow, std::future::pending()).await;
            })
        };
        for _ in 0..200 {
            if slow.started.load(Ordering::SeqCst) == attempt {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(slow.started.load(Ordering::SeqCst), attempt);
        dying.abort();
        let _ = dying.await;
    }
    // The fourth delivery is not handled again: it goes to the DLQ, where
    // the server's own limit would have dropped it without a word.
    let fresh = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus_a, fresh.clone());
    let dlq = collect(&bus_a, &subjects::dlq("fetch"), 1).await;
    let record: Envelope<DlqRecord> = serde_json::from_slice(&dlq[0]).unwrap();
    assert_eq!(record.data.error_kind, "deliveries_exhausted");
    assert_eq!(record.data.attempts, 4);
    assert!(record.data.original.unwrap().contains("slow-crasher"));
    let _ = stop.send(());
    handle.await.unwrap();
    assert!(fresh.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ten_megabyte_payloads_pass_by_claim_check() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    assert!(bus.max_payload() <= 1024 * 1024 * 8);
    let stage = Arc::new(Recorder::default());
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/big").await;
    let out = collect(&bus, subjects::FETCHED, 1).await;
    let env = Fetched::decode(&out[0], "").unwrap();
    assert_eq!(env.data.html.len(), 10 * 1024 * 1024);
    let _ = stop.send(());
    handle.await.unwrap();
    // And an oversized input is carried too.
    let big_input = format!("https://example.org/{}", "a".repeat(2 * 1024 * 1024));
    let sent = bus
        .publish_bytes(subjects::URLS, Bytes::from(big_input.clone()), "big-in")
        .await;
    assert!(sent.is_ok(), "{sent:?}");
}

#[tokio::test]
async fn a_deferred_message_frees_its_slot_and_spends_no_delivery() {
    let server = NatsServer::start();
    let bus = Bus::connect(BusConfig {
        consumer: ConsumerSettings {
            max_in_flight: 1,
            ..config(&server.url()).consumer
        },
        ..config(&server.url())
    })
    .await
    .unwrap();
    bus.ensure_topology().await.unwrap();
    // Deferred four times (more than max_deliver), 700 ms each.
    let stage = Arc::new(Recorder {
        defers: AtomicUsize::new(4),
        defer_for: Duration::from_millis(700),
        ..Default::default()
    });
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/later").await;
    publish_url(&bus, "https://example.org/now").await;
    let out = collect(&bus, subjects::FETCHED, 2).await;
    let order: Vec<String> = out
        .iter()
        .map(|p| String::from_utf8_lossy(p).to_string())
        .collect();
    // With one slot, the second message went past the parked first.
    assert!(order[0].contains("example.org/now"), "{order:?}");
    assert!(order[1].contains("example.org/later"), "{order:?}");
    let status = bus.status().await.unwrap();
    assert_eq!(status.dlq_total(), 0);
    let fetch = fetch_consumer(&status);
    assert_eq!(fetch.redelivered, 0, "parked, never redelivered");
    let _ = stop.send(());
    handle.await.unwrap();
}

#[tokio::test]
async fn stopping_hands_parked_messages_back_to_the_server() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let stage = Arc::new(Recorder {
        defers: AtomicUsize::new(1),
        defer_for: Duration::from_secs(50),
        ..Default::default()
    });
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/later").await;
    wait_until_started(&stage).await;
    // Parked for 50 s, yet the stage stops at once.
    let started = std::time::Instant::now();
    let _ = stop.send(());
    handle.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // NAKed, not lost: the next replica gets it and it goes through.
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    let out = collect(&bus, subjects::FETCHED, 1).await;
    assert!(String::from_utf8_lossy(&out[0]).contains("example.org/later"));
    let _ = stop.send(());
    handle.await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_in_flight_work() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let stage = Arc::new(Recorder {
        slow: Duration::from_millis(800),
        ..Default::default()
    });
    let (stop, handle) = spawn_stage(&bus, stage.clone());
    publish_url(&bus, "https://example.org/slow-1").await;
    wait_until_started(&stage).await;
    let _ = stop.send(());
    handle.await.unwrap();
    assert_eq!(
        stage.seen.lock().unwrap().len(),
        1,
        "in-flight message finished"
    );
    let status = bus.status().await.unwrap();
    let consumer = fetch_consumer(&status);
    assert_eq!(consumer.ack_pending, 0, "acked before exit");
    let out = collect(&bus, subjects::FETCHED, 1).await;
    assert_eq!(out.len(), 1);
}

#[tokio::test]
async fn duplicate_publishes_are_dropped_inside_the_window() {
    let server = NatsServer::start();
    let bus = bus(&server).await;
    let first = bus
        .publish_bytes(
            subjects::URLS,
            Bytes::from_static(b"https://x.org/"),
            "same",
        )
        .await
        .unwrap();
    let second = bus
        .publish_bytes(
            subjects::URLS,
            Bytes::from_static(b"https://x.org/"),
            "same",
        )
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(first.sequence, second.sequence);
}
