//! Memory stays bounded under hostile bodies: the peak resident size of
//! this process (its own test binary, one test, so nothing else runs
//! beside it) grows by about the body cap, not by what the server offers.
//! Bombs here inflate to 128 MiB each and the endless body never ends,
//! against the default 16 MiB cap.

mod util;

use std::io::Write;
use std::time::{Duration, Instant};

use util::{Mode, Reply, Server, config, fetcher, reject, within};

/// Peak resident set size of this process, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value");
    kib * 1024
}

const INFLATED: usize = 128 * 1024 * 1024;

/// Compress `INFLATED` bytes of spaces without ever holding them.
fn bomb(mut encoder: impl Write) {
    encoder.write_all(b"<html><body>").unwrap();
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..INFLATED / block.len() {
        encoder.write_all(&block).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_tracks_the_cap_not_the_server() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    bomb(&mut gz);
    let gz = gz.finish().unwrap();
    let mut br = Vec::new();
    bomb(brotli::CompressorWriter::new(&mut br, 4096, 1, 22));
    let mut zs = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    bomb(&mut zs);
    let zs = zs.finish().unwrap();

    let server = Server::start(move |path, _| match path {
        "/gzip" => Reply::html(gz.clone()).header("Content-Encoding", "gzip"),
        "/br" => Reply::html(br.clone()).header("Content-Encoding", "br"),
        "/zstd" => Reply::html(zs.clone()).header("Content-Encoding", "zstd"),
        "/endless" => Reply::html("").mode(Mode::EndlessChunked),
        "/huge" => Reply::html("<html>")
            .without_length()
            .header("Content-Length", "5000000000")
            .body_delay(Duration::from_secs(30)),
        _ => Reply::html("<html><body>warm-up</body></html>"),
    })
    .await;
    let f = fetcher(config());
    f.fetch(&server.url("/warm-up")).await.unwrap();
    let before = peak_rss();
    let started = Instant::now();
    for path in ["/gzip", "/br", "/zstd", "/endless", "/huge"] {
        let err = f.fetch(&server.url(path)).await.unwrap_err();
        assert_eq!(reject(err), "too_large", "{path}");
    }
    within(started, Duration::from_secs(60));
    let grown = peak_rss().saturating_sub(before);
    let cap = config().max_body_bytes;
    eprintln!(
        "peak RSS grew by {:.1} MiB (cap {} MiB, bombs inflate to {} MiB)",
        grown as f64 / 1048576.0,
        cap / 1048576,
        INFLATED / 1048576
    );
    assert!(
        grown < 3 * cap,
        "peak RSS grew by {grown} bytes for a {cap}-byte cap"
    );
}
