use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One response of the fixture site.
#[derive(Debug, Clone)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// Extra headers, e.g. `("Content-Type", "text/html; charset=windows-1252")`.
    pub headers: Vec<(String, String)>,
    /// Body bytes, sent as they are.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer this many requests with `fail_status` (empty body) before
    /// serving the page: a flaky server that recovers.
    pub fail_first: u32,
    /// The status of those failures.
    pub fail_status: u16,
}

impl Page {
    /// A 200 HTML page (`text/html`, no charset: the page declares its own).
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.into(),
            delay: Duration::ZERO,
            fail_first: 0,
            fail_status: 500,
        }
    }

    /// A response with `status` and an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            fail_first: 0,
            fail_status: 500,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Answer after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Fail the first `n` requests with `status`, then serve the page.
    pub fn failing_first(mut self, n: u32, status: u16) -> Self {
        self.fail_first = n;
        self.fail_status = status;
        self
    }
}

type Routes = Arc<Mutex<HashMap<String, Page>>>;

/// A tiny HTTP/1.1 server on 127.0.0.1 serving a fixed set of pages; every
/// other path is a 404. It counts requests per path so tests can assert
/// what was fetched. Stops when dropped.
///
/// Pages can also be routed per virtual host ([`FixtureSite::route_host`]):
/// the `Host` header picks them, so one listener plays many sites when the
/// client resolves their names to 127.0.0.1.
pub struct FixtureSite {
    addr: SocketAddr,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FixtureSite {
    /// Bind a free loopback port and start serving (inside a tokio runtime).
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (r, h) = (r.clone(), h.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, r, h).await;
                });
            }
        });
        Ok(Self {
            addr,
            routes,
            hits,
            task,
        })
    }

    /// Serve `page` at `path` (e.g. `/h/300961.html`).
    pub fn route(&self, path: &str, page: Page) {
        self.routes
            .lock()
            .expect("routes lock")
            .insert(path.to_string(), page);
    }

    /// Serve `page` at `path` for requests whose `Host` is `host` (any
    /// port); these routes win over those of [`FixtureSite::route`].
    pub fn route_host(&self, host: &str, path: &str, page: Page) {
        self.routes
            .lock()
            .expect("routes lock")
            .insert(host_key(host, path), page);
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `http://<host>:<port><path>`: a URL of a virtual host, for a client
    /// that resolves `host` to 127.0.0.1.
    pub fn url_on(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received for `path`.
    pub fn hits(&self, path: &str) -> u64 {
        self.hits
            .lock()
            .expect("hits lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for FixtureSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, u64>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/").to_string();
    *hits
        .lock()
        .expect("hits lock")
        .entry(path.clone())
        .or_default() += 1;
    let host = text.lines().skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim().to_string())
    });
    let page = {
        let mut routes = routes.lock().expect("routes lock");
        let key = host
            .map(|h| host_key(&h, &path))
            .filter(|k| routes.contains_key(k))
            .unwrap_or(path);
        match routes.get_mut(&key) {
            // A flaky page spends one failure per request, under the lock,
            // so concurrent requests see exactly `fail_first` failures.
            Some(page) if page.fail_first > 0 => {
                page.fail_first -= 1;
                Some(Page::status(page.fail_status))
            }
            Some(page) => Some(page.clone()),
            None => None,
        }
    };
    let page = page.unwrap_or_else(|| Page::status(404));
    if !page.delay.is_zero() {
        tokio::time::sleep(page.delay).await;
    }
    let mut response = format!("HTTP/1.1 {} {}\r\n", page.status, reason(page.status));
    for (name, value) in &page.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        page.body.len()
    ));
    socket.write_all(response.as_bytes()).await?;
    socket.write_all(&page.body).await?;
    socket.shutdown().await
}

/// The route key of `path` on virtual host `host` (its port ignored).
fn host_key(host: &str, path: &str) -> String {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    format!("{}{path}", name.to_ascii_lowercase())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
