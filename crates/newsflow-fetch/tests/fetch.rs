//! The fetcher against a small HTTP/1.1 server on 127.0.0.1 that serves
//! pages and misbehaves on purpose. No traffic leaves the loopback address.

mod util;

use std::io::Write;
use std::time::Duration;

use newsflow_core::{CharsetSource, Envelope, Stage, StageError, UrlRequest};
use newsflow_fetch::{Fetch, FetchConfig, FetchError, Fetcher};
use util::{Reply, Server, config, fetcher, reject, retry, stage_config};

/// A French page in windows-1252 declaring its charset only in a meta tag.
fn cp1252_page() -> Vec<u8> {
    let mut page = b"<!DOCTYPE html><html lang=\"fr\"><head>\
        <meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">\
        <title>Coop\xE9ration</title></head><body><p>\xAB Nous avons re\xE7u le mat\xE9riel \xBB, \
        a confi\xE9 le ministre \x96 mercredi 25 juin 2025.</p>"
        .to_vec();
    page.extend_from_slice(b"</body></html>");
    page
}

#[tokio::test]
async fn windows_1252_page_declared_by_meta() {
    let server = Server::start(|_, _| {
        Reply::html(cp1252_page())
            .header("ETag", "\"v1\"")
            .header("Last-Modified", "Wed, 25 Jun 2025 08:00:00 GMT")
    })
    .await;
    let url = server.url("/article.html");
    let out = fetcher(config()).fetch(&url).await.unwrap();
    assert_eq!(out.url, url);
    assert_eq!(out.final_url, url);
    assert!(out.redirects.is_empty());
    assert_eq!(out.status, 200);
    assert_eq!(out.content_type.as_deref(), Some("text/html"));
    assert_eq!(out.charset(), "windows-1252");
    assert_eq!(out.charset_source, CharsetSource::Meta);
    assert!(
        out.html.contains(
            "« Nous avons reçu le matériel », a confié le ministre – mercredi 25 juin 2025."
        ),
        "{}",
        out.html
    );
    assert_eq!(out.body.len(), cp1252_page().len());
    assert_eq!(out.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        out.last_modified.as_deref(),
        Some("Wed, 25 Jun 2025 08:00:00 GMT")
    );
}

#[tokio::test]
async fn charset_from_header_and_html_sniffed_without_content_type() {
    let server = Server::start(|path, _| match path {
        "/header" => Reply::status(200)
            .header("Content-Type", "text/html; charset=ISO-8859-1")
            .body(b"<html><body>d\xE9j\xE0</body></html>".to_vec()),
        _ => Reply::status(200).body("<!doctype html><html><body>déjà</body></html>"),
    })
    .await;
    let f = fetcher(config());
    let out = f.fetch(&server.url("/header")).await.unwrap();
    assert_eq!(
        (out.charset(), out.charset_source),
        ("windows-1252", CharsetSource::Header)
    );
    assert!(out.html.contains("déjà"));
    let out = f.fetch(&server.url("/untyped")).await.unwrap();
    assert_eq!(out.content_type, None);
    assert_eq!(
        (out.charset(), out.charset_source),
        ("UTF-8", CharsetSource::Detected)
    );
    assert!(out.html.contains("déjà"));
}

#[tokio::test]
async fn redirect_chain_is_followed_and_recorded() {
    let server = Server::start(|path, port| match path {
        "/a" => Reply::redirect(301, "/b"),
        "/b" => Reply::redirect(302, &format!("http://127.0.0.1:{port}/c#ignored")),
        "/c" => Reply::redirect(307, "final?x=1"),
        "/final?x=1" => Reply::html("<html><body>ok</body></html>"),
        _ => Reply::status(404),
    })
    .await;
    let out = fetcher(config()).fetch(&server.url("/a")).await.unwrap();
    assert_eq!(out.url, server.url("/a"));
    assert_eq!(out.final_url, server.url("/final?x=1"));
    assert_eq!(
        out.redirects,
        vec![server.url("/a"), server.url("/b"), server.url("/c")]
    );
    assert_eq!(out.status, 200);
    assert_eq!(server.hits(), vec!["/a", "/b", "/c", "/final?x=1"]);
}

#[tokio::test]
async fn redirect_loop_is_refused() {
    let server = Server::start(|path, _| match path {
        "/x" => Reply::redirect(302, "/y"),
        _ => Reply::redirect(302, "/x"),
    })
    .await;
    let err = fetcher(config())
        .fetch(&server.url("/x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loop"), "{err}");
    assert_eq!(reject(err), "too_many_redirects");
    assert_eq!(server.hits(), vec!["/x", "/y"]);
}

#[tokio::test]
async fn redirect_cap() {
    // /hop/N redirects N times before the page.
    let server = Server::start(|path, _| {
        let n: u32 = path.trim_start_matches("/hop/").parse().unwrap_or(0);
        if n == 0 {
            Reply::html("<html>end</html>")
        } else {
            Reply::redirect(302, &format!("/hop/{}", n - 1))
        }
    })
    .await;
    let f = fetcher(FetchConfig {
        max_redirects: 3,
        ..config()
    });
    let out = f.fetch(&server.url("/hop/3")).await.unwrap();
    assert_eq!(out.redirects.len(), 3);
    assert_eq!(out.final_url, server.url("/hop/0"));
    let err = f.fetch(&server.url("/hop/4")).await.unwrap_err();
    assert_eq!(reject(err), "too_many_redirects");
}

#[tokio::test]
async fn http_errors_are_classified() {
    let server = Server::start(|path, _| match path {
        "/404" => Reply::status(404)
            .header("Content-Type", "text/html")
            .body("<html>gone</html>"),
        "/410" => Reply::status(410),
        "/503" => Reply::status(503).header("Retry-After", "120"),
        "/429" => Reply::status(429).header("Retry-After", "7"),
        "/500" => Reply::status(500),
        _ => Reply::status(408),
    })
    .await;
    let f = fetcher(config());
    assert_eq!(
        reject(f.fetch(&server.url("/404")).await.unwrap_err()),
        "http_404"
    );
    assert_eq!(
        reject(f.fetch(&server.url("/410")).await.unwrap_err()),
        "http_410"
    );
    assert_eq!(
        retry(f.fetch(&server.url("/503")).await.unwrap_err()),
        ("http_503".into(), Some(Duration::from_secs(120)))
    );
    assert_eq!(
        retry(f.fetch(&server.url("/429")).await.unwrap_err()),
        ("http_429".into(), Some(Duration::from_secs(7)))
    );
    assert_eq!(
        retry(f.fetch(&server.url("/500")).await.unwrap_err()),
        ("http_500".into(), None)
    );
    assert_eq!(
        retry(f.fetch(&server.url("/408")).await.unwrap_err()),
        ("http_408".into(), None)
    );
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = Server::start(|path, _| match path {
        "/no-headers" => Reply::html("<html>late</html>").delay(Duration::from_secs(10)),
        _ => Reply::html("<html>late body</html>").body_delay(Duration::from_secs(10)),
    })
    .await;
    let f = fetcher(FetchConfig {
        first_byte_timeout_ms: 300,
        total_timeout_ms: 800,
        ..config()
    });
    let started = std::time::Instant::now();
    let err = f.fetch(&server.url("/no-headers")).await.unwrap_err();
    assert!(err.to_string().contains("first byte"), "{err}");
    assert_eq!(retry(err), ("timeout".into(), None));
    let err = f.fetch(&server.url("/no-body")).await.unwrap_err();
    assert!(err.to_string().contains("total"), "{err}");
    assert_eq!(retry(err), ("timeout".into(), None));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connection_refused_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = fetcher(config())
        .fetch(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap_err();
    assert_eq!(retry(err).0, "connect");
}

#[tokio::test]
async fn body_over_the_cap_is_refused() {
    let big = format!("<html><body>{}</body></html>", "x".repeat(4096));
    let server = Server::start(move |path, _| match path {
        "/known" => Reply::html(big.clone()),
        _ => Reply::html(big.clone()).without_length(),
    })
    .await;
    let f = fetcher(FetchConfig {
        max_body_bytes: 1024,
        ..config()
    });
    assert_eq!(
        reject(f.fetch(&server.url("/known")).await.unwrap_err()),
        "too_large"
    );
    assert_eq!(
        reject(f.fetch(&server.url("/streamed")).await.unwrap_err()),
        "too_large"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn gzip_is_decoded_and_a_gzip_bomb_is_refused() {
    let page = gzip("<html><body>Réussie</body></html>".as_bytes());
    let mut bomb_plain = b"<html><body>".to_vec();
    bomb_plain.resize(32 * 1024 * 1024, b' ');
    let bomb = gzip(&bomb_plain);
    assert!(bomb.len() < 256 * 1024, "bomb is {} bytes", bomb.len());
    let server = Server::start(move |path, _| {
        let body = if path == "/bomb" {
            bomb.clone()
        } else {
            page.clone()
        };
        Reply::html(body).header("Content-Encoding", "gzip")
    })
    .await;
    let f = fetcher(FetchConfig {
        max_body_bytes: 1024 * 1024,
        ..config()
    });
    let out = f.fetch(&server.url("/page")).await.unwrap();
    assert_eq!(out.html, "<html><body>Réussie</body></html>");
    assert_eq!(
        reject(f.fetch(&server.url("/bomb")).await.unwrap_err()),
        "too_large"
    );
}

#[tokio::test]
async fn non_html_is_refused_unless_accepted() {
    let server = Server::start(|path, _| match path {
        "/pdf" => Reply::status(200)
            .header("Content-Type", "application/pdf")
            .body("%PDF-1.7"),
        "/xhtml" => Reply::status(200)
            .header("Content-Type", "application/xhtml+xml; charset=utf-8")
            .body("<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>x</body></html>"),
        _ => Reply::status(200).body("%PDF-1.7"),
    })
    .await;
    let f = fetcher(config());
    assert_eq!(
        reject(f.fetch(&server.url("/pdf")).await.unwrap_err()),
        "not_html"
    );
    assert_eq!(
        reject(f.fetch(&server.url("/untyped-pdf")).await.unwrap_err()),
        "not_html"
    );
    assert!(f.fetch(&server.url("/xhtml")).await.is_ok());
    let lenient = fetcher(FetchConfig {
        accept_non_html: true,
        ..config()
    });
    let out = lenient.fetch(&server.url("/pdf")).await.unwrap();
    assert_eq!(out.content_type.as_deref(), Some("application/pdf"));
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed() {
    let server = Server::start(|_, _| Reply::html("<html>secret</html>")).await;
    let guarded = fetcher(FetchConfig::default());
    let err = guarded.fetch(&server.url("/")).await.unwrap_err();
    assert!(matches!(err, FetchError::SsrfRefused { .. }), "{err:?}");
    assert_eq!(reject(err), "ssrf_refused");
    // The same address spelled as an integer.
    let err = guarded
        .fetch(&format!("http://2130706433:{}/", server.addr.port()))
        .await
        .unwrap_err();
    assert_eq!(reject(err), "ssrf_refused");
    // A name that resolves to loopback is refused by the resolver.
    let err = guarded
        .fetch(&format!("http://localhost:{}/", server.addr.port()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("localhost"), "{err}");
    assert_eq!(reject(err), "ssrf_refused");
    assert!(
        server.hits().is_empty(),
        "the guard let a request through: {:?}",
        server.hits()
    );
    // Allowed, the same URL is fetched.
    assert!(fetcher(config()).fetch(&server.url("/")).await.is_ok());
}

#[tokio::test]
async fn bad_urls_are_rejected() {
    let f = fetcher(config());
    for url in [
        "ftp://127.0.0.1/x",
        "not a url",
        "file:///etc/passwd",
        "http://",
    ] {
        assert_eq!(reject(f.fetch(url).await.unwrap_err()), "bad_url", "{url}");
    }
}

#[tokio::test]
async fn ten_megabyte_page_passes() {
    let mut page = b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>".to_vec();
    while page.len() < 10_000_000 {
        page.extend_from_slice(
            "<p>Le ministre a confié : « la coopération continue ».</p>\n".as_bytes(),
        );
    }
    page.extend_from_slice(b"</body></html>");
    let len = page.len();
    let server = Server::start(move |_, _| Reply::html(page.clone())).await;
    let out = fetcher(config()).fetch(&server.url("/big")).await.unwrap();
    assert_eq!(out.body.len(), len);
    assert_eq!(out.html.len(), len);
    assert_eq!(out.charset_source, CharsetSource::Meta);
    assert_eq!(out.into_fetched(Vec::new()).bytes, len as u64);
}

#[tokio::test]
async fn stage_emits_fetched_with_the_request_tags() {
    let server = Server::start(|path, _| match path {
        "/a" => Reply::redirect(301, "/b"),
        "/b" => Reply::html(cp1252_page()),
        _ => Reply::status(404),
    })
    .await;
    let stage = Fetch::new(stage_config()).unwrap();
    assert_eq!(Fetch::NAME, "fetch");
    let request = UrlRequest {
        url: server.url("/a"),
        tags: vec!["sahel".into()],
        force: false,
    };
    let input = Envelope::new("id1", "trace1", request);
    let out = stage.handle(input).await.unwrap();
    assert_eq!(out.len(), 1);
    let event = &out[0];
    assert_eq!(
        (
            event.kind.as_str(),
            event.article_id.as_str(),
            event.trace_id.as_str()
        ),
        ("fetched", "id1", "trace1")
    );
    let fetched = &event.data;
    assert_eq!(fetched.url, server.url("/a"));
    assert_eq!(fetched.final_url, server.url("/b"));
    assert_eq!(fetched.redirects, vec![server.url("/a")]);
    assert_eq!(fetched.tags, vec!["sahel"]);
    assert_eq!(fetched.charset, "windows-1252");
    assert_eq!(fetched.charset_source, CharsetSource::Meta);
    assert!(fetched.html.contains("« Nous avons reçu le matériel »"));

    let missing = UrlRequest {
        url: server.url("/missing"),
        tags: Vec::new(),
        force: false,
    };
    let err = stage
        .handle(Envelope::new("id2", "trace2", missing))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "http_404");
    assert!(matches!(err, StageError::Reject { .. }));
}

#[test]
fn config_is_strict_and_defaulted() {
    let config: FetchConfig =
        serde_json::from_str(r#"{"max_redirects": 2, "allow": ["10.0.0.0/8"]}"#).unwrap();
    assert_eq!(config.max_redirects, 2);
    assert_eq!(config.max_body_bytes, 16 * 1024 * 1024);
    assert_eq!(
        config.user_agent,
        "newsflow/0.1 (+https://github.com/newsflow/newsflow)"
    );
    assert!(serde_json::from_str::<FetchConfig>(r#"{"max_redirect": 2}"#).is_err());
    assert!(matches!(
        Fetcher::new(FetchConfig {
            allow: vec!["10.0.0.0/99".into()],
            ..FetchConfig::default()
        }),
        Err(FetchError::Config(_))
    ));
    assert!(matches!(
        Fetcher::new(FetchConfig {
            max_concurrency: 0,
            ..FetchConfig::default()
        }),
        Err(FetchError::Config(_))
    ));
}
