//! The chaos scenario behind the e2e chaos test and `newsflow bench soak`:
//! many URLs on many virtual hosts flow through the four stages, run as
//! separate `newsflow` processes, while stage processes are killed with
//! SIGKILL, nats-server is stopped and started again (file storage), and
//! PostgreSQL goes away for a few seconds. At the end every URL must be
//! accounted for exactly once: a stored row, or one DLQ record with a
//! reason.
//!
//! The harness plays the part of docker's `restart: always`: a stage
//! process that exits, for whatever reason, is started again after a delay
//! that grows while it keeps exiting soon after its start (a stage cannot
//! start while NATS or its database is down: it exits with an error, as a
//! container would, and is restarted). A stage that loses NATS while
//! running does not exit: the client reconnects and the stage loop pulls
//! again.
//!
//! Everything runs on 127.0.0.1: the virtual hosts (`newsNN.chaos.test`)
//! reach the fixture site through `fetch.resolve`, and the SSRF guard still
//! judges the address (`fetch.allow = ["127.0.0.1"]`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt as _;
use newsflow_bus::Bus;
use newsflow_core::{DlqRecord, Event as _, subjects};
use newsflow_runtime::NatsServerProcess;
use newsflow_store::testing::PgCluster;
use newsflow_store::{AnyStore, ArticleStore as _};
use newsflow_test_support::{FixtureSite, Page};

use crate::config::AppConfig;

/// The page every fixture article is made from (windows-1252 bytes).
const SEED_PAGE: &[u8] = include_bytes!("../../../seeds/abamako-300961.html");

/// What to run.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// URLs to publish.
    pub urls: usize,
    /// Virtual hosts they are spread over.
    pub hosts: usize,
    /// Mean time between two faults (each wait is drawn in ½..1½ of it).
    pub fault_every: Duration,
    /// Hard cap on the whole run; the accounting is done even when it
    /// strikes (what did not arrive by then counts as lost).
    pub max_duration: Duration,
    /// Seed of every random choice: the page mix and the faults.
    pub seed: u64,
    /// The `newsflow` binary the stage processes run.
    pub binary: PathBuf,
    /// Where the JetStream store and the stage logs go.
    pub work_dir: PathBuf,
    /// How often the progress callback is called.
    pub progress_every: Duration,
}

/// A snapshot while the scenario runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Progress {
    /// Seconds since the start.
    pub elapsed_secs: f64,
    /// URLs published so far.
    pub published: usize,
    /// Rows in the store (None while PostgreSQL is away).
    pub stored: Option<u64>,
    /// DLQ records (None while NATS is away).
    pub dead_lettered: Option<u64>,
    /// Faults injected so far.
    pub faults: usize,
    /// Stage processes started again so far.
    pub restarts: usize,
    /// What is down right now (`nats`, `postgres`), if anything.
    pub down: Vec<&'static str>,
}

/// The outcome: the accounting of every URL, and what was done to the
/// pipeline meanwhile.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChaosReport {
    /// URLs published.
    pub urls: usize,
    /// Virtual hosts.
    pub hosts: usize,
    /// The seed, to replay the same run.
    pub seed: u64,
    /// URLs with a stored row.
    pub stored: usize,
    /// URLs with a DLQ record.
    pub dead_lettered: usize,
    /// DLQ records per `stage/error_kind`.
    pub dlq_by_reason: BTreeMap<String, usize>,
    /// URLs neither stored nor dead-lettered.
    pub lost: usize,
    /// URLs accounted for more than once (a row and a DLQ record, or
    /// several DLQ records), plus rows that belong to no URL.
    pub duplicated: usize,
    /// URLs whose outcome differs from the page they point at: a missing
    /// page that was stored, or a retriable one (slow, 500 then OK) that
    /// was dead-lettered.
    pub unexpected: usize,
    /// DLQ records without an error kind or message.
    pub dlq_without_reason: usize,
    /// Rows in the `articles` table.
    pub rows: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, usize>,
    /// Stage processes started again (after our kills and after exits).
    pub restarts: usize,
    /// Exits we did not cause, per stage and exit status (e.g. a stage
    /// that could not connect at start-up while NATS was down).
    pub unplanned_exits: BTreeMap<String, usize>,
    /// The page mix: URLs per kind (normal, slow, flaky, missing).
    pub mix: BTreeMap<String, usize>,
    /// Seconds from the first publish to the end of the accounting.
    pub elapsed_secs: f64,
    /// Seconds until every URL was accounted for (None: never).
    pub settled_secs: Option<f64>,
    /// Whether the run hit `max_duration`.
    pub timed_out: bool,
    /// Up to 20 examples of each problem, one line each.
    pub examples: Vec<String>,
    /// Where the stage logs are.
    pub log_dir: String,
}

impl ChaosReport {
    /// Nothing lost, nothing twice, every outcome the expected one, every
    /// dead letter with its reason.
    pub fn passed(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.unexpected == 0
            && self.dlq_without_reason == 0
            && self.stored + self.dead_lettered == self.urls
    }
}

/// What a fixture URL serves, and so what must become of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A page, at once.
    Normal,
    /// A page after 1–3 s.
    Slow,
    /// 500 on the first request, then the page.
    Flaky,
    /// 404: must end in the DLQ as `http_404`.
    Missing,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Slow => "slow",
            Self::Flaky => "flaky",
            Self::Missing => "missing",
        }
    }
}

/// SplitMix64: small, seedable, and enough for picking faults and pages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `base` scaled by a factor in ½..1½.
    fn around(&mut self, base: Duration) -> Duration {
        base.mul_f64(0.5 + self.below(1000) as f64 / 1000.0)
    }
}

const STAGES: [&str; 4] = ["fetch", "parse", "enrich", "store"];

/// The virtual host names.
fn host_name(i: usize) -> String {
    format!("news{i:02}.chaos.test")
}

/// Words for the paragraphs that make each page its own.
const WORDS: &str = "Bamako Kayes Sikasso Mopti Gao Tombouctou Niamey Dakar Abidjan Ouagadougou \
     conseil ministre gouvernement assemblée récolte coton marché école santé route \
     barrage élection budget réforme accord sécurité pluie saison prix jeunes \
     femmes village région projet banque commerce transport énergie solaire eau \
     forage hôpital université football musique festival culture presse radio \
     justice";

/// `n` distinct articles made from the seed page, the same for the same
/// `seed`: input for benchmarks. Each keeps the seed's markup, metadata and
/// length, with its own title and a body of the seed's words in a random
/// order, so no two share more than chance word pairs and their
/// fingerprints are as far apart as unrelated articles' (copies of one page,
/// or the chaos variants which keep the seed's body, would measure
/// syndication linking of one big cluster, not the pipeline).
pub fn seed_variants(n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    let page = SEED_PAGE;
    let open = b"<div class=\"texte\">";
    let Some(start) = find(page, open).map(|a| a + open.len()) else {
        return vec![page.to_vec(); n];
    };
    let end = start + find(&page[start..], b"</div>").unwrap_or(0);
    // Paragraph lengths and the pool of words, tags dropped.
    let body = &page[start..end];
    let mut lengths = Vec::new();
    let mut words: Vec<&[u8]> = Vec::new();
    for paragraph in body.split(|&b| b == b'\n') {
        let before = words.len();
        let mut rest = paragraph;
        while let Some(lt) = rest.iter().position(|&b| b == b'<') {
            words.extend(
                rest[..lt]
                    .split(u8::is_ascii_whitespace)
                    .filter(|w| !w.is_empty()),
            );
            let gt = rest[lt..]
                .iter()
                .position(|&b| b == b'>')
                .map_or(rest.len(), |g| lt + g + 1);
            rest = &rest[gt..];
        }
        words.extend(
            rest.split(u8::is_ascii_whitespace)
                .filter(|w| !w.is_empty()),
        );
        if words.len() > before {
            lengths.push(words.len() - before);
        }
    }
    (0..n)
        .map(|i| {
            for k in (1..words.len()).rev() {
                words.swap(k, rng.below(k as u64 + 1) as usize);
            }
            let mut out = Vec::with_capacity(page.len() + 512);
            let mut pos = 0;
            out.extend_from_slice(&page[..start]);
            for len in &lengths {
                out.extend_from_slice(b"\r\n<p>");
                out.extend_from_slice(&words[pos..pos + len].join(&b' '));
                out.extend_from_slice(b"</p>");
                pos += len;
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&page[end..]);
            let title = to_windows_1252(&format!("Chronique {i}"));
            let h1 = b"<h1 class=\"titre_article\">";
            match find(&out, h1) {
                Some(a) => {
                    let a = a + h1.len();
                    let mut titled = out[..a].to_vec();
                    titled.extend_from_slice(&title);
                    titled.extend_from_slice(b" \x96 ");
                    titled.extend_from_slice(&out[a..]);
                    titled
                }
                None => out,
            }
        })
        .collect()
}

/// One variation of the seed page: its own title and two paragraphs of
/// its own, so the articles differ (and their fingerprints with them).
fn variant(i: usize, rng: &mut Rng) -> Vec<u8> {
    let vocabulary: Vec<&str> = WORDS.split_whitespace().collect();
    let mut sentence = |n: usize| {
        let words: Vec<&str> = (0..n)
            .map(|_| vocabulary[rng.below(vocabulary.len() as u64) as usize])
            .collect();
        let mut text = words.join(" ");
        text.push('.');
        text
    };
    let title = format!("Chronique {i} : {}", sentence(6));
    let paragraphs: String = (0..2)
        .map(|_| {
            format!(
                "<p>{} {} {}</p>\n",
                sentence(25),
                sentence(20),
                sentence(30)
            )
        })
        .collect();
    // The seed is windows-1252: the inserted text must be too.
    let (title, paragraphs) = (to_windows_1252(&title), to_windows_1252(&paragraphs));
    let page = SEED_PAGE;
    let mut out = Vec::with_capacity(page.len() + 2048);
    let h1 = b"<h1 class=\"titre_article\">";
    // Markers without line ends: the seed has CRLF ones.
    let texte = b"<div class=\"texte\">";
    match (find(page, h1), find(page, texte)) {
        (Some(a), Some(b)) if a < b => {
            let a = a + h1.len();
            let b = b + texte.len();
            out.extend_from_slice(&page[..a]);
            out.extend_from_slice(&title);
            out.extend_from_slice(b" \x96 ");
            out.extend_from_slice(&page[a..b]);
            out.extend_from_slice(&paragraphs);
            out.extend_from_slice(&page[b..]);
        }
        _ => out.extend_from_slice(page),
    }
    out
}

fn to_windows_1252(text: &str) -> Vec<u8> {
    // The accented letters of the words above all exist in windows-1252 at
    // their Latin-1 code points; anything else would become '?'.
    text.chars()
        .map(|c| match c {
            c if c.is_ascii() => c as u8,
            'à' => 0xe0,
            'â' => 0xe2,
            'ç' => 0xe7,
            'è' => 0xe8,
            'é' => 0xe9,
            'ê' => 0xea,
            'î' => 0xee,
            'ô' => 0xf4,
            'û' => 0xfb,
            _ => b'?',
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One fixture URL.
struct Target {
    url: String,
    id: String,
    kind: Kind,
}

/// Route the fixture pages and return what was routed.
fn build_site(site: &FixtureSite, opts: &ChaosOptions, rng: &mut Rng) -> Vec<Target> {
    let hosts = opts.hosts.max(1);
    (0..opts.urls)
        .map(|i| {
            let host = host_name(i % hosts);
            let path = format!("/{}/article-{i}.html", 2020 + (i % 6));
            let kind = match rng.below(100) {
                0..=3 => Kind::Missing,
                4..=9 => Kind::Flaky,
                10..=13 => Kind::Slow,
                _ => Kind::Normal,
            };
            let page = Page::html(variant(i, rng));
            match kind {
                Kind::Missing => {}
                Kind::Normal => site.route_host(&host, &path, page),
                Kind::Slow => {
                    let delay = Duration::from_millis(1000 + rng.below(2000));
                    site.route_host(&host, &path, page.delayed(delay));
                }
                Kind::Flaky => site.route_host(&host, &path, page.failing_first(1, 500)),
            }
            let url = site.url_on(&host, &path);
            let id = newsflow_core::normalize_url(&url)
                .map(|u| newsflow_core::article_id(&u))
                .unwrap_or_default();
            Target { url, id, kind }
        })
        .collect()
}

/// A stage process under the harness's restart policy.
struct Supervised {
    name: &'static str,
    child: Option<Child>,
    started: Instant,
    /// We killed it: its exit is not counted as unplanned.
    killed: bool,
    /// When to start it again, once it has exited.
    restart_at: Option<Instant>,
    delay: Duration,
}

struct Stages {
    procs: Vec<Supervised>,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log_dir: PathBuf,
    restarts: usize,
    unplanned: BTreeMap<String, usize>,
}

const RESTART_MIN: Duration = Duration::from_millis(500);
const RESTART_MAX: Duration = Duration::from_secs(4);

impl Stages {
    fn spawn(&self, name: &str) -> anyhow::Result<Child> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{name}.log")))
            .context("stage log file")?;
        Command::new(&self.binary)
            .arg(name)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot run {} {name}", self.binary.display()))
    }

    fn start_all(&mut self) -> anyhow::Result<()> {
        for name in STAGES {
            let child = self.spawn(name)?;
            self.procs.push(Supervised {
                name,
                child: Some(child),
                started: Instant::now(),
                killed: false,
                restart_at: None,
                delay: RESTART_MIN,
            });
        }
        Ok(())
    }

    /// Reap exited processes and start the ones that are due again.
    fn supervise(&mut self) {
        let now = Instant::now();
        for i in 0..self.procs.len() {
            let exited: Option<ExitStatus> = self.procs[i]
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            let p = &mut self.procs[i];
            if let Some(status) = exited {
                p.child = None;
                if !p.killed {
                    *self
                        .unplanned
                        .entry(format!("{} ({status})", p.name))
                        .or_default() += 1;
                }
                // Like docker's restart policy: a process that keeps dying
                // right after its start waits longer each time.
                p.delay = if p.killed || p.started.elapsed() > Duration::from_secs(10) {
                    RESTART_MIN
                } else {
                    (p.delay * 2).min(RESTART_MAX)
                };
                p.killed = false;
                p.restart_at = Some(now + p.delay);
            }
            if p.child.is_none() && p.restart_at.is_some_and(|t| now >= t) {
                let name = p.name;
                match self.spawn(name) {
                    Ok(child) => {
                        let p = &mut self.procs[i];
                        p.child = Some(child);
                        p.started = Instant::now();
                        p.restart_at = None;
                        self.restarts += 1;
                    }
                    Err(e) => tracing::warn!(stage = name, error = %e, "cannot restart"),
                }
            }
        }
    }

    /// SIGKILL one stage, as a crash would.
    fn kill(&mut self, index: usize) -> &'static str {
        let p = &mut self.procs[index];
        if let Some(child) = p.child.as_mut() {
            let _ = child.kill();
            p.killed = true;
        }
        p.name
    }

    /// SIGTERM every stage and wait (then SIGKILL what is left).
    fn stop_all(&mut self) {
        for p in &mut self.procs {
            if let Some(child) = &p.child {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for p in &mut self.procs {
            if let Some(mut child) = p.child.take() {
                while Instant::now() < deadline {
                    if matches!(child.try_wait(), Ok(Some(_))) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Stages {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if let Some(mut child) = p.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The environment of every stage process: this run's servers, the
/// virtual hosts, and timers short enough for faults to be retried within
/// the run.
fn stage_env(nats_url: &str, db_url: &str, hosts: usize) -> Vec<(String, String)> {
    let resolve: Vec<String> = (0..hosts.max(1))
        .map(|i| format!("\"{}\" = \"127.0.0.1\"", host_name(i)))
        .collect();
    [
        ("NATS_URL", nats_url.to_string()),
        ("NEWSFLOW_DB", db_url.to_string()),
        ("NEWSFLOW__API__LISTEN", String::new()),
        ("NEWSFLOW__OPS__LISTEN", String::new()),
        ("NEWSFLOW__FETCH__ALLOW", "[\"127.0.0.1\"]".into()),
        (
            "NEWSFLOW__FETCH__RESOLVE",
            format!("{{ {} }}", resolve.join(", ")),
        ),
        // Politeness is the fetch crate's own tests' business; here 200
        // URLs per host at one per second would only stretch the run.
        ("NEWSFLOW__FETCH__HOST_MIN_DELAY_MS", "0".into()),
        ("NEWSFLOW__FETCH__HOST_MAX_CONCURRENCY", "0".into()),
        // A killed stage's messages come back after ack_wait.
        ("NEWSFLOW__NATS__CONSUMER__ACK_WAIT_SECS", "5".into()),
        ("NEWSFLOW__NATS__CONSUMER__BACKOFF_BASE_MS", "250".into()),
        ("NEWSFLOW__NATS__CONSUMER__BACKOFF_MAX_MS", "4000".into()),
        ("RUST_LOG", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The fault being repaired, if any.
enum Down {
    Nats { until: Instant },
    Postgres { until: Instant },
}

/// Run the scenario. `progress` is called every `progress_every`.
pub async fn run(
    opts: &ChaosOptions,
    mut progress: impl FnMut(&Progress),
) -> anyhow::Result<ChaosReport> {
    anyhow::ensure!(opts.urls > 0, "at least one URL");
    anyhow::ensure!(
        tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread,
        "the chaos scenario blocks while it stops servers: run it on a multi-thread runtime"
    );
    let mut rng = Rng(opts.seed);
    std::fs::create_dir_all(&opts.work_dir)?;
    let log_dir = opts.work_dir.join("logs");
    std::fs::create_dir_all(&log_dir)?;

    let pg = tokio::task::spawn_blocking(PgCluster::start)
        .await?
        .map_err(|e| anyhow::anyhow!(e))?;
    let db_url = pg
        .fresh_database("chaos")
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut nats = NatsServerProcess::start(0, &opts.work_dir.join("nats"), &[])?;

    let site = FixtureSite::start().await?;
    let targets = build_site(&site, opts, &mut rng);

    let mut cfg: AppConfig =
        newsflow_runtime::config::load_with_env(crate::config::DEFAULTS, None, Vec::new())?;
    cfg.nats.url = nats.url();
    cfg.store.db = db_url.clone();
    let bus = crate::pipeline::connect(&cfg).await?;
    // Migrations run here once, so the stage's first start does not race
    // the harness's reads.
    let store = newsflow_store::open_store(&cfg.store).await?;

    let mut stages = Stages {
        procs: Vec::new(),
        binary: opts.binary.clone(),
        env: stage_env(&nats.url(), &db_url, opts.hosts),
        log_dir: log_dir.clone(),
        restarts: 0,
        unplanned: BTreeMap::new(),
    };
    stages.start_all()?;

    let started = Instant::now();
    let deadline = started + opts.max_duration;
    let published = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let publisher = {
        let bus = bus.clone();
        let urls: Vec<String> = targets.iter().map(|t| t.url.clone()).collect();
        let published = published.clone();
        tokio::spawn(async move {
            futures::stream::iter(urls.into_iter().enumerate())
                .for_each_concurrent(32, |(i, url)| {
                    let bus = bus.clone();
                    let published = published.clone();
                    async move {
                        // The same message id on every try: a publish that
                        // was stored but whose PubAck was lost (NATS went
                        // away) is dropped as a duplicate when retried.
                        let msg_id = format!("chaos-url-{i}");
                        while Instant::now() < deadline {
                            let sent = tokio::time::timeout(
                                Duration::from_secs(5),
                                bus.publish_bytes(
                                    subjects::URLS,
                                    Bytes::from(url.clone()),
                                    &msg_id,
                                ),
                            )
                            .await;
                            if matches!(sent, Ok(Ok(_))) {
                                published.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                })
                .await;
        })
    };

    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    let mut down: Option<Down> = None;
    let mut next_fault = Instant::now() + rng.around(opts.fault_every);
    let mut next_progress = Instant::now() + opts.progress_every;
    let mut next_check = Instant::now();
    let mut settled_at: Option<Instant> = None;
    let mut idle_since: Option<Instant> = None;
    let mut last_accounted = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    let timed_out = loop {
        ticker.tick().await;
        stages.supervise();
        let now = Instant::now();
        if now >= deadline {
            break true;
        }
        // Repair the fault in progress when its time is up.
        match down {
            Some(Down::Nats { until }) if now >= until => {
                tokio::task::block_in_place(|| nats.restart())?;
                down = None;
            }
            Some(Down::Postgres { until }) if now >= until => {
                tokio::task::block_in_place(|| pg.start_again()).map_err(|e| anyhow::anyhow!(e))?;
                down = None;
            }
            _ => {}
        }
        let faulting = settled_at.is_none();
        if faulting && down.is_none() && now >= next_fault {
            next_fault = now + rng.around(opts.fault_every);
            let kind = match rng.below(100) {
                0..=54 => {
                    let stage = stages.kill(rng.below(STAGES.len() as u64) as usize);
                    format!("kill -9 {stage}")
                }
                55..=77 => {
                    tokio::task::block_in_place(|| nats.stop());
                    down = Some(Down::Nats {
                        until: now + Duration::from_millis(500 + rng.below(2500)),
                    });
                    "nats-server stop/start".to_string()
                }
                _ => {
                    tokio::task::block_in_place(|| pg.stop_for_outage())
                        .map_err(|e| anyhow::anyhow!(e))?;
                    down = Some(Down::Postgres {
                        until: now + Duration::from_millis(3000 + rng.below(5000)),
                    });
                    "postgres outage".to_string()
                }
            };
            tracing::info!(fault = %kind, "fault injected");
            *faults.entry(kind).or_default() += 1;
        }
        if now >= next_check && down.is_none() {
            next_check = now + Duration::from_secs(2);
            let stored = quick(store.count()).await;
            let status = quick(bus.status()).await;
            if let (Some(stored), Some(status)) = (stored, status) {
                let accounted = stored + status.dlq_total();
                let idle = STAGES.iter().all(|name| {
                    status
                        .streams
                        .iter()
                        .flat_map(|s| &s.consumers)
                        .find(|c| c.name == *name)
                        .is_some_and(|c| c.pending == 0 && c.ack_pending == 0)
                });
                let all_published =
                    published.load(std::sync::atomic::Ordering::Relaxed) == opts.urls;
                if accounted >= opts.urls as u64 && idle && all_published {
                    // Faults stop once everything is accounted for; the
                    // next idle check confirms nothing is still moving.
                    if settled_at.is_some() {
                        break false;
                    }
                    settled_at = Some(now);
                } else if idle && all_published && accounted == last_accounted {
                    // Idle and short: what is missing is not coming. Give
                    // redeliveries (ack_wait, backoff) time first.
                    let since = *idle_since.get_or_insert(now);
                    if since.elapsed() > Duration::from_secs(30) {
                        break false;
                    }
                } else {
                    idle_since = None;
                }
                last_accounted = accounted;
            }
        }
        if now >= next_progress {
            next_progress = now + opts.progress_every;
            let (stored, dead) = if down.is_none() {
                (
                    quick(store.count()).await,
                    quick(bus.status()).await.map(|s| s.dlq_total()),
                )
            } else {
                (None, None)
            };
            progress(&Progress {
                elapsed_secs: started.elapsed().as_secs_f64(),
                published: published.load(std::sync::atomic::Ordering::Relaxed),
                stored,
                dead_lettered: dead,
                faults: faults.values().sum(),
                restarts: stages.restarts,
                down: match down {
                    Some(Down::Nats { .. }) => vec!["nats"],
                    Some(Down::Postgres { .. }) => vec!["postgres"],
                    None => Vec::new(),
                },
            });
        }
    };
    // Whatever happened, bring everything back before counting.
    match down.take() {
        Some(Down::Nats { .. }) => tokio::task::block_in_place(|| nats.restart())?,
        Some(Down::Postgres { .. }) => {
            tokio::task::block_in_place(|| pg.start_again()).map_err(|e| anyhow::anyhow!(e))?
        }
        None => {}
    }
    publisher.abort();
    tokio::task::block_in_place(|| stages.stop_all());

    let mut report = account(&targets, &bus, &store).await?;
    report.hosts = opts.hosts;
    report.seed = opts.seed;
    report.faults = faults;
    report.restarts = stages.restarts;
    report.unplanned_exits = std::mem::take(&mut stages.unplanned);
    report.elapsed_secs = started.elapsed().as_secs_f64();
    report.settled_secs = settled_at.map(|t| t.duration_since(started).as_secs_f64());
    report.timed_out = timed_out;
    report.log_dir = log_dir.display().to_string();
    store.close().await;
    drop(site);
    nats.stop();
    Ok(report)
}

/// A status query that gives up after a few seconds (None), so a server
/// that is away cannot stall the harness.
async fn quick<T, E>(fut: impl std::future::Future<Output = Result<T, E>>) -> Option<T> {
    tokio::time::timeout(Duration::from_secs(3), fut)
        .await
        .ok()
        .and_then(Result::ok)
}

/// Match every URL with its row and its DLQ records.
async fn account(targets: &[Target], bus: &Bus, store: &AnyStore) -> anyhow::Result<ChaosReport> {
    let mut report = ChaosReport {
        urls: targets.len(),
        ..Default::default()
    };
    for t in targets {
        *report.mix.entry(t.kind.as_str().into()).or_default() += 1;
    }
    let by_id: HashMap<&str, &Target> = targets.iter().map(|t| (t.id.as_str(), t)).collect();

    // Every DLQ record, whichever stage wrote it. Retried: the server may
    // still be recovering its streams after the last restart.
    let mut records = None;
    for _ in 0..30 {
        match bus
            .read_stored(&format!("{}.>", subjects::DLQ_PREFIX), usize::MAX)
            .await
        {
            Ok(r) => {
                records = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    let records = records.context("cannot read the DLQ stream")?;
    let mut dlq: HashMap<String, Vec<DlqRecord>> = HashMap::new();
    for r in records {
        match DlqRecord::decode(&r.payload, "") {
            Ok(env) => {
                let rec = env.data;
                let id = rec.article_id.clone().unwrap_or(env.article_id);
                *report
                    .dlq_by_reason
                    .entry(format!("{}/{}", rec.stage, rec.error_kind))
                    .or_default() += 1;
                if rec.error_kind.trim().is_empty() || rec.message.trim().is_empty() {
                    report.dlq_without_reason += 1;
                }
                dlq.entry(id).or_default().push(rec);
            }
            Err(e) => {
                report.dlq_without_reason += 1;
                report
                    .examples
                    .push(format!("undecodable DLQ record {}: {e}", r.sequence));
            }
        }
    }

    let mut stored_ids: HashSet<String> = HashSet::new();
    for chunk in targets.chunks(64) {
        let gets = chunk.iter().map(|t| async move {
            for _ in 0..10 {
                if let Ok(found) = store.get(&t.id).await {
                    return Ok((t.id.clone(), found.is_some()));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            anyhow::bail!("cannot read article {} from the store", t.id)
        });
        for r in futures::future::join_all(gets).await {
            let (id, found) = r?;
            if found {
                stored_ids.insert(id);
            }
        }
    }
    report.rows = store.count().await?;

    for t in targets {
        let stored = stored_ids.contains(&t.id);
        let dead = dlq.get(&t.id).map_or(&[][..], Vec::as_slice);
        match (stored, dead.len()) {
            (false, 0) => {
                report.lost += 1;
                example(
                    &mut report,
                    format!("lost: {} ({})", t.url, t.kind.as_str()),
                );
                continue;
            }
            (true, 0) => report.stored += 1,
            (false, 1) => report.dead_lettered += 1,
            (s, n) => {
                report.duplicated += 1;
                let reasons: Vec<String> = dead
                    .iter()
                    .map(|r| format!("{}/{}", r.stage, r.error_kind))
                    .collect();
                example(
                    &mut report,
                    format!(
                        "accounted {} times: {} (stored: {s}, DLQ: {})",
                        usize::from(s) + n,
                        t.url,
                        reasons.join(", ")
                    ),
                );
                continue;
            }
        }
        let expected_dlq = t.kind == Kind::Missing;
        let ok = match dead.first() {
            Some(r) => expected_dlq && r.stage == "fetch" && r.error_kind == "http_404",
            None => !expected_dlq,
        };
        if !ok {
            report.unexpected += 1;
            let got = dead.first().map_or("stored".to_string(), |r| {
                format!("DLQ {}/{}: {}", r.stage, r.error_kind, r.message)
            });
            example(
                &mut report,
                format!("unexpected: {} ({}) → {got}", t.url, t.kind.as_str()),
            );
        }
    }
    // Rows or dead letters for ids that are none of ours.
    let ours = stored_ids.len() as u64;
    if report.rows > ours {
        let extra = report.rows - ours;
        report.duplicated += extra as usize;
        example(
            &mut report,
            format!("{extra} rows belong to no published URL"),
        );
    }
    let strangers = dlq
        .keys()
        .filter(|id| !by_id.contains_key(id.as_str()))
        .count();
    if strangers > 0 {
        report.duplicated += strangers;
        example(
            &mut report,
            format!("{strangers} DLQ records belong to no published URL"),
        );
    }
    Ok(report)
}

/// Keep `line` as an example of a problem, up to 20 of them.
fn example(report: &mut ChaosReport, line: String) {
    if report.examples.len() < 20 {
        report.examples.push(line);
    }
}

/// The report as text, one figure a line.
pub fn render(report: &ChaosReport) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<18}{v}\n"));
    line(
        "result",
        if report.passed() { "PASS" } else { "FAIL" }.to_string(),
    );
    line(
        "urls",
        format!(
            "{} over {} hosts (seed {})",
            report.urls, report.hosts, report.seed
        ),
    );
    line("mix", kv_list(&report.mix));
    line("stored", report.stored.to_string());
    line("dead-lettered", report.dead_lettered.to_string());
    line("  by reason", kv_list(&report.dlq_by_reason));
    line("lost", report.lost.to_string());
    line("duplicated", report.duplicated.to_string());
    line("unexpected", report.unexpected.to_string());
    line("dlq w/o reason", report.dlq_without_reason.to_string());
    line("rows", report.rows.to_string());
    line(
        "faults",
        format!(
            "{} ({})",
            report.faults.values().sum::<usize>(),
            kv_list(&report.faults)
        ),
    );
    line("stage restarts", report.restarts.to_string());
    line("unplanned exits", kv_list(&report.unplanned_exits));
    line(
        "elapsed",
        format!(
            "{:.1} s (all accounted for at {}){}",
            report.elapsed_secs,
            report
                .settled_secs
                .map_or("never".to_string(), |s| format!("{s:.1} s")),
            if report.timed_out { ", TIMED OUT" } else { "" }
        ),
    );
    line("stage logs", report.log_dir.clone());
    for e in &report.examples {
        out.push_str(&format!("  {e}\n"));
    }
    out
}

fn kv_list(map: &BTreeMap<String, usize>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A work directory for one run under the system temp dir.
pub fn temp_work_dir(label: &str) -> PathBuf {
    std::env::temp_dir().join(format!("newsflow-{label}-{}", std::process::id()))
}

/// Delete a run's work directory (the JetStream store and the logs).
pub fn remove_work_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_differ_and_keep_the_page() {
        let mut rng = Rng(7);
        let a = variant(1, &mut rng);
        let b = variant(2, &mut rng);
        assert!(a != b, "two variants are the same page");
        for page in [&a, &b] {
            assert!(page.len() > SEED_PAGE.len() + 500, "nothing inserted");
            let title = find(page, b"<h1 class=\"titre_article\">Chronique ");
            let body = find(page, b"<div class=\"texte\"><p>");
            assert!(title.is_some() && body.is_some(), "markers not found");
            assert!(find(page, b"</html>").is_some());
        }
    }

    #[test]
    fn bench_variants_are_distinct_articles() {
        let pages = seed_variants(3, 7);
        assert_eq!(pages, seed_variants(3, 7), "not deterministic");
        let texts: Vec<String> = pages
            .iter()
            .map(|p| {
                let html = String::from_utf8_lossy(p);
                let a = html.find("<div class=\"texte\">").expect("body kept");
                let b = a + html[a..].find("</div>").expect("body closed");
                html[a..b].to_string()
            })
            .collect();
        assert_ne!(texts[0], texts[1]);
        assert!(String::from_utf8_lossy(&pages[2]).contains("Chronique 2"));
        // Same words, same amount of text as the seed, in another order.
        let seed = String::from_utf8_lossy(SEED_PAGE);
        let words = |t: &str| t.matches("Camara").count();
        let a = seed.find("<div class=\"texte\">").unwrap();
        let b = a + seed[a..].find("</div>").unwrap();
        assert_eq!(words(&texts[0]), words(&seed[a..b]));
        assert!(
            texts[0].len().abs_diff(b - a) < (b - a) / 5,
            "length changed a lot"
        );
    }

    #[test]
    fn the_rng_is_seeded() {
        let draw = |seed| {
            let mut r = Rng(seed);
            (0..5).map(|_| r.below(100)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
