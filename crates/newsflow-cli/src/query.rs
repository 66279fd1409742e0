//! `newsflow search` and `newsflow show`: the store's queries from the
//! command line, as a table for people or JSON for scripts.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use newsflow_store::{AnyStore, ArticleDetail, ArticleQuery, ArticleStore as _, Duplicates, Sort};

use crate::config::AppConfig;

/// Filters of `newsflow search`, all combined with AND.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words that must all occur (accents and case ignored).
    pub query: Option<String>,
    /// Only articles in this language (two letters).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only articles naming this entity (canonical name or a mention).
    #[arg(long)]
    pub entity: Option<String>,
    /// PER, ORG or LOC: the class of --entity, or alone, articles naming one.
    #[arg(long)]
    pub label: Option<String>,
    /// Only articles naming this place.
    #[arg(long)]
    pub place: Option<String>,
    /// Only articles naming a place in this country (ISO code, e.g. ML).
    #[arg(long)]
    pub country: Option<String>,
    /// Only articles from this site (host or name).
    #[arg(long)]
    pub site: Option<String>,
    /// Published on or after this day (YYYY-MM-DD) or instant.
    #[arg(long)]
    pub since: Option<String>,
    /// Published on or before this day, or before this instant.
    #[arg(long)]
    pub until: Option<String>,
    /// Leave out republished copies (originals only).
    #[arg(long)]
    pub originals: bool,
    /// Order of the results (default: relevance with words, else newest).
    #[arg(long, value_enum)]
    pub sort: Option<SortArg>,
    /// Continue after a previous page (its "next" cursor).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Most results.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Order of `newsflow search`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    /// Newest publication first.
    Newest,
    /// Best match first (needs words to search).
    Relevance,
}

impl SearchArgs {
    fn to_query(&self) -> ArticleQuery {
        ArticleQuery {
            text: self.query.clone(),
            lang: self.lang.clone(),
            entity: self.entity.clone(),
            label: self.label.clone(),
            place: self.place.clone(),
            country: self.country.clone(),
            site: self.site.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            duplicates: if self.originals {
                Duplicates::Exclude
            } else {
                Duplicates::Include
            },
            sort: self.sort.map(|s| match s {
                SortArg::Newest => Sort::Newest,
                SortArg::Relevance => Sort::Relevance,
            }),
            cursor: self.cursor.clone(),
            limit: self.limit,
        }
    }
}

/// Open the configured store (SQLite path or PostgreSQL URL).
pub async fn open(cfg: &AppConfig) -> anyhow::Result<AnyStore> {
    newsflow_store::open_store(&cfg.store)
        .await
        .with_context(|| {
            format!(
                "cannot open the store at {}; set store.db (or NEWSFLOW_DB) to a SQLite path or a postgres:// URL",
                cfg.store.db
            )
        })
}

/// Run a search and print the results; the table goes to stdout, the count
/// and the next cursor to stderr.
pub async fn search(cfg: &AppConfig, args: &SearchArgs) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    let page = store.articles(&args.to_query()).await?;
    let mut out = String::new();
    for hit in &page.items {
        if args.json {
            out.push_str(&serde_json::to_string(hit)?);
            out.push('\n');
        } else {
            let published = hit.published.as_deref().unwrap_or("-");
            let day = published.get(..10).unwrap_or(published);
            let _ = writeln!(
                out,
                "{}  {:<10}  {:<3}  {:<20}  {}{}",
                hit.article_id,
                day,
                hit.lang.as_deref().unwrap_or("-"),
                clip(
                    hit.site
                        .as_deref()
                        .or(hit.site_name.as_deref())
                        .unwrap_or("-"),
                    20
                ),
                hit.title.as_deref().unwrap_or("(no title)"),
                hit.duplicate_of
                    .as_deref()
                    .map(|d| format!("  [copy of {d}]"))
                    .unwrap_or_default(),
            );
        }
    }
    print!("{out}");
    if !args.json {
        eprintln!("{} result(s)", page.items.len());
        if let Some(next) = &page.next_cursor {
            eprintln!("more: --cursor {next}");
        }
    }
    store.close().await;
    Ok(())
}

/// Print one stored article with its entities, places and quotes; exits
/// with an error naming the id when it is not stored.
pub async fn show(cfg: &AppConfig, id: &str, json: bool) -> anyhow::Result<()> {
    let store = open(cfg).await?;
    let detail = store.article(id).await?;
    store.close().await;
    let Some(detail) = detail else {
        anyhow::bail!("no article {id} in the store; `newsflow search` lists the stored ids");
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
    } else {
        print!("{}", render(&detail));
    }
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n - 1).collect();
        c.push('…');
        c
    }
}

/// The human-readable view of `newsflow show`.
pub fn render(d: &ArticleDetail) -> String {
    let a = &d.article;
    let mut o = String::new();
    let _ = writeln!(o, "━━ {}", a.title.as_deref().unwrap_or("(no title)"));
    let _ = writeln!(o, "   id          {}   trace {}", d.article_id, d.trace_id);
    let _ = writeln!(o, "   url         {}", a.url);
    let _ = writeln!(
        o,
        "   site        {}",
        d.site.as_deref().or(a.site_name.as_deref()).unwrap_or("-")
    );
    if let Some(p) = &a.original_publisher {
        let _ = writeln!(o, "   publisher   {p} (original)");
    }
    let _ = writeln!(
        o,
        "   published   {}",
        a.published.as_deref().unwrap_or("-")
    );
    let authors = if a.authors.is_empty() {
        "-".to_string()
    } else {
        a.authors.join(", ")
    };
    let _ = writeln!(o, "   authors     {authors}");
    let _ = writeln!(o, "   language    {}", d.lang);
    if let Some(t) = &d.tone {
        let _ = writeln!(o, "   tone        {:+.2}", t.score);
    }
    if let Some(orig) = &d.duplicate_of {
        let _ = writeln!(o, "   copy of     {orig}");
    }
    if !d.duplicates.is_empty() {
        let _ = writeln!(o, "   copies      {}", d.duplicates.join(", "));
    }
    if !d.keywords.is_empty() {
        let kw: Vec<&str> = d.keywords.iter().map(|k| k.text.as_str()).collect();
        let _ = writeln!(o, "   keywords    {}", kw.join(", "));
    }
    let _ = writeln!(o, "   stored      {}", d.stored_at.to_rfc3339());
    if !d.entities.is_empty() {
        let _ = writeln!(o, "\n   entities");
        for e in &d.entities {
            let _ = writeln!(o, "     {:<4} {} ×{}", e.label, e.canonical, e.mentions);
        }
    }
    if !d.places.is_empty() {
        let _ = writeln!(o, "\n   places");
        for p in &d.places {
            match &p.geo {
                Some(g) => {
                    let _ = writeln!(
                        o,
                        "     {} ({}, {}, {:.3} {:.3}, GeoNames {})",
                        p.name, g.kind, g.country_code, g.lat, g.lon, g.geonames_id
                    );
                }
                None => {
                    let _ = writeln!(o, "     {} (not geocoded)", p.name);
                }
            }
        }
    }
    if !d.quotes.is_empty() {
        let _ = writeln!(o, "\n   quotes");
        for q in &d.quotes {
            let _ = writeln!(
                o,
                "     {}: « {} »",
                q.speaker.as_deref().unwrap_or("(unattributed)"),
                clip(&q.text, 160)
            );
        }
    }
    if let Some(s) = &d.summary {
        let _ = writeln!(o, "\n   summary\n     {s}");
    }
    o
}
