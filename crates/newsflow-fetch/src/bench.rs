//! `newsflow bench fetch`: the fetch stage against a local HTTP server on
//! 127.0.0.1, in two runs.
//!
//! - **Throughput**, politeness off ([`FetchConfig::impolite`]): distinct
//!   pages fetched through [`Fetch`]'s stage entry point as fast as
//!   `concurrency` allows; pages/s, MB/s and latency percentiles.
//! - **Politeness**: several [`Fetch`] replicas, each with its own HTTP
//!   client, sharing one host schedule (the [`KvStore`] given, JetStream
//!   KV in the binary), pull the pages of a few origins (one local port
//!   each) from one queue; a `host_busy` retry is requeued after its
//!   `after`, as the bus's NAK would. The server timestamps every arrival,
//!   so the report shows each host's achieved rate and smallest gap
//!   against the configured limit.
//!
//! Nothing leaves 127.0.0.1, and both runs are bounded in count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use newsflow_core::{Envelope, Stage, StageError, UrlRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::{Fetch, FetchConfig, FetchError, KvStore, MemoryKv};

/// What to run. [`Default`] gives the figures quoted in the crate's notes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchOptions {
    /// Pages fetched in the throughput run.
    pub pages: usize,
    /// Size of each page, in bytes.
    pub page_bytes: usize,
    /// Fetches in flight in the throughput run.
    pub concurrency: usize,
    /// `Fetch` replicas in the politeness run.
    pub replicas: usize,
    /// Fetches in flight per replica in the politeness run (the bus's
    /// `max_in_flight`).
    pub in_flight_per_replica: usize,
    /// Origins (local ports) in the politeness run.
    pub hosts: usize,
    /// Pages per origin in the politeness run.
    pub pages_per_host: usize,
    /// `host_min_delay_ms` of the politeness run.
    pub host_min_delay_ms: u64,
    /// `host_max_wait_ms` of the politeness run.
    pub host_max_wait_ms: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            pages: 2000,
            page_bytes: 50_000,
            concurrency: 32,
            replicas: 3,
            in_flight_per_replica: 8,
            hosts: 2,
            pages_per_host: 30,
            host_min_delay_ms: 200,
            host_max_wait_ms: 1000,
        }
    }
}

/// Both runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// What was run.
    pub options: BenchOptions,
    /// Politeness off.
    pub throughput: ThroughputReport,
    /// Politeness on, several replicas.
    pub politeness: PolitenessReport,
}

/// The throughput run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThroughputReport {
    /// Pages fetched.
    pub pages: usize,
    /// Pages that failed (should be 0).
    pub errors: usize,
    /// Body bytes received.
    pub bytes: u64,
    /// Wall time of the run, in seconds.
    pub elapsed_secs: f64,
    /// Pages per second.
    pub pages_per_sec: f64,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_sec: f64,
    /// Median fetch latency, in milliseconds.
    pub latency_ms_p50: f64,
    /// 99th percentile latency, in milliseconds.
    pub latency_ms_p99: f64,
}

/// The politeness run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PolitenessReport {
    /// Replicas sharing the schedule.
    pub replicas: usize,
    /// The configured per-host delay, in milliseconds.
    pub host_min_delay_ms: u64,
    /// The rate it allows per host, requests per second (0: no limit).
    pub limit_per_sec: f64,
    /// Pages fetched, all hosts.
    pub pages: usize,
    /// Pages that ended in an error other than a retry (should be 0).
    pub errors: usize,
    /// `host_busy` (or other transient) answers requeued, as NAKs would be.
    pub requeued: usize,
    /// Wall time of the run, in seconds.
    pub elapsed_secs: f64,
    /// Per origin, as the server saw it.
    pub per_host: Vec<HostRate>,
    /// Whether every host's rate stayed within 5% of the limit and no gap
    /// was under three quarters of the delay (arrival times carry the
    /// scheduling noise of the machine; without politeness gaps are a few
    /// milliseconds).
    pub within_limit: bool,
}

/// One origin's requests as the server saw them (robots.txt included).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostRate {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// Requests received.
    pub requests: usize,
    /// Requests per second between the first and the last.
    pub rate_per_sec: f64,
    /// Smallest gap between two consecutive requests, in milliseconds.
    pub min_gap_ms: f64,
    /// Mean gap, in milliseconds.
    pub mean_gap_ms: f64,
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that serves one page for
/// every path (and an allow-all robots.txt) and timestamps each request.
pub struct BenchServer {
    port: u16,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    task: JoinHandle<()>,
}

impl BenchServer {
    /// Bind a free port on 127.0.0.1 and serve `page`.
    pub async fn start(page: Bytes) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let arrivals = arrivals.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, page.clone(), arrivals.clone()));
                }
            }
        });
        Ok(Self {
            port,
            arrivals,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Arrival times of every request so far.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const ROBOTS: &[u8] = b"User-agent: *\nAllow: /\n";

async fn serve(mut stream: TcpStream, page: Bytes, arrivals: Arc<Mutex<Vec<Instant>>>) {
    // Without it, Nagle's algorithm holds the body behind the headers
    // until the client's delayed ACK (40 ms), which would be measured as
    // the fetcher's latency.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > 64 * 1024 {
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Instant::now());
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let (body, content_type): (&[u8], &str) = if path == "/robots.txt" {
            (ROBOTS, "text/plain")
        } else {
            (&page, "text/html; charset=utf-8")
        };
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut response = Vec::with_capacity(header.len() + body.len());
        response.extend_from_slice(header.as_bytes());
        response.extend_from_slice(body);
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

fn page_of(bytes: usize) -> Bytes {
    let mut page =
        b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>bench</title></head><body>"
            .to_vec();
    let para = "<p>Le ministre a confié : « la coopération continue ».</p>\n".as_bytes();
    while page.len() + para.len() + 14 < bytes {
        page.extend_from_slice(para);
    }
    page.extend_from_slice(b"</body></html>");
    Bytes::from(page)
}

fn request(url: String, index: usize) -> Envelope<UrlRequest> {
    Envelope::new(
        format!("bench{index}"),
        format!("trace{index}"),
        UrlRequest {
            url,
            tags: Vec::new(),
            force: false,
        },
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Run both parts. `hosts_kv` is the shared host schedule of the
/// politeness run (a JetStream KV bucket in the binary); `None` uses one
/// in-process store shared by the replicas.
pub async fn run(
    options: BenchOptions,
    hosts_kv: Option<Arc<dyn KvStore>>,
) -> Result<BenchReport, FetchError> {
    let throughput = throughput(&options).await?;
    let politeness = politeness(&options, hosts_kv).await?;
    Ok(BenchReport {
        options,
        throughput,
        politeness,
    })
}

/// The throughput run alone.
pub async fn throughput(options: &BenchOptions) -> Result<ThroughputReport, FetchError> {
    let server = BenchServer::start(page_of(options.page_bytes))
        .await
        .map_err(|e| FetchError::Config(format!("cannot bind the bench server: {e}")))?;
    let concurrency = options.concurrency.max(1);
    let config = FetchConfig {
        allow: vec!["127.0.0.1".into()],
        max_concurrency: concurrency,
        ..FetchConfig::default()
    }
    .impolite();
    let stage = Fetch::new(config)?;
    let origin = server.origin();
    let started = Instant::now();
    let results: Vec<(Duration, Result<u64, StageError>)> =
        futures::stream::iter((0..options.pages).map(|i| {
            let input = request(format!("{origin}/p/{i}"), i);
            let stage = &stage;
            async move {
                let t = Instant::now();
                let out = stage
                    .handle(input)
                    .await
                    .map(|events| events.iter().map(|e| e.data.bytes).sum());
                (t.elapsed(), out)
            }
        }))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results
        .iter()
        .map(|(d, _)| d.as_secs_f64() * 1000.0)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let bytes: u64 = results.iter().filter_map(|(_, r)| r.as_ref().ok()).sum();
    let errors = results.iter().filter(|(_, r)| r.is_err()).count();
    let pages = options.pages - errors;
    Ok(ThroughputReport {
        pages,
        errors,
        bytes,
        elapsed_secs: elapsed,
        pages_per_sec: pages as f64 / elapsed,
        mb_per_sec: bytes as f64 / 1e6 / elapsed,
        latency_ms_p50: percentile(&latencies, 50.0),
        latency_ms_p99: percentile(&latencies, 99.0),
    })
}

/// The politeness run alone.
pub async fn politeness(
    options: &BenchOptions,
    hosts_kv: Option<Arc<dyn KvStore>>,
) -> Result<PolitenessReport, FetchError> {
    let page = page_of(options.page_bytes);
    let mut servers = Vec::new();
    for _ in 0..options.hosts.max(1) {
        servers.push(
            BenchServer::start(page.clone())
                .await
                .map_err(|e| FetchError::Config(format!("cannot bind the bench server: {e}")))?,
        );
    }
    let hosts_kv = hosts_kv.unwrap_or_else(|| Arc::new(MemoryKv::new(crate::HOSTS_BUCKET_MAX_AGE)));
    let config = FetchConfig {
        allow: vec!["127.0.0.1".into()],
        respect_robots: true,
        host_min_delay_ms: options.host_min_delay_ms,
        host_max_wait_ms: options.host_max_wait_ms,
        skip_seen_secs: 0,
        ..FetchConfig::default()
    };
    let mut replicas = Vec::new();
    for _ in 0..options.replicas.max(1) {
        // Each replica has its own client and its own seen store (only the
        // host schedule is under test).
        let seen: Arc<dyn KvStore> = Arc::new(MemoryKv::new(Duration::from_secs(3600)));
        replicas.push(Arc::new(Fetch::with_kv(
            config.clone(),
            seen,
            hosts_kv.clone(),
        )?));
    }

    let mut urls = Vec::new();
    for i in 0..options.pages_per_host {
        for s in &servers {
            urls.push(format!("{}/p/{i}", s.origin()));
        }
    }
    let total = urls.len();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Option<(usize, String)>>();
    for (i, url) in urls.into_iter().enumerate() {
        let _ = tx.send(Some((i, url)));
    }
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let done = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let requeued = Arc::new(AtomicUsize::new(0));
    let workers_total = replicas.len() * options.in_flight_per_replica.max(1);
    let started = Instant::now();
    let mut workers = Vec::new();
    for stage in &replicas {
        for _ in 0..options.in_flight_per_replica.max(1) {
            let (stage, rx, tx) = (stage.clone(), rx.clone(), tx.clone());
            let (done, errors, requeued) = (done.clone(), errors.clone(), requeued.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(Some((index, url))) = next else {
                        return;
                    };
                    match stage.handle(request(url.clone(), index)).await {
                        Err(StageError::Defer { after, .. }) => {
                            // What the bus does with a deferral: try again
                            // at that time.
                            requeued.fetch_add(1, Ordering::Relaxed);
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(after).await;
                                let _ = tx.send(Some((index, url)));
                            });
                            continue;
                        }
                        Err(StageError::Retry { after, .. }) => {
                            // What the bus does with a NAK: redeliver later.
                            requeued.fetch_add(1, Ordering::Relaxed);
                            let tx = tx.clone();
                            let delay = after.unwrap_or(Duration::from_millis(100));
                            tokio::spawn(async move {
                                tokio::time::sleep(delay).await;
                                let _ = tx.send(Some((index, url)));
                            });
                            continue;
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                    }
                    if done.fetch_add(1, Ordering::SeqCst) + 1 == total {
                        for _ in 0..workers_total {
                            let _ = tx.send(None);
                        }
                    }
                }
            }));
        }
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let delay = Duration::from_millis(options.host_min_delay_ms);
    let mut per_host = Vec::new();
    let mut within_limit = true;
    for s in &servers {
        let arrivals = s.arrivals();
        let gaps: Vec<f64> = arrivals
            .windows(2)
            .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1000.0)
            .collect();
        let min_gap = gaps.iter().copied().fold(f64::INFINITY, f64::min);
        let mean_gap = if gaps.is_empty() {
            0.0
        } else {
            gaps.iter().sum::<f64>() / gaps.len() as f64
        };
        let span = match (arrivals.first(), arrivals.last()) {
            (Some(a), Some(b)) => b.duration_since(*a).as_secs_f64(),
            _ => 0.0,
        };
        let rate = if span > 0.0 {
            (arrivals.len() - 1) as f64 / span
        } else {
            0.0
        };
        let limit = if delay.is_zero() {
            f64::INFINITY
        } else {
            1.0 / delay.as_secs_f64()
        };
        if !gaps.is_empty()
            && (rate > limit * 1.05 || min_gap < delay.as_secs_f64() * 1000.0 * 0.75)
        {
            within_limit = false;
        }
        per_host.push(HostRate {
            origin: s.origin(),
            requests: arrivals.len(),
            rate_per_sec: rate,
            min_gap_ms: if gaps.is_empty() { 0.0 } else { min_gap },
            mean_gap_ms: mean_gap,
        });
    }
    Ok(PolitenessReport {
        replicas: replicas.len(),
        host_min_delay_ms: options.host_min_delay_ms,
        limit_per_sec: if delay.is_zero() {
            0.0
        } else {
            1.0 / delay.as_secs_f64()
        },
        pages: done.load(Ordering::SeqCst) - errors.load(Ordering::SeqCst),
        errors: errors.load(Ordering::SeqCst),
        requeued: requeued.load(Ordering::SeqCst),
        elapsed_secs: elapsed,
        per_host,
        within_limit,
    })
}
