//! `newsflow up --demo`: serve the pages in `seeds/` from a loopback site,
//! publish their URLs, and print each enriched article as it arrives.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::StreamExt;
use newsflow_bus::Bus;
use newsflow_core::{Enriched, Event, UrlRequest, subjects};
use newsflow_test_support::{FixtureSite, Page};

/// Serve every `*.html` in `seeds` at `/<file name>`, as the publisher's
/// server would: `text/html` with no charset, so the page's own `<meta>`
/// declaration decides (the seed is windows-1252).
pub async fn serve_seeds(seeds: &Path) -> anyhow::Result<(FixtureSite, Vec<String>)> {
    let site = FixtureSite::start()
        .await
        .context("cannot bind a loopback port for the demo site")?;
    let mut urls = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(seeds)
        .with_context(|| {
            format!(
                "cannot read {}: run from the repository root or pass --seeds DIR",
                seeds.display()
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    entries.sort();
    for path in entries {
        let body =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("page.html");
        let route = format!("/{name}");
        site.route(&route, Page::html(body));
        urls.push(site.url(&route));
    }
    if urls.is_empty() {
        bail!("no *.html pages in {}", seeds.display());
    }
    Ok((site, urls))
}

/// Publish `urls` and print the enriched articles as they arrive; returns
/// once every one arrived (or `timeout` passed).
pub async fn publish_and_print(
    bus: &Bus,
    urls: &[String],
    timeout: Duration,
) -> anyhow::Result<()> {
    let mut enriched = bus.subscribe(subjects::ENRICHED, false).await?;
    let started = Instant::now();
    let mut waiting: HashSet<String> = HashSet::new();
    for url in urls {
        let request = serde_json::json!({ "url": url, "tags": ["demo"], "force": true });
        let env = UrlRequest::decode(
            request.to_string().as_bytes(),
            &newsflow_core::short_hash(url),
        )?;
        waiting.insert(env.article_id.clone());
        // A fresh message id per run: the demo always reprocesses.
        let msg_id = format!(
            "demo:{}:{}",
            env.article_id,
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        );
        bus.publish_bytes(subjects::URLS, Bytes::from(request.to_string()), &msg_id)
            .await?;
        eprintln!("published {url}");
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while !waiting.is_empty() {
        tokio::select! {
            _ = &mut deadline => bail!(
                "{} article(s) not enriched within {:?}; `newsflow status` shows where they are (see newsflow.dlq.* for failures)",
                waiting.len(), timeout
            ),
            item = enriched.next() => {
                let Some(item) = item else { bail!("the enriched stream closed") };
                let received = item?;
                let Ok(env) = Enriched::decode(&received.payload, "") else { continue };
                if waiting.remove(&env.article_id) {
                    println!("{}", crate::print::article(&env, true));
                    eprintln!("enriched in {} ms after publish", started.elapsed().as_millis());
                }
            }
        }
    }
    Ok(())
}
