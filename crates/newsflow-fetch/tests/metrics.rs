//! What the stage records through the `metrics` facade, read back with a
//! debugging recorder (its own test binary: the recorder is global).

mod util;

use std::collections::HashMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use newsflow_core::{Envelope, Stage, UrlRequest};
use newsflow_fetch::metrics::names;
use newsflow_fetch::{Fetch, FetchConfig};
use util::{Reply, Server, stage_config};

fn request(url: String, trace: &str) -> Envelope<UrlRequest> {
    Envelope::new(
        "id",
        trace,
        UrlRequest {
            url,
            tags: Vec::new(),
            force: false,
        },
    )
}

/// (name, sorted labels) → value.
type Recorded = HashMap<(String, Vec<(String, String)>), DebugValue>;

fn find<'a>(recorded: &'a Recorded, name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    recorded.iter().find_map(|((n, l), v)| {
        (n == name
            && labels
                .iter()
                .all(|(k, want)| l.iter().any(|(lk, lv)| lk == k && lv == want)))
        .then_some(v)
    })
}

fn counter(recorded: &Recorded, name: &str, labels: &[(&str, &str)]) -> u64 {
    match find(recorded, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?}\nall: {:#?}", recorded.keys()),
    }
}

#[tokio::test]
async fn counters_and_latency_are_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("first recorder of this binary");
    newsflow_fetch::metrics::describe();

    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::robots("User-agent: *\nDisallow: /private\n"),
        "/ok" => Reply::html("<html><body>0123456789</body></html>"),
        "/private" => Reply::html("<html>no</html>"),
        _ => Reply::status(404),
    })
    .await;
    let stage = Fetch::new(FetchConfig {
        skip_seen_secs: 3600,
        ..stage_config()
    })
    .unwrap();
    stage
        .handle(request(server.url("/ok"), "t1"))
        .await
        .unwrap();
    stage
        .handle(request(server.url("/ok"), "t2"))
        .await
        .unwrap();
    stage
        .handle(request(server.url("/missing"), "t3"))
        .await
        .unwrap_err();
    stage
        .handle(request(server.url("/private"), "t4"))
        .await
        .unwrap_err();
    stage
        .handle(request("http://127.0.0.2/x".into(), "t5"))
        .await
        .unwrap_err();

    let recorded: Recorded = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            labels.sort();
            ((key.name().to_string(), labels), value)
        })
        .collect();
    let host = format!("127.0.0.1:{}", server.port());
    let host = host.as_str();
    assert_eq!(
        counter(
            &recorded,
            names::REQUESTS,
            &[("host", host), ("kind", "page"), ("status", "2xx")]
        ),
        1
    );
    assert_eq!(
        counter(
            &recorded,
            names::REQUESTS,
            &[("host", host), ("kind", "page"), ("status", "4xx")]
        ),
        1
    );
    assert_eq!(
        counter(
            &recorded,
            names::REQUESTS,
            &[("host", host), ("kind", "robots"), ("status", "2xx")]
        ),
        1
    );
    assert_eq!(
        counter(&recorded, names::BYTES, &[("host", host), ("kind", "page")]),
        "<html><body>0123456789</body></html>".len() as u64
    );
    assert_eq!(
        counter(&recorded, names::OUTCOMES, &[("outcome", "fetched")]),
        1
    );
    assert_eq!(
        counter(&recorded, names::OUTCOMES, &[("outcome", "skipped_seen")]),
        1
    );
    assert_eq!(
        counter(
            &recorded,
            names::REFUSALS,
            &[("host", host), ("reason", "http_404")]
        ),
        1
    );
    assert_eq!(
        counter(
            &recorded,
            names::REFUSALS,
            &[("host", host), ("reason", "robots_disallowed")]
        ),
        1
    );
    assert_eq!(
        counter(
            &recorded,
            names::REFUSALS,
            &[("host", "127.0.0.2"), ("reason", "ssrf_refused")]
        ),
        1
    );
    assert_eq!(counter(&recorded, names::ROBOTS, &[("result", "rules")]), 1);
    match find(&recorded, names::DURATION, &[("outcome", "fetched")]) {
        Some(DebugValue::Histogram(values)) => {
            assert_eq!(values.len(), 1);
            assert!(values[0].into_inner() > 0.0);
        }
        other => panic!("duration histogram: {other:?}"),
    }
    assert!(matches!(
        find(&recorded, names::POLITENESS_WAIT, &[]),
        Some(DebugValue::Histogram(v)) if !v.is_empty()
    ));
}
