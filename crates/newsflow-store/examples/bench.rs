//! Store benchmark on throw-away databases: batched inserts per second and
//! query latency percentiles at 100k articles, on SQLite and PostgreSQL.
//!
//! ```text
//! cargo run --release -p newsflow-store --example bench -- [--backend sqlite|postgres|both]
//!     [--articles 100000] [--batch 500] [--writers 2] [--queries 200] [--backfill]
//!     [--db PATH-OR-URL] [--json] [--queries-only]
//! ```
//!
//! The articles' publication dates span a year in about the order they
//! are stored, as a news stream brings them; `--backfill` stores them in
//! random date order, as when a year's archive is loaded at once.
//!
//! Without `--db` it uses a SQLite file in a temporary directory and a
//! PostgreSQL cluster of its own (`initdb` + `pg_ctl`, fsync on), both
//! deleted afterwards. `--db` runs one backend on an existing, empty
//! database instead; with `--queries-only`, on a database it filled
//! before (with the same `--articles` and `--seed`), only timing queries.

use std::process::ExitCode;

use newsflow_store::bench::{self, BenchOptions};
use newsflow_store::testing::PgCluster;
use newsflow_store::{StoreConfig, open_store};

struct Args {
    backends: Vec<&'static str>,
    opts: BenchOptions,
    db: Option<String>,
    json: bool,
    queries_only: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        backends: vec!["sqlite", "postgres"],
        opts: BenchOptions::default(),
        db: None,
        json: false,
        queries_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--backend" => {
                args.backends = match value("--backend")?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--articles" => {
                args.opts.articles = value("--articles")?
                    .parse()
                    .map_err(|e| format!("--articles: {e}"))?
            }
            "--batch" => {
                args.opts.batch = value("--batch")?
                    .parse()
                    .map_err(|e| format!("--batch: {e}"))?
            }
            "--writers" => {
                args.opts.writers = value("--writers")?
                    .parse()
                    .map_err(|e| format!("--writers: {e}"))?
            }
            "--queries" => {
                args.opts.queries = value("--queries")?
                    .parse()
                    .map_err(|e| format!("--queries: {e}"))?
            }
            "--seed" => {
                args.opts.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--db" => args.db = Some(value("--db")?),
            "--json" => args.json = true,
            "--backfill" => args.opts.backfill = true,
            "--queries-only" => args.queries_only = true,
            "-h" | "--help" => {
                return Err("usage: bench [--backend sqlite|postgres|both] [--articles N] [--batch N] [--writers N] [--queries N] [--seed N] [--backfill] [--db PATH-OR-URL [--queries-only]] [--json]".into());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.queries_only && args.db.is_none() {
        return Err("--queries-only needs --db: a database the benchmark filled before".into());
    }
    if let Some(db) = &args.db {
        args.backends = vec![if newsflow_store::is_postgres_url(db) {
            "postgres"
        } else {
            "sqlite"
        }];
    }
    Ok(args)
}

async fn one(backend: &str, args: &Args) -> Result<bench::BenchReport, String> {
    let tmp = std::env::temp_dir().join(format!("newsflow-bench-{}", std::process::id()));
    let cluster;
    let db = match (&args.db, backend) {
        (Some(db), _) => db.clone(),
        (None, "sqlite") => {
            let _ = std::fs::remove_dir_all(&tmp);
            tmp.join("bench.db").display().to_string()
        }
        (None, _) => {
            cluster = PgCluster::start_durable()?;
            cluster.fresh_database("bench").await?
        }
    };
    let cfg = StoreConfig {
        db,
        max_connections: 4,
        ..StoreConfig::default()
    };
    let result = async {
        let store = std::sync::Arc::new(open_store(&cfg).await.map_err(|e| e.to_string())?);
        eprintln!("{backend}: storing {} articles ...", args.opts.articles);
        let report = if args.queries_only {
            bench::run_queries(&*store, &args.opts).await
        } else {
            let backend = backend.to_string();
            bench::run(store.clone(), &args.opts, move |line| {
                eprintln!("{backend}: {line}")
            })
            .await
        }
        .map_err(|e| e.to_string());
        store.close().await;
        report
    }
    .await;
    if args.db.is_none() && backend == "sqlite" {
        let size: u64 = std::fs::read_dir(&tmp)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.metadata().ok().map(|m| m.len()))
            .sum();
        eprintln!(
            "{backend}: database files {:.0} MiB",
            size as f64 / 1048576.0
        );
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for backend in &args.backends {
        match one(backend, &args).await {
            Ok(report) => {
                if args.json {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                } else {
                    println!("{}", report.table());
                }
            }
            Err(e) => {
                eprintln!("error: {backend}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
