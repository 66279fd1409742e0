//! The hostile-server suite: a local server on 127.0.0.1 misbehaves in
//! every way the issue lists, and each case must end within its bound with
//! the right outcome (an event, a retry, or a DLQ reason).
//!
//! Network rule: every request goes to 127.0.0.1. `localhost`, `[::1]`,
//! `127.0.0.2` and other spellings appear only as targets the guard must
//! refuse, and the assertions check the refusal is the guard's
//! (`ssrf_refused`, decided before any connection) and that the server saw
//! nothing. Timing is asserted only as a generous upper bound.

mod util;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use newsflow_core::{CharsetSource, Envelope, Fetched, Stage, StageError, UrlRequest};
use newsflow_fetch::{Fetch, FetchConfig, FetchError, KvStore, MemoryKv, fetch_once};
use util::{Mode, Reply, Server, config, fetcher, reject, retry, stage_config, within};

fn request(url: &str, trace: &str) -> Envelope<UrlRequest> {
    Envelope::new(
        "id",
        trace,
        UrlRequest {
            url: url.to_string(),
            tags: Vec::new(),
            force: false,
        },
    )
}

fn forced(url: &str, trace: &str) -> Envelope<UrlRequest> {
    let mut r = request(url, trace);
    r.data.force = true;
    r
}

fn fetched(result: Result<Vec<Envelope<Fetched>>, StageError>) -> Fetched {
    let mut events = result.expect("a fetched event");
    assert_eq!(events.len(), 1);
    events.remove(0).data
}

/// A retry, or a deferral (a busy host), with its delay.
fn stage_retry(result: Result<Vec<Envelope<Fetched>>, StageError>) -> (String, Option<Duration>) {
    match result {
        Err(StageError::Retry { kind, after, .. }) => (kind, after),
        Err(StageError::Defer { kind, after, .. }) => {
            assert_eq!(kind, "host_busy", "only a busy host defers");
            (kind, Some(after))
        }
        other => panic!("expected Retry or Defer, got {other:?}"),
    }
}

fn stage_reject(result: Result<Vec<Envelope<Fetched>>, StageError>) -> String {
    match result {
        Err(StageError::Reject { kind, .. }) => kind,
        other => panic!("expected Reject, got {other:?}"),
    }
}

fn page(text: &str) -> String {
    format!("<!DOCTYPE html><html><head><title>t</title></head><body><p>{text}</p></body></html>")
}

// ---------------------------------------------------------------------
// Bounded resources
// ---------------------------------------------------------------------

fn bomb_plain(size: usize) -> Vec<u8> {
    let mut plain = b"<html><body>".to_vec();
    plain.resize(size, b' ');
    plain
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 1, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

#[tokio::test]
async fn decompression_bombs_stop_at_the_cap() {
    // 64 MiB of spaces in a few hundred KiB on the wire, against a 4 MiB cap.
    let plain = bomb_plain(64 * 1024 * 1024);
    let bombs = [
        ("gzip", gzip(&plain)),
        ("br", brotli(&plain)),
        ("zstd", zstd(&plain)),
    ];
    for (_, b) in &bombs {
        assert!(b.len() < 1024 * 1024, "bomb is {} bytes", b.len());
    }
    let bombs = Arc::new(bombs);
    let small = page("Réussie");
    let small_encoded = Arc::new([
        gzip(small.as_bytes()),
        brotli(small.as_bytes()),
        zstd(small.as_bytes()),
    ]);
    let server = Server::start({
        let bombs = bombs.clone();
        move |path, _| {
            let (i, bomb) = match path {
                "/gzip" | "/ok/gzip" => (0, true),
                "/br" | "/ok/br" => (1, true),
                _ => (2, true),
            };
            let body = if path.starts_with("/ok/") {
                small_encoded[i].clone()
            } else if bomb {
                bombs[i].1.clone()
            } else {
                unreachable!()
            };
            Reply::html(body).header("Content-Encoding", bombs[i].0)
        }
    })
    .await;
    let f = fetcher(FetchConfig {
        max_body_bytes: 4 * 1024 * 1024,
        ..config()
    });
    for coding in ["gzip", "br", "zstd"] {
        let out = f
            .fetch(&server.url(&format!("/ok/{coding}")))
            .await
            .unwrap();
        assert!(out.html.contains("Réussie"), "{coding}: {}", out.html);
        let started = Instant::now();
        let err = f
            .fetch(&server.url(&format!("/{coding}")))
            .await
            .unwrap_err();
        assert_eq!(reject(err), "too_large", "{coding}");
        within(started, Duration::from_secs(10));
    }
}

#[tokio::test]
async fn endless_chunked_body_ends_at_the_cap() {
    let server = Server::start(|_, _| Reply::html("").mode(Mode::EndlessChunked)).await;
    // The default cap (16 MiB).
    let started = Instant::now();
    let err = fetcher(config())
        .fetch(&server.url("/endless"))
        .await
        .unwrap_err();
    assert_eq!(reject(err), "too_large");
    within(started, Duration::from_secs(20));
}

#[tokio::test]
async fn five_gigabyte_content_length_is_refused_up_front() {
    let server = Server::start(|_, _| {
        Reply::html(page("x"))
            .without_length()
            .header("Content-Length", "5000000000")
            // Nothing more comes: only the announcement can end this fast.
            .body_delay(Duration::from_secs(30))
    })
    .await;
    let started = Instant::now();
    let err = fetcher(config())
        .fetch(&server.url("/huge"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FetchError::TooLarge {
            limit: 16 * 1024 * 1024
        }
    );
    assert_eq!(reject(err), "too_large");
    within(started, Duration::from_secs(3));
}

#[tokio::test]
async fn slowloris_body_ends_at_the_total_timeout() {
    let body = page(&"a".repeat(200));
    let server = Server::start(move |_, _| {
        Reply::html(body.clone()).mode(Mode::Trickle(Duration::from_secs(1)))
    })
    .await;
    let f = fetcher(FetchConfig {
        first_byte_timeout_ms: 1_000,
        total_timeout_ms: 2_500,
        ..config()
    });
    let started = Instant::now();
    let err = f.fetch(&server.url("/slow")).await.unwrap_err();
    assert!(err.to_string().contains("total"), "{err}");
    assert_eq!(retry(err), ("timeout".into(), None));
    within(started, Duration::from_secs(8));
}

#[tokio::test]
async fn slowloris_headers_end_at_the_first_byte_timeout() {
    let server = Server::start(|_, _| {
        Reply::html(page("x")).mode(Mode::HeaderTrickle(Duration::from_secs(1)))
    })
    .await;
    let f = fetcher(FetchConfig {
        first_byte_timeout_ms: 1_500,
        ..config()
    });
    let started = Instant::now();
    let err = f.fetch(&server.url("/slow-headers")).await.unwrap_err();
    assert!(err.to_string().contains("first byte"), "{err}");
    assert_eq!(retry(err).0, "timeout");
    within(started, Duration::from_secs(6));
}

#[tokio::test]
async fn endless_headers_are_cut_off() {
    let server = Server::start(|_, _| Reply::html("").mode(Mode::EndlessHeaders)).await;
    let started = Instant::now();
    let err = fetcher(config())
        .fetch(&server.url("/headers"))
        .await
        .unwrap_err();
    // hyper refuses a head past its buffer limit: a broken server, retried
    // later like any connection failure, never read forever.
    assert!(
        matches!(err, FetchError::Connect(_) | FetchError::Interrupted(_)),
        "{err:?}"
    );
    within(started, Duration::from_secs(10));
}

#[tokio::test]
async fn server_closing_mid_body_is_retried() {
    let body = page(&"é".repeat(5000)).into_bytes();
    let gz = gzip(&body);
    let server = Server::start(move |path, _| match path {
        "/gzip" => Reply::html(gz.clone())
            .header("Content-Encoding", "gzip")
            .mode(Mode::CutAfter(gz.len() / 2)),
        _ => Reply::html(body.clone()).mode(Mode::CutAfter(1000)),
    })
    .await;
    let f = fetcher(config());
    let started = Instant::now();
    let err = f.fetch(&server.url("/plain")).await.unwrap_err();
    assert_eq!(retry(err).0, "interrupted");
    let err = f.fetch(&server.url("/gzip")).await.unwrap_err();
    assert_eq!(retry(err).0, "interrupted");
    within(started, Duration::from_secs(5));
}

#[tokio::test]
async fn connect_timeout_fires_on_a_full_accept_queue() {
    // A listener that never accepts, with its queue filled: the next
    // connection attempt gets no answer, as from a black-holed host.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => break,
        }
    }
    let f = fetcher(FetchConfig {
        connect_timeout_ms: 500,
        first_byte_timeout_ms: 3_000,
        ..config()
    });
    let started = Instant::now();
    let err = f.fetch(&format!("http://{addr}/")).await.unwrap_err();
    // Some network stacks accept past the backlog; then the request waits
    // for headers instead. Either way it is a timeout, retried, and quick.
    assert!(
        matches!(err, FetchError::Timeout { .. }),
        "{err:?} after {} fillers",
        fillers.len()
    );
    assert_eq!(retry(err).0, "timeout");
    within(started, Duration::from_secs(6));
}

// ---------------------------------------------------------------------
// Redirects and the SSRF guard
// ---------------------------------------------------------------------

#[tokio::test]
async fn redirect_loop_and_twenty_hop_chain() {
    let server = Server::start(|path, _| match path {
        "/loop/a" => Reply::redirect(302, "/loop/b"),
        "/loop/b" => Reply::redirect(301, "/loop/a"),
        _ => {
            let n: u32 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
            if n == 0 {
                Reply::html(page("end"))
            } else {
                Reply::redirect(302, &format!("/hop/{}", n - 1))
            }
        }
    })
    .await;
    let f = fetcher(config());
    let started = Instant::now();
    let err = f.fetch(&server.url("/loop/a")).await.unwrap_err();
    assert!(err.to_string().contains("loop"), "{err}");
    assert_eq!(reject(err), "too_many_redirects");
    let err = f.fetch(&server.url("/hop/20")).await.unwrap_err();
    assert_eq!(reject(err), "too_many_redirects");
    // The default cap is 5: the first request and 5 hops, then it stops.
    let chain: Vec<_> = server
        .hits()
        .into_iter()
        .filter(|p| p.starts_with("/hop/"))
        .collect();
    assert_eq!(chain.len(), 6, "{chain:?}");
    within(started, Duration::from_secs(5));
}

#[tokio::test]
async fn redirects_to_other_loopback_targets_are_refused_before_connecting() {
    let server = Server::start(|path, port| {
        let target = match path {
            "/to/127.0.0.2" => format!("http://127.0.0.2:{port}/inside"),
            "/to/localhost" => format!("http://localhost:{port}/inside"),
            "/to/ipv6" => format!("http://[::1]:{port}/inside"),
            "/to/hex" => format!("http://0x7f000002:{port}/inside"),
            "/to/mapped" => format!("http://[::ffff:127.0.0.2]:{port}/inside"),
            "/to/metadata" => "http://169.254.169.254/latest/meta-data/".to_string(),
            _ => return Reply::html(page("inside")),
        };
        Reply::redirect(302, &target)
    })
    .await;
    let f = fetcher(config());
    for case in [
        "127.0.0.2",
        "localhost",
        "ipv6",
        "hex",
        "mapped",
        "metadata",
    ] {
        let path = format!("/to/{case}");
        let err = f.fetch(&server.url(&path)).await.unwrap_err();
        assert!(
            matches!(err, FetchError::SsrfRefused { .. }),
            "{case}: {err:?}"
        );
        assert_eq!(reject(err), "ssrf_refused");
    }
    // Only the redirecting hops reached the (allowed) server.
    assert!(
        server.hits().iter().all(|p| p.starts_with("/to/")),
        "{:?}",
        server.hits()
    );
}

#[tokio::test]
async fn integer_hex_and_octal_literals() {
    let server = Server::start(|_, _| Reply::html(page("secret"))).await;
    let port = server.port();
    let spellings = [
        format!("http://0x7f000001:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://017700000001:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://[::127.0.0.1]:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://LOCALHOST.:{port}/"),
    ];
    // Nothing allowed: every spelling is refused, nothing reaches the server.
    let guarded = fetcher(FetchConfig::default());
    for url in &spellings {
        let err = guarded.fetch(url).await.unwrap_err();
        assert_eq!(reject(err), "ssrf_refused", "{url}");
    }
    assert!(server.hits().is_empty(), "{:?}", server.hits());
    // 127.0.0.1 allowed: its IPv4 spellings canonicalise to it and pass; a
    // neighbour spelled the same way does not.
    let allowed = fetcher(config());
    for url in &spellings[..6] {
        let out = allowed.fetch(url).await.unwrap();
        assert_eq!(out.final_url, format!("http://127.0.0.1:{port}/"), "{url}");
    }
    for url in [
        format!("http://0x7f000002:{port}/"),
        format!("http://2130706434:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        assert_eq!(
            reject(allowed.fetch(&url).await.unwrap_err()),
            "ssrf_refused",
            "{url}"
        );
    }
    assert_eq!(server.hits().len(), 6);
}

// ---------------------------------------------------------------------
// Content
// ---------------------------------------------------------------------

#[tokio::test]
async fn wrong_or_missing_charset_declarations() {
    let cp1252 = b"<!DOCTYPE html><html><head><title>x</title></head><body><p>Le minist\xE8re de la D\xE9fense a re\xE7u une d\xE9l\xE9gation \xE0 Bamako \x96 \xAB coop\xE9ration \xBB.</p></body></html>".to_vec();
    let utf8 = page("Le ministère de la Défense a reçu une délégation à Bamako – « coopération ».");
    let server = Server::start(move |path, _| match path {
        // Header claims UTF-8, bytes are windows-1252.
        "/lying-header" => Reply::status(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(cp1252.clone()),
        // Header claims ISO-8859-1, bytes are UTF-8.
        "/lying-latin1" => Reply::status(200)
            .header("Content-Type", "text/html; charset=iso-8859-1")
            .body(utf8.clone()),
        // No declaration anywhere.
        "/undeclared" => Reply::html(cp1252.clone()),
        // A label nobody knows.
        _ => Reply::status(200)
            .header("Content-Type", "text/html; charset=x-nonsense")
            .body(utf8.clone()),
    })
    .await;
    let f = fetcher(config());
    let expected = "Le ministère de la Défense a reçu une délégation à Bamako – « coopération ».";
    for (path, charset) in [
        ("/lying-header", "windows-1252"),
        ("/lying-latin1", "UTF-8"),
        ("/undeclared", "windows-1252"),
        ("/unknown-label", "UTF-8"),
    ] {
        let out = f.fetch(&server.url(path)).await.unwrap();
        assert_eq!(out.charset(), charset, "{path}");
        assert_eq!(out.charset_source, CharsetSource::Detected, "{path}");
        assert!(out.html.contains(expected), "{path}: {}", out.html);
    }
}

#[tokio::test]
async fn pdf_and_images_are_refused_as_non_html() {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    let server = Server::start(|path, _| match path {
        "/doc.pdf" => Reply::status(200)
            .header("Content-Type", "application/pdf")
            .body("%PDF-1.7\n"),
        "/image.png" => Reply::status(200)
            .header("Content-Type", "image/png")
            .body(PNG),
        "/untyped.pdf" => Reply::status(200).body("%PDF-1.7\n"),
        _ => Reply::status(200).body(PNG),
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    for path in ["/doc.pdf", "/image.png", "/untyped.pdf", "/untyped.png"] {
        let kind = stage_reject(stage.handle(request(&server.url(path), path)).await);
        assert_eq!(kind, "not_html", "{path}");
    }
}

// ---------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------

#[tokio::test]
async fn too_many_requests_with_retry_after_backs_the_host_off() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        "/a" => Reply::status(429).header("Retry-After", "7"),
        _ => Reply::html(page("b")),
    })
    .await;
    let stage = Fetch::new(FetchConfig {
        host_max_wait_ms: 500,
        ..stage_config()
    })
    .unwrap();
    let (kind, after) = stage_retry(stage.handle(request(&server.url("/a"), "t1")).await);
    assert_eq!(
        (kind.as_str(), after),
        ("http_429", Some(Duration::from_secs(7)))
    );
    // The whole host now waits: another page is postponed, not requested.
    let (kind, after) = stage_retry(stage.handle(request(&server.url("/b"), "t2")).await);
    assert_eq!(kind, "host_busy");
    let after = after.unwrap();
    assert!(
        after > Duration::from_secs(5) && after <= Duration::from_secs(7),
        "{after:?}"
    );
    assert_eq!(server.hits(), vec!["/robots.txt", "/a"]);
}

#[tokio::test]
async fn service_unavailable_then_ok_succeeds_on_retry() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = Server::start({
        let calls = calls.clone();
        move |path, _| match path {
            "/robots.txt" => Reply::status(404),
            _ if calls.fetch_add(1, Ordering::SeqCst) == 0 => {
                Reply::status(503).header("Retry-After", "1")
            }
            _ => Reply::html(page("back")),
        }
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    let url = server.url("/flaky");
    let (kind, after) = stage_retry(stage.handle(request(&url, "t1")).await);
    assert_eq!(
        (kind.as_str(), after),
        ("http_503", Some(Duration::from_secs(1)))
    );
    // The redelivery (same request): the host's Retry-After is honoured
    // in-process, then the page comes.
    let started = Instant::now();
    let out = fetched(stage.handle(request(&url, "t1")).await);
    assert!(out.html.contains("back"));
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "Retry-After ignored"
    );
    within(started, Duration::from_secs(5));
}

// ---------------------------------------------------------------------
// Politeness
// ---------------------------------------------------------------------

#[tokio::test]
async fn robots_disallow_is_a_dlq_refusal_and_the_page_is_never_requested() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::robots(
            "User-agent: *\nDisallow: /private\n\nUser-agent: newsflow\nDisallow: /private\nDisallow: /drafts/\n",
        ),
        "/moved" => Reply::redirect(301, "/drafts/1"),
        _ => Reply::html(page("public")),
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    for path in ["/private/1", "/drafts/2", "/moved"] {
        let kind = stage_reject(stage.handle(request(&server.url(path), path)).await);
        assert_eq!(kind, "robots_disallowed", "{path}");
    }
    let out = fetched(stage.handle(request(&server.url("/public"), "t")).await);
    assert!(out.html.contains("public"));
    // robots.txt once (cached), the redirecting hop, the public page.
    assert_eq!(server.hits(), vec!["/robots.txt", "/moved", "/public"]);
}

#[tokio::test]
async fn crawl_delay_spaces_requests() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::robots("User-agent: *\nCrawl-delay: 1\n"),
        _ => Reply::html(page("x")),
    })
    .await;
    let stage = Arc::new(
        Fetch::new(FetchConfig {
            host_min_delay_ms: 0,
            ..stage_config()
        })
        .unwrap(),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let (stage, url) = (stage.clone(), server.url(&format!("/p{i}")));
            tokio::spawn(async move { stage.handle(request(&url, &format!("t{i}"))).await })
        })
        .collect();
    for t in tasks {
        fetched(t.await.unwrap());
    }
    let times: Vec<Instant> = server.requests().into_iter().map(|h| h.at).collect();
    assert_eq!(times.len(), 4, "robots.txt and three pages");
    util::assert_spaced(&times, Duration::from_millis(1000));
    within(started, Duration::from_secs(8));
}

#[tokio::test]
async fn unreadable_robots_postpones_and_huge_robots_is_truncated() {
    let big_rules = {
        let mut text = String::from("User-agent: *\nDisallow: /early\n");
        while text.len() < 700 * 1024 {
            text.push_str("# filler filler filler filler filler filler filler\n");
        }
        text.push_str("Disallow: /late\n");
        text
    };
    let down = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(503),
        _ => Reply::html(page("x")),
    })
    .await;
    let big = Server::start(move |path, _| match path {
        "/robots.txt" => Reply::robots(&big_rules),
        _ => Reply::html(page("x")),
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    let (kind, after) = stage_retry(stage.handle(request(&down.url("/a"), "t1")).await);
    assert_eq!(kind, "robots_unavailable");
    assert!(after.unwrap() > Duration::from_secs(30), "{after:?}");
    // Cached: the next URL of that host does not ask again.
    let (kind, _) = stage_retry(stage.handle(request(&down.url("/b"), "t2")).await);
    assert_eq!(kind, "robots_unavailable");
    assert_eq!(down.hits(), vec!["/robots.txt"]);

    let kind = stage_reject(stage.handle(request(&big.url("/early/1"), "t3")).await);
    assert_eq!(kind, "robots_disallowed");
    // The rule past 500 KiB is not read.
    fetched(stage.handle(request(&big.url("/late/1"), "t4")).await);
}

#[tokio::test]
async fn host_not_due_within_the_wait_bound_is_retried_with_a_delay() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html(page("x")),
    })
    .await;
    let stage = Fetch::new(FetchConfig {
        host_min_delay_ms: 1_000,
        host_max_wait_ms: 100,
        ..config()
    })
    .unwrap();
    let started = Instant::now();
    // robots.txt took the host's slot; the page's is a second away.
    let (kind, after) = stage_retry(stage.handle(request(&server.url("/a"), "t")).await);
    assert_eq!(kind, "host_busy");
    let after = after.unwrap();
    assert!(
        after > Duration::from_millis(700) && after <= Duration::from_secs(1),
        "{after:?}"
    );
    assert_eq!(server.hits(), vec!["/robots.txt"]);
    within(started, Duration::from_secs(1));
    // When it is due, the retry goes through.
    tokio::time::sleep(after).await;
    fetched(stage.handle(request(&server.url("/a"), "t")).await);
}

#[tokio::test]
async fn replicas_sharing_the_schedule_keep_the_per_host_delay() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html(page("x")),
    })
    .await;
    let hosts: Arc<dyn KvStore> = Arc::new(MemoryKv::new(Duration::from_secs(60)));
    let replicas: Vec<Arc<Fetch>> = (0..3)
        .map(|_| {
            let seen: Arc<dyn KvStore> = Arc::new(MemoryKv::new(Duration::from_secs(60)));
            Arc::new(
                Fetch::with_kv(
                    FetchConfig {
                        host_min_delay_ms: 150,
                        ..config()
                    },
                    seen,
                    hosts.clone(),
                )
                .unwrap(),
            )
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = (0..9)
        .map(|i| {
            let stage = replicas[i % 3].clone();
            let url = server.url(&format!("/p{i}"));
            tokio::spawn(async move { stage.handle(request(&url, &format!("t{i}"))).await })
        })
        .collect();
    for t in tasks {
        fetched(t.await.unwrap());
    }
    let times: Vec<Instant> = server.requests().into_iter().map(|h| h.at).collect();
    // Each replica read robots.txt once; every request, those included,
    // is spaced.
    assert_eq!(times.len(), 12);
    util::assert_spaced(&times, Duration::from_millis(150));
    within(started, Duration::from_secs(8));
}

// ---------------------------------------------------------------------
// No wasted work
// ---------------------------------------------------------------------

#[tokio::test]
async fn seen_urls_are_skipped_unless_forced_or_redelivered() {
    let server = Server::start(|path, _| match path {
        "/robots.txt" => Reply::status(404),
        _ => Reply::html(page("x")),
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    let url = server.url("/article?utm_source=rss&id=1");
    fetched(stage.handle(request(&url, "first")).await);
    // The same article (tracking parameters differ) from another request:
    // acknowledged without output, no request made.
    let same = server.url("/article?id=1&utm_medium=social#top");
    assert!(
        stage
            .handle(request(&same, "second"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.hits().len(), 2);
    // A redelivery of the first request is not stopped by its own record.
    fetched(stage.handle(request(&url, "first")).await);
    // `force` fetches again.
    fetched(stage.handle(forced(&url, "third")).await);
    assert_eq!(server.hits().len(), 4);
}

#[tokio::test]
async fn refetch_is_conditional_and_304_makes_no_event() {
    let server = Server::start_with(|hit, _| match hit.path.as_str() {
        "/robots.txt" => Reply::status(404),
        _ if hit.header("if-none-match") == Some("\"v1\"") => Reply::status(304),
        _ => Reply::html(page("x"))
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Wed, 25 Jun 2025 08:00:00 GMT"),
    })
    .await;
    let stage = Fetch::new(FetchConfig {
        skip_seen_secs: 0,
        ..stage_config()
    })
    .unwrap();
    let url = server.url("/article");
    let first = fetched(stage.handle(request(&url, "t1")).await);
    assert_eq!(first.etag.as_deref(), Some("\"v1\""));
    // Refetch: validators sent, 304, no event.
    assert!(stage.handle(request(&url, "t2")).await.unwrap().is_empty());
    // `force` asks for a fresh copy: no validators.
    fetched(stage.handle(forced(&url, "t3")).await);
    let pages: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|h| h.path == "/article")
        .collect();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0].header("if-none-match"), None);
    assert_eq!(pages[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        pages[1].header("if-modified-since"),
        Some("Wed, 25 Jun 2025 08:00:00 GMT")
    );
    assert_eq!(pages[2].header("if-none-match"), None);
}

// ---------------------------------------------------------------------
// One-shot report
// ---------------------------------------------------------------------

#[tokio::test]
async fn one_shot_report() {
    const CAFE: &[u8] =
        b"<html><head><meta charset=\"windows-1252\"></head><body>caf\xE9</body></html>";
    let server = Server::start(|path, port| match path {
        "/robots.txt" => Reply::status(404),
        "/a" => Reply::redirect(301, "/b"),
        "/b" => Reply::html(CAFE),
        "/escape" => Reply::redirect(302, &format!("http://127.0.0.2:{port}/x")),
        _ => Reply::status(404),
    })
    .await;
    let report = fetch_once(stage_config(), &server.url("/a")).await;
    assert!(report.ok, "{report:?}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["final_url"], server.url("/b"));
    assert_eq!(json["redirects"], serde_json::json!([server.url("/a")]));
    assert_eq!(json["charset"], "windows-1252");
    assert_eq!(json["charset_source"], "meta");
    assert_eq!(json["content_type"], "text/html");
    assert_eq!(json["body_bytes"], CAFE.len());
    assert_eq!(
        json["text_bytes"],
        CAFE.len() + 1,
        "é is two bytes in UTF-8"
    );
    assert_eq!(json["hops"][0]["status"], 301);
    assert!(json["elapsed_ms"].is_u64());
    assert!(json.get("error").is_none());

    let report = fetch_once(stage_config(), &server.url("/escape")).await;
    assert!(!report.ok);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["error"]["kind"], "ssrf_refused");
    assert_eq!(json["error"]["retryable"], false);
    assert_eq!(json["hops"][0]["status"], 302);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.2"),
        "{json}"
    );

    let report = fetch_once(stage_config(), &server.url("/missing")).await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["error"]["kind"], "http_404");
    assert_eq!(json["status"], 404);
}
