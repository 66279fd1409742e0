//! `newsflow`: one binary for every service and tool of the pipeline.
//! Parses arguments, builds the configuration, and hands over to the
//! library; errors are printed once, here.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use futures::StreamExt;
use newsflow_cli::config::AppConfig;
use newsflow_cli::pipeline::{self, StageName};
use newsflow_core::{Enriched, Event, UrlRequest, subjects};
use newsflow_store::ArticleStore as _;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "newsflow",
    version,
    about = "News-article URLs in, structured enriched articles out, over NATS JetStream."
)]
struct Cli {
    /// Configuration file (TOML); see config/default.toml for every setting.
    #[arg(long, global = true, env = "NEWSFLOW_CONFIG")]
    config: Option<PathBuf>,
    /// NATS server URL.
    #[arg(long, global = true, env = "NATS_URL")]
    nats: Option<String>,
    /// Database: a SQLite path or sqlite:// URL, or a postgres:// URL.
    #[arg(long, global = true, env = "NEWSFLOW_DB")]
    db: Option<String>,
    /// Log JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline locally: a nats-server child (unless --nats is
    /// given), every stage, and the SQLite store.
    Up {
        /// Also serve the pages in --seeds from a loopback site, publish
        /// them, print each enriched article, and exit.
        #[arg(long)]
        demo: bool,
        /// Folder of demo pages.
        #[arg(long, default_value = "seeds")]
        seeds: PathBuf,
    },
    /// Run the fetch stage as a service; with a URL, fetch that one page
    /// once and print a JSON report (exit 1 on failure).
    Fetch {
        /// Fetch only this URL and exit.
        url: Option<String>,
        /// Host, address or CIDR the SSRF guard lets through (repeatable).
        #[arg(long)]
        allow: Vec<String>,
    },
    /// Run the parse stage as a service.
    Parse,
    /// Run the enrich stage as a service.
    Enrich,
    /// Run the store stage as a service.
    Store,
    /// Publish URLs to newsflow.urls.
    Publish {
        /// URLs; `-` reads them from stdin, one per line.
        urls: Vec<String>,
        /// Read URLs from a file, one per line.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Tag carried to the stored article (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Fetch again even if fetched recently.
        #[arg(long)]
        force: bool,
    },
    /// Follow enriched articles as they are produced.
    Tail {
        /// Print the whole event as one JSON line.
        #[arg(long)]
        json: bool,
        /// Start from the oldest stored article instead of new ones.
        #[arg(long)]
        from_start: bool,
        /// Exit after this many articles.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Query the store: words, entity, place, country, site, period.
    Search {
        #[command(flatten)]
        args: newsflow_cli::query::SearchArgs,
    },
    /// One stored article with its entities, places, quotes and copies.
    Show {
        /// Article id (first column of `newsflow search`).
        id: String,
        /// The whole record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Offline: HTML file(s) → one JSON line per file (the parsed article
    /// plus "file"). `-` reads stdin.
    Extract {
        /// URL of the page(s), for relative links and URL dates.
        #[arg(long)]
        url: Option<String>,
        /// HTML files (gzipped files are accepted).
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Offline: JSON lines {"id","text","lang"?} or parsed articles →
    /// JSON lines of enrichment (offsets in Unicode scalar values).
    Annotate {
        /// Input file; `-` or nothing reads stdin.
        file: Option<String>,
    },
    /// Benchmarks (see `newsflow bench e2e --help`).
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Streams, consumer lag, redeliveries and DLQ counts. Exits 2 when
    /// the pipeline is unhealthy: a stage consumer missing, or more dead
    /// letters than --max-dlq.
    Status {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Dead letters tolerated before the status counts as unhealthy.
        #[arg(long, default_value_t = 0)]
        max_dlq: u64,
    },
    /// Inspect and replay dead letters.
    Dlq {
        #[command(subcommand)]
        what: DlqCommand,
    },
}

#[derive(Subcommand)]
enum DlqCommand {
    /// One line per dead letter: sequence, stage, error kind, message.
    List {
        /// Only this stage's (fetch, parse, enrich, store).
        #[arg(long)]
        stage: Option<String>,
        /// Most records.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Whole records as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The whole record of one dead letter.
    Show {
        /// Its sequence (first column of `dlq list`).
        sequence: u64,
    },
    /// Publish dead letters' original payloads again on their subject (after
    /// a fix), then delete them from the DLQ.
    Replay {
        /// Sequences to replay (see `dlq list`).
        sequences: Vec<u64>,
        /// Replay every dead letter (of --stage, if given).
        #[arg(long)]
        all: bool,
        /// Only this stage's.
        #[arg(long)]
        stage: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Extraction quality and speed on a corpus (shared/corpus/fundus
    /// layout), optionally against Python trafilatura in the same run.
    Extract {
        /// Corpus folder (holds reference.json and pages/).
        dir: PathBuf,
        /// Also run trafilatura 2.3.1 (installed from PyPI into tools/).
        #[arg(long)]
        trafilatura: bool,
        /// Only the first N pages.
        #[arg(long)]
        limit: Option<usize>,
        /// Only pages whose key contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// List the N worst pages.
        #[arg(long, default_value_t = 0)]
        per_page: usize,
        /// Write each page's extracted text here, for error analysis.
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Extract each page this many times for the speed figure.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The fetcher against local servers: pages/s and MB/s with politeness
    /// off, then several replicas sharing a per-host schedule in JetStream KV.
    Fetch {
        /// Pages in the throughput run.
        #[arg(long, default_value_t = 2000)]
        pages: usize,
        /// Size of each page in bytes.
        #[arg(long, default_value_t = 50_000)]
        page_bytes: usize,
        /// Replicas in the politeness run.
        #[arg(long, default_value_t = 3)]
        replicas: usize,
        /// Per-host delay of the politeness run (ms).
        #[arg(long, default_value_t = 200)]
        delay_ms: u64,
    },
    /// The whole pipeline on this machine: a private nats-server, a loopback
    /// site serving N distinct articles (or --page under N URLs), all
    /// stages, SQLite in a temp dir.
    E2e {
        /// Articles to push through.
        #[arg(long, default_value_t = 1000)]
        articles: usize,
        /// Offered rate in articles/s (default: as fast as possible).
        #[arg(long)]
        rate: Option<f64>,
        /// Serve this page under every URL (all articles then are copies
        /// of one story). Default: a distinct variation of the seed page
        /// per URL.
        #[arg(long)]
        page: Option<PathBuf>,
        /// Run each stage as its own process (as docker compose does) and
        /// report each one's peak memory.
        #[arg(long)]
        processes: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Chaos at scale: URLs on many loopback virtual hosts (some slow, some
    /// failing once, some missing) through the four stages as separate
    /// processes, while stages are killed, nats-server restarts and
    /// PostgreSQL goes away; then every URL is accounted for. Exits 1 when
    /// one is lost or counted twice.
    Soak {
        /// URLs to push through.
        #[arg(long, default_value_t = 10_000)]
        urls: usize,
        /// Virtual hosts (`newsNN.chaos.test`, resolved to 127.0.0.1).
        #[arg(long, default_value_t = 50)]
        hosts: usize,
        /// Mean seconds between two faults.
        #[arg(long, default_value_t = 5)]
        fault_every_secs: u64,
        /// Give up (and count what is missing as lost) after this long.
        #[arg(long, default_value_t = 3600)]
        max_secs: u64,
        /// Seed of the page mix and the faults (default: from the clock).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    newsflow_runtime::init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<AppConfig> {
    let mut cfg = AppConfig::load(cli.config.as_deref())?;
    if let Some(url) = &cli.nats {
        cfg.nats.url = url.clone();
    }
    if let Some(db) = &cli.db {
        cfg.store.db = db.clone();
    }
    Ok(cfg)
}

/// Cancelled on SIGINT/SIGTERM.
fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        newsflow_runtime::shutdown_signal().await;
        t.cancel();
    });
    token
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let cfg = load_config(&cli)?;
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        Command::Up { demo, seeds } => {
            up(cfg, cli.nats.is_some(), demo, seeds).await?;
        }
        Command::Fetch { url: None, allow } => {
            let mut cfg = cfg;
            cfg.fetch.allow.extend(allow);
            service(cfg, StageName::Fetch).await?
        }
        Command::Fetch {
            url: Some(url),
            allow,
        } => {
            let mut fetch_cfg = cfg.fetch.clone();
            fetch_cfg.allow.extend(allow);
            let report = newsflow_fetch::fetch_once(fetch_cfg, &url).await;
            println!("{}", serde_json::to_string(&report)?);
            if !report.ok {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Parse => service(cfg, StageName::Parse).await?,
        Command::Enrich => service(cfg, StageName::Enrich).await?,
        Command::Store => service(cfg, StageName::Store).await?,
        Command::Publish {
            urls,
            file,
            tags,
            force,
        } => publish(cfg, urls, file, tags, force).await?,
        Command::Tail {
            json,
            from_start,
            count,
        } => tail(cfg, json, from_start, count).await?,
        Command::Search { args } => newsflow_cli::query::search(&cfg, &args).await?,
        Command::Show { id, json } => newsflow_cli::query::show(&cfg, &id, json).await?,
        Command::Extract { url, files } => {
            let mut out = std::io::stdout().lock();
            let mut failed = 0;
            for file in &files {
                match newsflow_cli::offline::extract_file(file, url.as_deref()) {
                    Ok(value) => {
                        serde_json::to_writer(&mut out, &value)?;
                        writeln!(out)?;
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("error: {file}: {e:#}");
                    }
                }
            }
            if failed > 0 {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Annotate { file } => {
            let enrich = newsflow_enrich::Enrich::new(cfg.enrich.clone());
            let input: Box<dyn BufRead> = match file.as_deref() {
                None | Some("-") => Box::new(BufReader::new(std::io::stdin())),
                Some(path) => Box::new(BufReader::new(
                    std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?,
                )),
            };
            let errors =
                newsflow_cli::offline::annotate_stream(input, std::io::stdout().lock(), &enrich)?;
            if errors > 0 {
                eprintln!("{errors} line(s) could not be annotated (see their \"error\" field)");
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Status { json, max_dlq } => return status(cfg, json, max_dlq).await,
        Command::Dlq { what } => dlq(cfg, what).await?,
        Command::Bench {
            what:
                BenchCommand::Fetch {
                    pages,
                    page_bytes,
                    replicas,
                    delay_ms,
                },
        } => {
            let options = newsflow_fetch::bench::BenchOptions {
                pages,
                page_bytes,
                replicas,
                host_min_delay_ms: delay_ms,
                ..Default::default()
            };
            // A private nats-server so the replicas share a real KV bucket.
            let dir =
                std::env::temp_dir().join(format!("newsflow-bench-fetch-{}", std::process::id()));
            let server = newsflow_runtime::NatsServerProcess::start(0, &dir, &[])?;
            let mut bus_cfg = cfg.nats.clone();
            bus_cfg.url = server.url();
            let bus = newsflow_bus::Bus::connect(bus_cfg).await?;
            let hosts = bus
                .kv_bucket(
                    newsflow_fetch::HOSTS_BUCKET,
                    newsflow_fetch::HOSTS_BUCKET_MAX_AGE,
                )
                .await?;
            let kv: std::sync::Arc<dyn newsflow_fetch::KvStore> =
                std::sync::Arc::new(newsflow_cli::kv::NatsKv(hosts));
            let report = newsflow_fetch::bench::run(options, Some(kv)).await;
            drop(server);
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
        }
        Command::Bench {
            what:
                BenchCommand::Extract {
                    dir,
                    trafilatura,
                    limit,
                    filter,
                    per_page,
                    dump,
                    repeat,
                    json,
                },
        } => {
            let opts = newsflow_cli::bench_extract::BenchExtractOptions {
                trafilatura,
                limit,
                filter,
                json,
                per_page,
                dump_dir: dump,
                repeat,
                repo_root: None,
            };
            newsflow_cli::bench_extract::print_report(&dir, &opts)?;
        }
        Command::Bench {
            what:
                BenchCommand::Soak {
                    urls,
                    hosts,
                    fault_every_secs,
                    max_secs,
                    seed,
                    json,
                },
        } => {
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
            let work_dir = newsflow_cli::chaos::temp_work_dir("soak");
            let opts = newsflow_cli::chaos::ChaosOptions {
                urls,
                hosts: hosts.max(1),
                fault_every: Duration::from_secs(fault_every_secs.max(1)),
                max_duration: Duration::from_secs(max_secs),
                seed,
                binary: std::env::current_exe().context("cannot find the newsflow binary")?,
                work_dir: work_dir.clone(),
                progress_every: Duration::from_secs(5),
            };
            let report = newsflow_cli::chaos::run(&opts, |p| {
                eprintln!(
                    "{:>6.0} s  published {:>6}  stored {:>6}  dlq {:>5}  faults {:>3}  restarts {:>3}{}",
                    p.elapsed_secs,
                    p.published,
                    p.stored.map_or("-".into(), |n| n.to_string()),
                    p.dead_lettered.map_or("-".into(), |n| n.to_string()),
                    p.faults,
                    p.restarts,
                    if p.down.is_empty() { String::new() } else { format!("  down: {}", p.down.join(",")) },
                )
            })
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", newsflow_cli::chaos::render(&report));
            }
            // The logs are kept when something went wrong.
            if !report.passed() {
                return Ok(std::process::ExitCode::FAILURE);
            }
            newsflow_cli::chaos::remove_work_dir(&work_dir);
        }
        Command::Bench {
            what:
                BenchCommand::E2e {
                    articles,
                    rate,
                    page,
                    processes,
                    json,
                },
        } => {
            if articles == 0 {
                bail!("--articles must be at least 1");
            }
            let body = page
                .map(|page| {
                    std::fs::read(&page).with_context(|| format!("cannot read {}", page.display()))
                })
                .transpose()?;
            let dir = std::env::temp_dir().join(format!("newsflow-bench-{}", std::process::id()));
            let binary = if processes {
                Some(std::env::current_exe().context("cannot find the newsflow binary")?)
            } else {
                None
            };
            let report =
                newsflow_cli::bench::e2e(cfg, body, articles, rate, &dir, binary.as_deref()).await;
            let _ = std::fs::remove_dir_all(&dir);
            let report = report?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("articles        {}", report.articles);
                println!(
                    "offered rate    {}",
                    report
                        .offered_rate
                        .map_or("max".into(), |r| format!("{r}/s"))
                );
                println!(
                    "throughput      {:.1} articles/s ({:.2} s)",
                    report.articles_per_sec, report.elapsed_secs
                );
                println!("latency p50     {:.1} ms", report.latency_ms_p50);
                println!("latency p95     {:.1} ms", report.latency_ms_p95);
                println!("latency p99     {:.1} ms", report.latency_ms_p99);
                println!(
                    "cpu             {:.2} s ({:.2} ms/article)",
                    report.cpu_secs,
                    report.cpu_secs * 1000.0 / report.articles as f64
                );
                println!(
                    "nats-server cpu {:.2} s ({:.2} ms/article)",
                    report.nats_cpu_secs,
                    report.nats_cpu_secs * 1000.0 / report.articles as f64
                );
                if report.stage_peak_rss_mib.is_empty() {
                    println!(
                        "peak rss        {:.1} MiB (whole process: all stages)",
                        report.peak_rss_mib
                    );
                } else {
                    for ((stage, mib), (_, cpu)) in
                        report.stage_peak_rss_mib.iter().zip(&report.stage_cpu_secs)
                    {
                        println!(
                            "{stage:<15} peak rss {mib:.1} MiB, cpu {cpu:.2} s ({:.2} ms/article)",
                            cpu * 1000.0 / report.articles as f64
                        );
                    }
                    println!(
                        "peak rss        {:.1} MiB (publisher, site and nats client)",
                        report.peak_rss_mib
                    );
                }
            }
        }
    }
    Ok(ok)
}

async fn service(cfg: AppConfig, name: StageName) -> anyhow::Result<()> {
    // Listen for signals before anything slow: a SIGTERM that arrives while
    // connecting must stop the service cleanly, not kill it.
    let shutdown = shutdown_token();
    let bus = pipeline::connect(&cfg).await?;
    let mut checks = vec![newsflow_cli::ops::nats_check(&bus)];
    if name == StageName::Store {
        checks.push(store_check(&cfg).await?);
    }
    newsflow_cli::ops::serve(&cfg.ops, checks, shutdown.clone()).await?;
    pipeline::run_one(&cfg, &bus, name, shutdown).await?;
    bus.drain().await?;
    Ok(())
}

/// Readiness of the store's database: a cheap query on its own connection.
async fn store_check(cfg: &AppConfig) -> anyhow::Result<(String, newsflow_cli::ops::Check)> {
    let store = newsflow_cli::query::open(cfg).await?;
    let check: newsflow_cli::ops::Check = std::sync::Arc::new(move || {
        let store = store.clone();
        Box::pin(async move { store.count().await.map(|_| ()).map_err(|e| e.to_string()) })
    });
    Ok(("database".into(), check))
}

async fn up(
    mut cfg: AppConfig,
    external_nats: bool,
    demo: bool,
    seeds: PathBuf,
) -> anyhow::Result<()> {
    let shutdown = shutdown_token();
    // A local server unless the user pointed us at one.
    let _server = if external_nats {
        None
    } else {
        let dir = PathBuf::from(&cfg.up.data_dir).join("nats");
        // The demo takes any free port so it never collides with a server
        // already running on 4222.
        let port = if demo { 0 } else { cfg.up.nats_port };
        let server = newsflow_runtime::NatsServerProcess::start(port, &dir, &[])
            .with_context(|| format!("cannot start nats-server on port {port}; if one is already running, pass --nats nats://127.0.0.1:{port}"))?;
        eprintln!(
            "nats-server listening on {} (data in {})",
            server.url(),
            dir.display()
        );
        cfg.nats.url = server.url();
        Some(server)
    };
    let site = if demo {
        // The demo site is on loopback, which the SSRF guard refuses unless allowed.
        cfg.fetch.allow.push("127.0.0.1".into());
        // The demo exits once the seed is printed: no query API to serve.
        cfg.api.listen = String::new();
        Some(newsflow_cli::demo::serve_seeds(&seeds).await?)
    } else {
        None
    };
    let bus = pipeline::connect(&cfg).await?;
    let checks = vec![
        newsflow_cli::ops::nats_check(&bus),
        store_check(&cfg).await?,
    ];
    if let Some(addr) = newsflow_cli::ops::serve(&cfg.ops, checks, shutdown.clone()).await? {
        eprintln!("health and metrics on http://{addr}/healthz /readyz /metrics");
    }
    eprintln!(
        "pipeline running: store {}; publish with `newsflow publish URL`, follow with `newsflow tail`; Ctrl-C stops",
        cfg.store.db
    );
    if !cfg.api.listen.trim().is_empty() {
        eprintln!(
            "query API on http://{}/articles?q=… (also /articles/{{id}} /entities /quotes /openapi.json)",
            cfg.api.listen.trim()
        );
    }
    let stages = {
        let (cfg, bus, shutdown) = (cfg.clone(), bus.clone(), shutdown.clone());
        tokio::spawn(async move { pipeline::run_all(&cfg, &bus, shutdown).await })
    };
    if let Some((_site, urls)) = &site {
        let demo = newsflow_cli::demo::publish_and_print(&bus, urls, Duration::from_secs(60));
        let result = tokio::select! {
            r = demo => r,
            _ = shutdown.cancelled() => Ok(()),
        };
        shutdown.cancel();
        let stages_result = stages.await.context("stage task")?;
        bus.drain().await?;
        result?;
        stages_result?;
    } else {
        stages.await.context("stage task")??;
        bus.drain().await?;
    }
    eprintln!("stopped cleanly");
    Ok(())
}

async fn publish(
    cfg: AppConfig,
    mut urls: Vec<String>,
    file: Option<PathBuf>,
    tags: Vec<String>,
    force: bool,
) -> anyhow::Result<()> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        urls.extend(text.lines().map(str::to_string));
    }
    if urls.iter().any(|u| u == "-") {
        urls.retain(|u| u != "-");
        for line in std::io::stdin().lock().lines() {
            urls.push(line.context("cannot read stdin")?);
        }
    }
    urls.retain(|u| !u.trim().is_empty() && !u.trim_start().starts_with('#'));
    if urls.is_empty() {
        bail!("no URLs given: pass them as arguments, with --file F, or `-` for stdin");
    }
    let bus = newsflow_bus::Bus::connect(cfg.nats.clone()).await?;
    bus.ensure_topology().await?;
    let total = urls.len();
    let mut bad = 0usize;
    let mut duplicates = 0usize;
    let mut done = 0usize;
    let nonce = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let mut results = futures::stream::iter(urls.into_iter().map(|url| {
        let bus = bus.clone();
        let tags = tags.clone();
        async move {
            let request = serde_json::json!({ "url": url.trim(), "tags": tags, "force": force });
            let payload = request.to_string();
            let env =
                UrlRequest::decode(payload.as_bytes(), "-").map_err(|e| format!("{url}: {e}"))?;
            // Same URL → same id, so JetStream drops repeats inside its
            // duplicate window; --force asks for a new fetch on purpose.
            let msg_id = if force {
                format!("url:{}:{nonce}", env.article_id)
            } else {
                format!("url:{}", env.article_id)
            };
            bus.publish_bytes(subjects::URLS, Bytes::from(payload), &msg_id)
                .await
                .map_err(|e| format!("{url}: {e}"))
        }
    }))
    .buffer_unordered(64);
    let mut last_report = std::time::Instant::now();
    while let Some(result) = results.next().await {
        done += 1;
        match result {
            Ok(p) if p.duplicate => duplicates += 1,
            Ok(_) => {}
            Err(e) => {
                bad += 1;
                eprintln!("skipped {e}");
            }
        }
        if total > 1 && (last_report.elapsed() > Duration::from_secs(1) || done == total) {
            eprintln!("published {done}/{total}");
            last_report = std::time::Instant::now();
        }
    }
    drop(results);
    bus.drain().await?;
    eprintln!(
        "{} published, {duplicates} already queued (duplicate), {bad} refused",
        total - bad - duplicates
    );
    if bad > 0 {
        bail!("{bad} URL(s) were refused");
    }
    Ok(())
}

async fn tail(
    cfg: AppConfig,
    json: bool,
    from_start: bool,
    count: Option<usize>,
) -> anyhow::Result<()> {
    let shutdown = shutdown_token();
    let bus = newsflow_bus::Bus::connect(cfg.nats.clone()).await?;
    let stream = bus.subscribe(subjects::ENRICHED, from_start).await?;
    let mut stream = Box::pin(stream.take_until(shutdown.cancelled_owned()));
    let mut seen = 0usize;
    let mut out = std::io::stdout();
    while let Some(item) = stream.next().await {
        let received = item?;
        if json {
            out.write_all(&received.payload)?;
            out.write_all(b"\n")?;
        } else {
            match Enriched::decode(&received.payload, "") {
                Ok(env) => writeln!(out, "{}", newsflow_cli::print::line(&env))?,
                Err(e) => writeln!(out, "(unreadable event #{}: {e})", received.sequence)?,
            }
        }
        out.flush()?;
        seen += 1;
        if count.is_some_and(|c| seen >= c) {
            break;
        }
    }
    Ok(())
}

async fn status(
    cfg: AppConfig,
    json: bool,
    max_dlq: u64,
) -> anyhow::Result<std::process::ExitCode> {
    let bus = newsflow_bus::Bus::connect(cfg.nats.clone()).await?;
    let status = bus.status().await?;
    let mut problems = Vec::new();
    for (stream, stage) in [
        (subjects::STREAM_URLS, "fetch"),
        (subjects::STREAM_FETCHED, "parse"),
        (subjects::STREAM_PARSED, "enrich"),
        (subjects::STREAM_ENRICHED, "store"),
    ] {
        let present = status
            .streams
            .iter()
            .any(|s| s.name == stream && s.consumers.iter().any(|c| c.name == stage));
        if !present {
            problems.push(format!(
                "no {stage} consumer on {stream}: is the {stage} service running?"
            ));
        }
    }
    if status.dlq_total() > max_dlq {
        problems.push(format!(
            "{} dead letter(s) (tolerated: {max_dlq}); see `newsflow dlq list`",
            status.dlq_total()
        ));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!(
            "{:<20} {:>3} {:>9} {:>12}   consumers (pending / unacked / redelivered)",
            "stream", "R", "messages", "bytes"
        );
        for s in &status.streams {
            let consumers: Vec<String> = s
                .consumers
                .iter()
                .map(|c| {
                    format!(
                        "{} {}/{}/{}",
                        c.name, c.pending, c.ack_pending, c.redelivered
                    )
                })
                .collect();
            println!(
                "{:<20} {:>3} {:>9} {:>12}   {}",
                s.name,
                s.replicas,
                s.messages,
                s.bytes,
                consumers.join(", ")
            );
        }
        if status.dlq.is_empty() {
            println!("dead letters: none");
        } else {
            for (subject, n) in &status.dlq {
                println!("dead letters: {subject} {n}");
            }
        }
    }
    if problems.is_empty() {
        if !json {
            println!("healthy");
        }
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("unhealthy: {p}");
        }
        Ok(std::process::ExitCode::from(2))
    }
}

async fn dlq(cfg: AppConfig, what: DlqCommand) -> anyhow::Result<()> {
    use newsflow_core::{DlqRecord, Envelope};
    let bus = newsflow_bus::Bus::connect(cfg.nats.clone()).await?;
    let subject = |stage: &Option<String>| match stage {
        Some(s) => subjects::dlq(s),
        None => format!("{}.>", subjects::DLQ_PREFIX),
    };
    let read = |stage: Option<String>, limit: usize| {
        let bus = bus.clone();
        let subject = subject(&stage);
        async move {
            let stored = bus.read_stored(&subject, limit).await?;
            let mut out = Vec::new();
            for r in stored {
                match serde_json::from_slice::<Envelope<DlqRecord>>(&r.payload) {
                    Ok(env) => out.push((r.sequence, r.subject, env)),
                    Err(e) => eprintln!("warning: DLQ message {} is not a record: {e}", r.sequence),
                }
            }
            anyhow::Ok(out)
        }
    };
    match what {
        DlqCommand::List { stage, limit, json } => {
            let records = read(stage, limit).await?;
            for (seq, _, env) in &records {
                if json {
                    println!("{}", serde_json::to_string(env)?);
                } else {
                    let r = &env.data;
                    println!(
                        "{seq:>6}  {:<6}  {:<18}  attempts {}  {}",
                        r.stage, r.error_kind, r.attempts, r.message
                    );
                }
            }
            if !json {
                eprintln!("{} dead letter(s)", records.len());
            }
        }
        DlqCommand::Show { sequence } => {
            let records = read(None, usize::MAX).await?;
            let Some((_, _, env)) = records.into_iter().find(|(s, _, _)| *s == sequence) else {
                bail!("no dead letter with sequence {sequence}; see `newsflow dlq list`");
            };
            println!("{}", serde_json::to_string_pretty(&env)?);
        }
        DlqCommand::Replay {
            sequences,
            all,
            stage,
        } => {
            if sequences.is_empty() && !all {
                bail!("name the sequences to replay (see `newsflow dlq list`) or pass --all");
            }
            let records = read(stage, usize::MAX).await?;
            let mut replayed = 0;
            for (seq, dlq_subject, env) in records {
                if !all && !sequences.contains(&seq) {
                    continue;
                }
                let r = &env.data;
                let payload = match (&r.original, &r.original_base64) {
                    (Some(text), _) => text.clone().into_bytes(),
                    (None, Some(b64)) => newsflow_core::base64::decode(b64)
                        .with_context(|| format!("dead letter {seq} has invalid base64"))?,
                    (None, None) => bail!("dead letter {seq} kept no payload"),
                };
                let msg_id = format!(
                    "replay:{}:{seq}:{}",
                    r.subject,
                    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
                );
                bus.publish_bytes(&r.subject, Bytes::from(payload), &msg_id)
                    .await?;
                bus.delete_stored(&dlq_subject, seq).await?;
                replayed += 1;
                eprintln!("replayed {seq} to {}", r.subject);
            }
            eprintln!("{replayed} dead letter(s) replayed");
        }
    }
    bus.drain().await?;
    Ok(())
}
