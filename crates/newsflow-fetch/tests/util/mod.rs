//! A small HTTP/1.1 server on 127.0.0.1 that serves canned replies and
//! misbehaves on purpose, shared by the integration tests. One connection
//! per request. No traffic leaves the loopback address.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use newsflow_core::StageError;
use newsflow_fetch::{FetchConfig, FetchError, Fetcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the body goes out.
#[derive(Clone, Debug)]
pub enum Mode {
    /// All at once (after `body_delay`).
    Normal,
    /// `Transfer-Encoding: chunked`, 64 KiB chunks, never ending.
    EndlessChunked,
    /// One byte of the body every interval (slowloris).
    Trickle(Duration),
    /// Announce the whole body, send this many bytes, close.
    CutAfter(usize),
    /// The status line, then the headers one byte every interval.
    HeaderTrickle(Duration),
    /// Header lines forever.
    EndlessHeaders,
}

/// One canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep before sending anything (tests the first-byte timeout).
    pub delay: Duration,
    /// Sleep between the headers and the body (tests the total timeout).
    pub body_delay: Duration,
    /// Send `Content-Length`; without it the body ends when the
    /// connection closes.
    pub content_length: bool,
    pub mode: Mode,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            body_delay: Duration::ZERO,
            content_length: true,
            mode: Mode::Normal,
        }
    }

    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200)
            .header("Content-Type", "text/html")
            .body(body)
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status).header("Location", location)
    }

    pub fn robots(text: &str) -> Self {
        Self::status(200)
            .header("Content-Type", "text/plain")
            .body(text)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn body_delay(mut self, delay: Duration) -> Self {
        self.body_delay = delay;
        self
    }

    pub fn without_length(mut self) -> Self {
        self.content_length = false;
        self
    }

    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Routes = Arc<dyn Fn(&Hit, u16) -> Reply + Send + Sync>;

/// An HTTP/1.1 server on 127.0.0.1.
pub struct Server {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    task: JoinHandle<()>,
}

impl Server {
    /// `routes` gets the request path and the server's port.
    pub async fn start(routes: impl Fn(&str, u16) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with(move |hit, port| routes(&hit.path, port)).await
    }

    /// `routes` gets the whole request.
    pub async fn start_with(routes: impl Fn(&Hit, u16) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let routes: Routes = Arc::new(routes);
        let task = tokio::spawn({
            let hits = hits.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, routes.clone(), hits.clone(), addr.port()));
                }
            }
        });
        Self { addr, hits, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Paths requested, in order.
    pub fn hits(&self) -> Vec<String> {
        self.requests().into_iter().map(|h| h.path).collect()
    }

    /// Requests, in order.
    pub fn requests(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Arrival times of requests for paths other than /robots.txt.
    pub fn page_times(&self) -> Vec<Instant> {
        self.requests()
            .into_iter()
            .filter(|h| h.path != "/robots.txt")
            .map(|h| h.at)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, routes: Routes, hits: Arc<Mutex<Vec<Hit>>>, port: u16) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&request);
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let hit = Hit {
        path,
        headers,
        at: Instant::now(),
    };
    hits.lock().unwrap().push(hit.clone());
    let reply = routes(&hit, port);
    tokio::time::sleep(reply.delay).await;
    // Write errors are expected from here on: the client hangs up on
    // purpose in the size and timeout tests.
    let status_line = format!("HTTP/1.1 {} Test\r\n", reply.status);
    let mut head = String::from("Connection: close\r\n");
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match &reply.mode {
        Mode::HeaderTrickle(every) => {
            if stream.write_all(status_line.as_bytes()).await.is_err() {
                return;
            }
            for b in head.bytes().chain(b"X-Slow: 1\r\n\r\n".iter().copied()) {
                tokio::time::sleep(*every).await;
                if stream.write_all(&[b]).await.is_err() {
                    return;
                }
            }
            return;
        }
        Mode::EndlessHeaders => {
            let _ = stream.write_all(status_line.as_bytes()).await;
            let line = format!("X-Filler: {}\r\n", "a".repeat(100));
            while stream.write_all(line.as_bytes()).await.is_ok() {}
            return;
        }
        Mode::EndlessChunked => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            if stream
                .write_all(format!("{status_line}{head}").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'a', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            while stream.write_all(&chunk).await.is_ok() {}
            return;
        }
        _ => {}
    }
    if reply.content_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("\r\n");
    if stream
        .write_all(format!("{status_line}{head}").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    tokio::time::sleep(reply.body_delay).await;
    match reply.mode {
        Mode::Trickle(every) => {
            for b in &reply.body {
                if stream.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
        Mode::CutAfter(n) => {
            let _ = stream
                .write_all(&reply.body[..n.min(reply.body.len())])
                .await;
            let _ = stream.flush().await;
            return;
        }
        _ => {
            let _ = stream.write_all(&reply.body).await;
        }
    }
    let _ = stream.shutdown().await;
}

/// The default configuration with 127.0.0.1 let through the SSRF guard.
pub fn config() -> FetchConfig {
    FetchConfig {
        allow: vec!["127.0.0.1".into()],
        ..FetchConfig::default()
    }
}

/// [`config`] with a short per-host delay, so stage tests stay quick.
pub fn stage_config() -> FetchConfig {
    FetchConfig {
        host_min_delay_ms: 20,
        ..config()
    }
}

pub fn fetcher(config: FetchConfig) -> Fetcher {
    Fetcher::new(config).unwrap()
}

pub fn retry(error: FetchError) -> (String, Option<Duration>) {
    match error.into_stage_error() {
        StageError::Retry { kind, after, .. } => (kind, after),
        other => panic!("expected Retry, got {other:?}"),
    }
}

pub fn reject(error: FetchError) -> String {
    match error.into_stage_error() {
        StageError::Reject { kind, .. } => kind,
        other => panic!("expected Reject, got {other:?}"),
    }
}

/// Assert `elapsed` is under `bound` (an upper bound with slack: tests
/// assert behaviour, timing only loosely).
#[track_caller]
pub fn within(started: Instant, bound: Duration) {
    let elapsed = started.elapsed();
    assert!(elapsed < bound, "took {elapsed:?}, bound {bound:?}");
}

/// Assert requests arrived spaced by `interval`: each gap at least three
/// quarters of it (arrival times carry the scheduling noise of a loaded
/// machine; without politeness the gaps would be a few milliseconds), and
/// on average at least 95% of it.
#[track_caller]
pub fn assert_spaced(times: &[Instant], interval: Duration) {
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= interval * 3 / 4,
            "gap {gap:?} for an interval of {interval:?}"
        );
    }
    if let (Some(first), Some(last)) = (times.first(), times.last())
        && times.len() > 1
    {
        let mean = last.duration_since(*first) / (times.len() as u32 - 1);
        assert!(
            mean >= interval * 95 / 100,
            "mean gap {mean:?} for an interval of {interval:?}"
        );
    }
}
