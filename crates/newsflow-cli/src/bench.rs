//! `newsflow bench e2e`: the whole pipeline on this machine, fed from a
//! loopback fixture site, with throughput and latency figures.
//!
//! By default everything runs in one process (stages, store, site,
//! publisher) next to a private nats-server child. With `processes`, each
//! stage runs as its own `newsflow <stage>` process, as docker compose runs
//! them, and the report has each one's peak memory. Either way the figures
//! are for one machine's worth of CPU. Latency is publish → enriched event
//! received; throughput is first publish → last row stored.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::StreamExt;
use newsflow_core::{Enriched, Event, UrlRequest, subjects};
use newsflow_store::ArticleStore as _;
use newsflow_test_support::{FixtureSite, Page};
use tokio_util::sync::CancellationToken;

use crate::config::AppConfig;
use crate::pipeline;

/// What `bench e2e` measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct E2eReport {
    /// Articles published.
    pub articles: usize,
    /// Offered rate (articles/s), or None for "as fast as possible".
    pub offered_rate: Option<f64>,
    /// First publish → last row stored, in seconds.
    pub elapsed_secs: f64,
    /// Articles stored per second.
    pub articles_per_sec: f64,
    /// Publish → enriched latency percentiles, in milliseconds.
    pub latency_ms_p50: f64,
    /// 95th percentile.
    pub latency_ms_p95: f64,
    /// 99th percentile.
    pub latency_ms_p99: f64,
    /// CPU seconds used by this process (all stages) over the run.
    pub cpu_secs: f64,
    /// Peak resident memory of this process, in MiB.
    pub peak_rss_mib: f64,
    /// Peak resident memory of each stage process, in MiB (with
    /// `processes` only).
    pub stage_peak_rss_mib: Vec<(String, f64)>,
    /// CPU seconds of each stage process over its life, start-up included
    /// (with `processes` only): where the time goes.
    pub stage_cpu_secs: Vec<(String, f64)>,
    /// CPU seconds of the nats-server over the run: the bus's share of
    /// the machine (not counted in `cpu_secs`).
    pub nats_cpu_secs: f64,
}

/// Stage processes killed (SIGKILL) if the benchmark ends early; stopped
/// with SIGTERM otherwise.
struct Stages(Vec<(String, std::process::Child)>);

impl Stages {
    fn spawn(binary: &Path, cfg: &AppConfig) -> anyhow::Result<Self> {
        let mut out = Vec::new();
        for name in ["fetch", "parse", "enrich", "store"] {
            let child = std::process::Command::new(binary)
                .arg(name)
                .env("NATS_URL", &cfg.nats.url)
                .env("NEWSFLOW_DB", &cfg.store.db)
                .env("NEWSFLOW__FETCH__ALLOW", "[\"127.0.0.1\"]")
                .env("NEWSFLOW__FETCH__RESPECT_ROBOTS", "false")
                .env("NEWSFLOW__FETCH__HOST_MIN_DELAY_MS", "0")
                .env("NEWSFLOW__FETCH__HOST_MAX_CONCURRENCY", "0")
                .env("NEWSFLOW__FETCH__SKIP_SEEN_SECS", "0")
                .env("NEWSFLOW__API__LISTEN", "")
                .env("NEWSFLOW__OPS__LISTEN", "")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .with_context(|| format!("cannot start `{} {name}`", binary.display()))?;
            out.push((name.to_string(), child));
        }
        Ok(Self(out))
    }

    fn cpu_seconds(&self) -> Vec<(String, f64)> {
        self.0
            .iter()
            .map(|(n, c)| (n.clone(), cpu_seconds_of(&format!("/proc/{}/stat", c.id()))))
            .collect()
    }

    fn peak_rss(&self) -> Vec<(String, f64)> {
        self.0
            .iter()
            .map(|(n, c)| (n.clone(), peak_rss_of(&format!("/proc/{}/status", c.id()))))
            .collect()
    }

    fn stop(mut self) -> anyhow::Result<()> {
        for (_, child) in &self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for (name, child) in &mut self.0 {
            let status = child.wait()?;
            if !status.success() {
                bail!("the {name} stage exited with {status}");
            }
        }
        Ok(())
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Run the benchmark with `articles` URLs; each serves its own variation of
/// the seed page, or, with `page`, the same page (every article then is a
/// copy of the first, which exercises syndication linking). With
/// `processes` (the `newsflow` binary), one process per stage.
pub async fn e2e(
    mut cfg: AppConfig,
    page: Option<Vec<u8>>,
    articles: usize,
    rate: Option<f64>,
    work_dir: &Path,
    processes: Option<&Path>,
) -> anyhow::Result<E2eReport> {
    let server = newsflow_runtime::NatsServerProcess::start(0, &work_dir.join("nats"), &[])?;
    cfg.nats.url = server.url();
    cfg.store.db = work_dir.join("bench.db").display().to_string();
    // The benchmark measures the pipeline, not the query API.
    cfg.api.listen = String::new();
    // One loopback host serves every page: politeness would measure the
    // configured per-host delay, not the pipeline.
    cfg.fetch = cfg.fetch.impolite();
    cfg.fetch.allow = vec!["127.0.0.1".into()];
    let site = FixtureSite::start()
        .await
        .context("cannot bind the fixture site")?;
    let pages = match page {
        Some(page) => vec![page; articles],
        None => crate::chaos::seed_variants(articles, 20_261_129),
    };
    for (i, page) in pages.into_iter().enumerate() {
        site.route(&format!("/news/{i}.html"), Page::html(page));
    }
    let bus = pipeline::connect(&cfg).await?;
    let shutdown = CancellationToken::new();
    let (stages, children) = match processes {
        None => {
            let (cfg, bus, shutdown) = (cfg.clone(), bus.clone(), shutdown.clone());
            let task = tokio::spawn(async move { pipeline::run_all(&cfg, &bus, shutdown).await });
            (Some(task), None)
        }
        Some(binary) => (None, Some(Stages::spawn(binary, &cfg)?)),
    };
    let mut enriched = bus.subscribe(subjects::ENRICHED, false).await?;
    let cpu_start = cpu_seconds();
    let nats_stat = format!("/proc/{}/stat", server.pid());
    let nats_cpu_start = cpu_seconds_of(&nats_stat);
    let started = Instant::now();
    let mut sent_at: HashMap<String, Instant> = HashMap::with_capacity(articles);
    let publisher = {
        let bus = bus.clone();
        let urls: Vec<String> = (0..articles)
            .map(|i| site.url(&format!("/news/{i}.html")))
            .collect();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let interval = rate.map(|r| Duration::from_secs_f64(1.0 / r));
            let mut next = Instant::now();
            for url in urls {
                if let Some(step) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += step;
                }
                let env = UrlRequest::decode(url.as_bytes(), "bench")?;
                let _ = tx.send((env.article_id.clone(), Instant::now()));
                bus.publish_bytes(
                    subjects::URLS,
                    Bytes::from(url),
                    &format!("bench:{}", env.article_id),
                )
                .await?;
            }
            anyhow::Ok(())
        });
        (task, rx)
    };
    let (publish_task, mut sent_rx) = publisher;
    let mut latencies = Vec::with_capacity(articles);
    let mut last_report = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(600);
    while latencies.len() < articles {
        if Instant::now() > deadline {
            bail!(
                "only {} of {articles} articles enriched within 600 s",
                latencies.len()
            );
        }
        let item = tokio::time::timeout(Duration::from_secs(60), enriched.next())
            .await
            .context("no enriched article for 60 s; see `newsflow status`")?;
        let Some(item) = item else {
            bail!("enriched stream closed")
        };
        let received = Instant::now();
        while let Ok((id, at)) = sent_rx.try_recv() {
            sent_at.insert(id, at);
        }
        let Ok(env) = Enriched::decode(&item?.payload, "") else {
            continue;
        };
        if let Some(at) = sent_at.get(&env.article_id) {
            latencies.push(received.duration_since(*at).as_secs_f64() * 1000.0);
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            eprintln!("enriched {}/{articles}", latencies.len());
            last_report = Instant::now();
        }
    }
    publish_task.await.context("publisher")??;
    let store = newsflow_store::SqliteStore::open(&cfg.store).await?;
    while store.count().await? < articles as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stage_cpu_secs = children.as_ref().map_or_else(Vec::new, Stages::cpu_seconds);
    let nats_cpu_secs = cpu_seconds_of(&nats_stat) - nats_cpu_start;
    let cpu = cpu_seconds() - cpu_start + stage_cpu_secs.iter().map(|(_, s)| s).sum::<f64>();
    let stage_peak_rss_mib = children.as_ref().map_or_else(Vec::new, Stages::peak_rss);
    shutdown.cancel();
    if let Some(stages) = stages {
        stages.await.context("stages")??;
    }
    if let Some(children) = children {
        children.stop()?;
    }
    bus.drain().await?;
    drop(server);
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    Ok(E2eReport {
        articles,
        offered_rate: rate,
        elapsed_secs: elapsed,
        articles_per_sec: articles as f64 / elapsed,
        latency_ms_p50: pct(0.50),
        latency_ms_p95: pct(0.95),
        latency_ms_p99: pct(0.99),
        cpu_secs: cpu,
        peak_rss_mib: peak_rss_of("/proc/self/status"),
        stage_peak_rss_mib,
        stage_cpu_secs,
        nats_cpu_secs,
    })
}

/// User + system CPU time of this process, from /proc (Linux).
fn cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

/// User + system CPU time from a /proc/<pid>/stat file.
fn cpu_seconds_of(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those, in clock ticks (100 per second on Linux).
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory (VmHWM) from a /proc/<pid>/status file, in MiB.
fn peak_rss_of(path: &str) -> f64 {
    let Ok(status) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
