//! The store benchmark: batched inserts per second and query latency
//! percentiles over a synthetic corpus that looks like the real stream
//! (French and English articles of 300–500 words drawn from a Zipf
//! vocabulary, 3–15 entities with geocoded places, quotes, publication
//! days over a year, 10 % republished copies with near fingerprints).
//! The corpus is deterministic: the same options give the same articles.
//!
//! `examples/bench.rs` runs it on throw-away databases; `newsflow bench
//! store` can run it on any store. It reports figures and asserts nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Days, NaiveDate, Utc};
use newsflow_core::{
    Article, Enriched, Enrichment, Entity, EntityLabel, Envelope, Geo, PlaceKind, Quote,
};
use serde::Serialize;

use crate::{
    ArticleQuery, ArticleStore, Backend, Duplicates, EntityQuery, QuoteQuery, Sort, StoreError,
};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Articles to store.
    pub articles: u64,
    /// Articles per `upsert_batch` call (one transaction).
    pub batch: usize,
    /// Concurrent writers (store replicas), each storing whole batches.
    /// SQLite takes one writer at a time, so it always gets one.
    pub writers: usize,
    /// Publication dates in random order, as when a year's archive is
    /// loaded at once, instead of roughly the order the articles arrive
    /// in, as a news stream brings them.
    pub backfill: bool,
    /// Queries of each kind to time, once the articles are stored.
    pub queries: usize,
    /// Seed of the corpus.
    pub seed: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            articles: 100_000,
            batch: 500,
            writers: 2,
            backfill: false,
            queries: 200,
            seed: 42,
        }
    }
}

/// Latency of one kind of query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryFigures {
    /// The kind, e.g. `text (relevance)`.
    pub kind: String,
    /// Queries timed.
    pub queries: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, milliseconds.
    pub p95_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Mean number of items returned.
    pub mean_items: f64,
}

/// What the benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Articles stored.
    pub articles: u64,
    /// Articles per transaction.
    pub batch: usize,
    /// Concurrent writers.
    pub writers: usize,
    /// Order of the publication dates: `stream` or `backfill`.
    pub dates: String,
    /// Wall-clock seconds spent storing them.
    pub insert_secs: f64,
    /// Articles stored per second.
    pub inserts_per_sec: f64,
    /// Articles linked as copies of another (a check the corpus's copies
    /// were found).
    pub linked_copies: u64,
    /// One line per kind of query.
    pub queries: Vec<QueryFigures>,
}

fn dates(opts: &BenchOptions) -> String {
    if opts.backfill { "backfill" } else { "stream" }.into()
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SYLLABLES: &[&str] = &[
    "ba", "ko", "ma", "li", "sa", "di", "ra", "to", "ne", "gu", "fa", "so", "ki", "de", "mo", "lu",
    "pa", "ti", "re", "na", "bo", "se", "ca", "vi", "za", "po", "du", "me", "ga", "la", "che",
    "tion", "ment", "eur", "ique", "ance", "oir", "age", "ette", "ain",
];
const FIRST: &[&str] = &[
    "Sadio",
    "Assimi",
    "Aminata",
    "Oumar",
    "Fatoumata",
    "Moussa",
    "Ibrahim",
    "Awa",
    "Mariam",
    "Boubacar",
    "Modibo",
    "Kadiatou",
    "Abdoulaye",
    "Seydou",
    "Djeneba",
    "Cheick",
    "Hawa",
    "Mamadou",
    "Salif",
    "Rokia",
    "John",
    "Mary",
    "Ahmed",
    "Yacouba",
    "Issa",
];
const LAST: &[&str] = &[
    "Camara",
    "Goïta",
    "Traoré",
    "Diarra",
    "Keïta",
    "Coulibaly",
    "Touré",
    "Sissoko",
    "Maïga",
    "Diallo",
    "Konaté",
    "Sangaré",
    "Doumbia",
    "Cissé",
    "Dembélé",
    "Sidibé",
    "Bagayoko",
    "Kanté",
    "Mahama",
    "Ouattara",
    "Sow",
    "Ba",
    "Ndiaye",
    "Sy",
    "Tall",
];
const PLACES: &[(&str, &str, f64, f64)] = &[
    ("Mali", "ML", 17.0, -4.0),
    ("Bamako", "ML", 12.65, -8.0),
    ("Kidal", "ML", 18.44, 1.41),
    ("Gao", "ML", 16.27, -0.04),
    ("Mopti", "ML", 14.49, -4.19),
    ("Niger", "NE", 17.6, 8.08),
    ("Niamey", "NE", 13.51, 2.11),
    ("Burkina Faso", "BF", 12.24, -1.56),
    ("Ouagadougou", "BF", 12.37, -1.53),
    ("Sénégal", "SN", 14.5, -14.45),
    ("Dakar", "SN", 14.69, -17.44),
    ("Russie", "RU", 61.52, 105.32),
    ("Moscou", "RU", 55.75, 37.62),
    ("France", "FR", 46.23, 2.21),
    ("Paris", "FR", 48.86, 2.35),
    ("Ghana", "GH", 7.95, -1.02),
    ("Accra", "GH", 5.6, -0.19),
    ("Côte d'Ivoire", "CI", 7.54, -5.55),
    ("Abidjan", "CI", 5.35, -4.0),
    ("Sahel", "", 15.0, 0.0),
];
const ORGS: &[&str] = &[
    "FAMa",
    "CEDEAO",
    "Union africaine",
    "ONU",
    "Banque mondiale",
    "AES",
    "MINUSMA",
    "FMI",
    "Assemblée nationale",
    "Conseil de sécurité",
    "World Bank",
    "African Union",
];

/// The corpus: a vocabulary with Zipf weights, people, sites.
struct Corpus {
    words: Vec<String>,
    /// Cumulative Zipf weights of `words`.
    cumulative: Vec<f64>,
    people: Vec<String>,
    sites: Vec<(String, String)>,
    start: NaiveDate,
    /// Articles the year's dates are spread over in arrival order, or
    /// `None` for dates in random order.
    stream: Option<u64>,
}

impl Corpus {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let mut words = Vec::with_capacity(20_000);
        let mut seen = std::collections::HashSet::new();
        while words.len() < 20_000 {
            let n = 1 + rng.below(4);
            let w: String = (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        let people = FIRST
            .iter()
            .flat_map(|f| LAST.iter().map(move |l| format!("{f} {l}")))
            .collect();
        let sites = (0..200)
            .map(|i| {
                let name: String = (0..2 + i % 3)
                    .map(|k| SYLLABLES[(i * 7 + k * 13) % SYLLABLES.len()])
                    .collect();
                (format!("https://www.{name}{i}.ml"), format!("{name} {i}"))
            })
            .collect();
        Self {
            words,
            cumulative,
            people,
            sites,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            stream: None,
        }
    }

    /// The corpus of `opts`: dates in arrival order unless it is a backfill.
    fn of(opts: &BenchOptions) -> Self {
        Self {
            stream: (!opts.backfill).then_some(opts.articles.max(1)),
            ..Self::new(opts.seed)
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|c| *c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    /// Article `i` (its copies share the base story `i / 10 * 10`).
    fn event(&self, seed: u64, i: u64) -> Envelope<Enriched> {
        // Every tenth article from 5 on republishes the one five before.
        let is_copy = i % 10 == 5;
        let story = if is_copy { i - 5 } else { i };
        let mut rng = Rng(seed ^ story.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let lang = if rng.below(10) == 0 { "en" } else { "fr" };
        let day = self
            .start
            .checked_add_days(Days::new(match self.stream {
                // A stream: the year in arrival order, a story published
                // up to two days before the one after it.
                Some(span) => (story * 365 / span + rng.below(3) as u64).min(364),
                None => rng.below(365) as u64,
            }))
            .unwrap_or(self.start);
        let n_ents = 3 + rng.below(13);
        let mut body = String::with_capacity(4000);
        let mut entities = Vec::new();
        let n_words = 300 + rng.below(200);
        let mut chars = 0usize;
        let mut quotes = Vec::new();
        for w in 0..n_words {
            if w > 0 {
                body.push(' ');
                chars += 1;
            }
            if w % 40 == 7 && entities.len() < n_ents {
                let (text, label, geo) = match rng.below(3) {
                    0 => (
                        self.people[rng.below(self.people.len())].clone(),
                        EntityLabel::PER,
                        None,
                    ),
                    1 => (
                        ORGS[rng.below(ORGS.len())].to_string(),
                        EntityLabel::ORG,
                        None,
                    ),
                    _ => {
                        let (name, cc, lat, lon) = PLACES[rng.below(PLACES.len())];
                        let geo = Geo {
                            geonames_id: 1000 + rng.below(1000) as u64,
                            lat,
                            lon,
                            country_code: cc.to_string(),
                            kind: if cc.is_empty() {
                                PlaceKind::Region
                            } else {
                                PlaceKind::City
                            },
                        };
                        (name.to_string(), EntityLabel::LOC, Some(geo))
                    }
                };
                let canonical = text.clone();
                // Half the mentions of a person are the surname alone.
                let text = match text.rsplit_once(' ') {
                    Some((_, last)) if label == EntityLabel::PER && rng.below(2) == 0 => {
                        last.to_string()
                    }
                    _ => text,
                };
                let len = text.chars().count();
                if label == EntityLabel::PER && quotes.len() < 4 && rng.below(2) == 0 {
                    quotes.push(Quote {
                        start: chars,
                        end: chars + len,
                        speaker: Some(canonical.clone()),
                        text: format!(
                            "{} {} {}",
                            self.word(&mut rng),
                            self.word(&mut rng),
                            self.word(&mut rng)
                        ),
                    });
                }
                entities.push(Entity {
                    start: chars,
                    end: chars + len,
                    label,
                    text: text.clone(),
                    canonical,
                    geo,
                });
                body.push_str(&text);
                chars += len;
            } else {
                let word = self.word(&mut rng);
                body.push_str(word);
                chars += word.chars().count();
            }
            if w % 60 == 59 {
                body.push_str(".\n\n");
                chars += 3;
            }
        }
        let title: Vec<&str> = (0..8).map(|_| self.word(&mut rng)).collect();
        let mut fingerprint = rng.next();
        let (site_url, site_name) = &self.sites[rng.below(self.sites.len())];
        let mut article = Article {
            url: format!("{site_url}/articles/{story}"),
            title: Some(title.join(" ")),
            authors: vec![self.people[rng.below(self.people.len())].clone()],
            published: Some(day.format("%Y-%m-%d").to_string()),
            site_name: Some(site_name.clone()),
            body_text: body,
            ..Article::default()
        };
        if is_copy {
            // Another site republishes it, lightly edited: a near fingerprint.
            let mut copy_rng = Rng(seed ^ i);
            let (url, name) = &self.sites[copy_rng.below(self.sites.len())];
            article.original_publisher = article.site_name.take();
            article.url = format!("{url}/reprise/{i}");
            article.site_name = Some(name.clone());
            article.body_text.push_str(" Source : partenaire.");
            for _ in 0..2 {
                fingerprint ^= 1 << copy_rng.below(64);
            }
        }
        let enrichment = Enrichment {
            lang: lang.into(),
            lang_confidence: 0.99,
            entities,
            quotes,
            fingerprint: Some(format!("{fingerprint:016x}")),
            ..Enrichment::default()
        };
        let time: DateTime<Utc> = day
            .and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default();
        Envelope {
            kind: "enriched".into(),
            version: newsflow_core::SCHEMA_VERSION,
            article_id: article_id(i),
            trace_id: format!("{:016x}", i ^ 0xffff),
            time,
            data: Enriched {
                article,
                enrichment,
            },
        }
    }
}

/// The id of article `i`: 16 hex digits that look random, as the ids of
/// the pipeline do (a hash of the URL), so that every structure keyed by
/// id takes its inserts at random places, as it does in production.
fn article_id(i: u64) -> String {
    format!("{:016x}", Rng(i).next())
}

/// Article `i` of the corpus seeded `seed`.
pub fn synthetic_event(seed: u64, i: u64) -> Envelope<Enriched> {
    Corpus::new(seed).event(seed, i)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn time_queries<F, Fut>(kind: &str, n: usize, mut run: F) -> Result<QueryFigures, StoreError>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<usize, StoreError>>,
{
    let mut times = Vec::with_capacity(n);
    let mut items = 0usize;
    for i in 0..n {
        let t = Instant::now();
        items += run(i).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(QueryFigures {
        kind: kind.into(),
        queries: n,
        p50_ms: percentile(&times, 0.50),
        p95_ms: percentile(&times, 0.95),
        max_ms: times.last().copied().unwrap_or(0.0),
        mean_items: items as f64 / n.max(1) as f64,
    })
}

/// Store `opts.articles` synthetic articles in `store` (which should be
/// empty), then time each kind of query. `progress` receives a line now
/// and then.
pub async fn run<S: ArticleStore>(
    store: Arc<S>,
    opts: &BenchOptions,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Result<BenchReport, StoreError> {
    let corpus = Arc::new(Corpus::of(opts));
    let batch = opts.batch.max(1) as u64;
    let claimed = Arc::new(AtomicU64::new(0));
    let stored = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let last_report = Arc::new(std::sync::Mutex::new(Instant::now()));
    let progress = Arc::new(progress);
    let writers = match store.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => opts.writers.max(1),
    };
    // Each writer is a task of its own (a stage replica's), claims the
    // next batch, builds it and stores it: the figure includes building
    // the events, as a real stage decodes them.
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (store, corpus, claimed, stored, last_report, progress) = (
                store.clone(),
                corpus.clone(),
                claimed.clone(),
                stored.clone(),
                last_report.clone(),
                progress.clone(),
            );
            let (articles, seed) = (opts.articles, opts.seed);
            tokio::spawn(async move {
                loop {
                    let start = claimed.fetch_add(batch, Ordering::Relaxed);
                    if start >= articles {
                        return Ok::<(), StoreError>(());
                    }
                    let end = (start + batch).min(articles);
                    let events: Vec<_> = (start..end).map(|i| corpus.event(seed, i)).collect();
                    store.upsert_batch(&events).await?;
                    let done = stored.fetch_add(end - start, Ordering::Relaxed) + end - start;
                    if let Ok(mut last) = last_report.lock()
                        && last.elapsed() > Duration::from_secs(5)
                    {
                        progress(&format!(
                            "stored {done}/{articles} ({:.0} articles/s)",
                            done as f64 / started.elapsed().as_secs_f64()
                        ));
                        *last = Instant::now();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| StoreError::Config(format!("a benchmark writer failed: {e}")))??;
    }
    let insert_secs = started.elapsed().as_secs_f64();
    progress("timing queries");
    let (queries, linked) = time_all_queries(&*store, opts, &corpus).await?;
    Ok(BenchReport {
        backend: store.backend().to_string(),
        articles: opts.articles,
        batch: opts.batch,
        writers,
        dates: dates(opts),
        insert_secs,
        inserts_per_sec: opts.articles as f64 / insert_secs.max(1e-9),
        linked_copies: linked,
        queries,
    })
}

/// Time the queries only, on a store the benchmark filled before with the
/// same options (`opts.articles` is how many it stored).
pub async fn run_queries<S: ArticleStore>(
    store: &S,
    opts: &BenchOptions,
) -> Result<BenchReport, StoreError> {
    let corpus = Corpus::of(opts);
    let (queries, linked) = time_all_queries(store, opts, &corpus).await?;
    Ok(BenchReport {
        backend: store.backend().to_string(),
        articles: opts.articles,
        batch: opts.batch,
        writers: 0,
        dates: dates(opts),
        insert_secs: 0.0,
        inserts_per_sec: 0.0,
        linked_copies: linked,
        queries,
    })
}

async fn time_all_queries<S: ArticleStore>(
    store: &S,
    opts: &BenchOptions,
    corpus: &Corpus,
) -> Result<(Vec<QueryFigures>, u64), StoreError> {
    let mut rng = Rng(opts.seed ^ 0xabcd);
    // Query words: half from the 200 most common words, half from ranks
    // 200–5000, one or two per query.
    let texts: Vec<String> = (0..opts.queries)
        .map(|i| {
            let pick = |rng: &mut Rng| {
                let r = if i % 2 == 0 {
                    rng.below(200)
                } else {
                    200 + rng.below(4800)
                };
                corpus.words[r].clone()
            };
            if i % 3 == 0 {
                format!("{} {}", pick(&mut rng), pick(&mut rng))
            } else {
                pick(&mut rng)
            }
        })
        .collect();
    let people: Vec<String> = (0..opts.queries)
        .map(|_| corpus.people[rng.below(corpus.people.len())].clone())
        .collect();
    let months: Vec<(String, String)> = (0..opts.queries)
        .map(|i| {
            let m = 1 + i % 12;
            (format!("2025-{m:02}-01"), format!("2025-{m:02}-28"))
        })
        .collect();
    let places: Vec<&str> = (0..opts.queries)
        .map(|_| PLACES[rng.below(PLACES.len())].0)
        .collect();

    let page = |q: ArticleQuery| ArticleQuery { limit: 20, ..q };
    let mut queries = Vec::new();
    queries.push(
        time_queries("text, best match first", opts.queries, |i| {
            let q = page(ArticleQuery {
                text: Some(texts[i].clone()),
                ..ArticleQuery::default()
            });
            async move { Ok(store.articles(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries("text, newest first", opts.queries, |i| {
            let q = page(ArticleQuery {
                text: Some(texts[i].clone()),
                sort: Some(Sort::Newest),
                ..ArticleQuery::default()
            });
            async move { Ok(store.articles(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries("text + lang + month, originals only", opts.queries, |i| {
            let q = page(ArticleQuery {
                text: Some(texts[i].clone()),
                lang: Some("fr".into()),
                since: Some(months[i].0.clone()),
                until: Some(months[i].1.clone()),
                duplicates: Duplicates::Exclude,
                ..ArticleQuery::default()
            });
            async move { Ok(store.articles(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries("entity (person)", opts.queries, |i| {
            let q = page(ArticleQuery {
                entity: Some(people[i].clone()),
                ..ArticleQuery::default()
            });
            async move { Ok(store.articles(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries("place + month", opts.queries, |i| {
            let q = page(ArticleQuery {
                place: Some(places[i].into()),
                since: Some(months[i].0.clone()),
                until: Some(months[i].1.clone()),
                ..ArticleQuery::default()
            });
            async move { Ok(store.articles(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries(
            "newest, no filter, 3 pages deep",
            opts.queries,
            |_| async move {
                let mut q = page(ArticleQuery::default());
                let mut n = 0;
                for _ in 0..3 {
                    let p = store.articles(&q).await?;
                    n = p.items.len();
                    q.cursor = p.next_cursor;
                }
                Ok(n)
            },
        )
        .await?,
    );
    queries.push(
        time_queries("quotes by speaker", opts.queries, |i| {
            let q = QuoteQuery {
                speaker: Some(people[i].clone()),
                limit: 20,
                ..QuoteQuery::default()
            };
            async move { Ok(store.quotes(&q).await?.items.len()) }
        })
        .await?,
    );
    queries.push(
        time_queries("top 20 people of a month", opts.queries.min(50), |i| {
            let q = EntityQuery {
                label: Some("PER".into()),
                since: Some(months[i].0.clone()),
                until: Some(months[i].1.clone()),
                limit: 20,
                ..EntityQuery::default()
            };
            async move { Ok(store.top_entities(&q).await?.len()) }
        })
        .await?,
    );

    // Copies are every tenth article from the sixth: count how many got linked.
    let mut linked = 0u64;
    let sample = (opts.articles / 10).min(200);
    for k in 0..sample {
        let id = article_id(k * 10 + 5);
        if let Some(d) = store.article(&id).await?
            && d.duplicate_of.is_some()
        {
            linked += 1;
        }
    }
    Ok((queries, linked))
}

impl BenchReport {
    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} — {} articles ({} dates) in batches of {} by {} writer(s): {:.1} s, {:.0} articles/s stored; {} of the sampled copies linked\n",
            self.backend,
            self.articles,
            self.dates,
            self.batch,
            self.writers,
            self.insert_secs,
            self.inserts_per_sec,
            self.linked_copies
        );
        out.push_str(&format!(
            "  {:<40} {:>8} {:>8} {:>8} {:>7}\n",
            "query", "p50 ms", "p95 ms", "max ms", "items"
        ));
        for q in &self.queries {
            out.push_str(&format!(
                "  {:<40} {:>8.2} {:>8.2} {:>8.2} {:>7.1}\n",
                q.kind, q.p50_ms, q.p95_ms, q.max_ms, q.mean_items
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_is_deterministic_and_has_near_copies() {
        let a = synthetic_event(7, 3);
        assert_eq!(a, synthetic_event(7, 3));
        assert!(a.data.article.body_text.split_whitespace().count() >= 300);
        assert!(!a.data.enrichment.entities.is_empty());
        let original = synthetic_event(7, 10);
        let copy = synthetic_event(7, 15);
        let fp = |e: &Envelope<Enriched>| {
            u64::from_str_radix(e.data.enrichment.fingerprint.as_deref().unwrap(), 16).unwrap()
        };
        assert!((fp(&original) ^ fp(&copy)).count_ones() <= 2);
        assert!(copy.data.article.original_publisher.is_some());
        assert_ne!(original.article_id, copy.article_id);
    }
}
