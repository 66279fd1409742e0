//! The store: the pipeline's sink. It keeps every enriched article with
//! what the queries need (entities with their mention counts and places,
//! quotes, a full-text index, the links between syndicated copies) and
//! answers those queries.
//!
//! Two backends sit behind one trait, [`ArticleStore`], with one behaviour:
//! [`SqliteStore`] (embedded: WAL, FTS5) and [`PostgresStore`] (full-text
//! search in each article's language, GIN indexes). [`open_store`] picks
//! one from the database URL and applies its migrations. Everything
//! derived from an event (folded names, entity rows, the publication
//! instant, fingerprint bands, snippets) is computed here in Rust, once, so
//! both databases store and return the same values.
//!
//! Writes are idempotent by article id: a redelivered event replaces the
//! same rows, so at-least-once delivery never duplicates anything; a
//! re-enriched article replaces its derived rows in the same transaction as
//! the article row; an event older than the stored one changes nothing.
//!
//! This crate does not touch the bus ([`StoreStage`] is handed events by
//! `newsflow-bus`) and serves no HTTP (`newsflow-api` does, over the trait).

#![deny(missing_docs)]

mod derive;
mod error;
mod fold;
mod pg_text;
mod postgres;
mod query;
mod sqlite;
mod syndication;

pub mod bench;
pub mod testing;

use std::future::Future;

use chrono::{DateTime, Utc};
use newsflow_core::{Enriched, Envelope, NoOutput, Stage, StageError};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use query::{
    ArticleDetail, ArticleQuery, ArticleSummary, DEFAULT_LIMIT, Duplicates, EntityCount,
    EntityInfo, EntityQuery, GeoInfo, MAX_FILTER_CHARS, MAX_LIMIT, MAX_TERMS, Page, PlaceInfo,
    QuoteHit, QuoteInfo, QuoteQuery, RANK_WINDOW, SearchQuery, Sort,
};
pub use sqlite::SqliteStore;
pub use syndication::MAX_DISTANCE_LIMIT;

/// Settings of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Where the database lives: a SQLite file path (`data/newsflow.db`)
    /// or `sqlite://` URL (parent directories are created), or a
    /// `postgres://user:password@host:port/database` URL.
    pub db: String,
    /// Largest number of pooled connections. SQLite has one writer at a
    /// time anyway; more connections help concurrent searches.
    pub max_connections: u32,
    /// How long a write waits for another writer's lock before failing
    /// with a transient error, in milliseconds (SQLite; PostgreSQL waits
    /// for row locks and reports deadlocks, also as transient errors).
    pub busy_timeout_ms: u64,
    /// Two articles whose fingerprints differ in at most this many of
    /// their 64 bits are copies of one story (0 to 11). With the enrich
    /// stage's SimHash, a copy with a few words changed is 1–3 bits away,
    /// one missing its last paragraph about 10, unrelated articles about
    /// 32. Up to 3, candidates are found by exact band lookups; above, by
    /// 17 (4–7) or 137 (8–11) lookups per band, which costs more at every
    /// write, and links more false pairs.
    pub duplicate_max_distance: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            db: "data/newsflow.db".into(),
            max_connections: 4,
            busy_timeout_ms: 5_000,
            duplicate_max_distance: 3,
        }
    }
}

impl StoreConfig {
    /// Refuse settings no store can work with.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.duplicate_max_distance > MAX_DISTANCE_LIMIT {
            return Err(StoreError::Config(format!(
                "duplicate_max_distance is {}, at most {MAX_DISTANCE_LIMIT} is supported",
                self.duplicate_max_distance
            )));
        }
        if self.db.trim().is_empty() {
            return Err(StoreError::Config("db is empty".into()));
        }
        Ok(())
    }
}

/// Which database a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// The article was new.
    Inserted,
    /// The article was there and its rows were replaced (a redelivery or a
    /// re-enrichment).
    Updated,
    /// The stored version was enriched later than this event (an old event
    /// redelivered after a newer one): nothing was written.
    Stale,
}

/// A store of enriched articles, whatever the database behind it.
pub trait ArticleStore: Send + Sync + 'static {
    /// Insert or replace articles and everything derived from them, all in
    /// one transaction; one outcome per event, in order. An id given twice
    /// is written twice, in order (the older one may come back `Stale`).
    fn upsert_batch(
        &self,
        events: &[Envelope<Enriched>],
    ) -> impl Future<Output = Result<Vec<UpsertOutcome>, StoreError>> + Send;

    /// Insert or replace one article and everything derived from it, in one
    /// transaction.
    fn upsert(
        &self,
        event: &Envelope<Enriched>,
    ) -> impl Future<Output = Result<UpsertOutcome, StoreError>> + Send {
        async move {
            let outcomes = self.upsert_batch(std::slice::from_ref(event)).await?;
            Ok(outcomes.first().copied().unwrap_or(UpsertOutcome::Stale))
        }
    }

    /// A page of articles matching `q`.
    fn articles(
        &self,
        q: &ArticleQuery,
    ) -> impl Future<Output = Result<Page<ArticleSummary>, StoreError>> + Send;

    /// Articles matching `q`, best match first for a text search, newest
    /// first otherwise (the first page of [`ArticleStore::articles`]).
    fn search(
        &self,
        q: &SearchQuery,
    ) -> impl Future<Output = Result<Vec<ArticleSummary>, StoreError>> + Send {
        let q = ArticleQuery::from(q);
        async move { Ok(self.articles(&q).await?.items) }
    }

    /// Everything stored about one article, with its entities, places,
    /// quotes and syndication links.
    fn article(
        &self,
        article_id: &str,
    ) -> impl Future<Output = Result<Option<ArticleDetail>, StoreError>> + Send;

    /// The entities named by the most articles over a period.
    fn top_entities(
        &self,
        q: &EntityQuery,
    ) -> impl Future<Output = Result<Vec<EntityCount>, StoreError>> + Send;

    /// A page of quotations, newest article first.
    fn quotes(
        &self,
        q: &QuoteQuery,
    ) -> impl Future<Output = Result<Page<QuoteHit>, StoreError>> + Send;

    /// The stored event of one article.
    fn get(
        &self,
        article_id: &str,
    ) -> impl Future<Output = Result<Option<Envelope<Enriched>>, StoreError>> + Send;

    /// Number of stored articles.
    fn count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The database behind this store.
    fn backend(&self) -> Backend;
}

/// Whether `db` names a PostgreSQL database.
pub fn is_postgres_url(db: &str) -> bool {
    let db = db.trim();
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `db` without its password, for messages.
pub fn redact(db: &str) -> String {
    let db = db.trim();
    match (db.find("://"), db.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &db[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***@{}", &db[..scheme_end + 3], &db[at + 1..])
        }
        _ => db.to_string(),
    }
}

/// A store on either backend: what [`open_store`] returns, so callers stay
/// backend-neutral. Cloning shares the connection pool.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(PostgresStore),
}

/// Open the store `config.db` names — a `postgres://`/`postgresql://` URL
/// selects PostgreSQL, anything else (a path, `sqlite://`) SQLite — and
/// apply its migrations.
pub async fn open_store(config: &StoreConfig) -> Result<AnyStore, StoreError> {
    if is_postgres_url(&config.db) {
        Ok(AnyStore::Postgres(PostgresStore::open(config).await?))
    } else {
        Ok(AnyStore::Sqlite(SqliteStore::open(config).await?))
    }
}

impl AnyStore {
    /// Close the connection pool, waiting for connections to finish.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl ArticleStore for AnyStore {
    async fn upsert_batch(
        &self,
        events: &[Envelope<Enriched>],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        dispatch!(self, s => s.upsert_batch(events).await)
    }

    async fn articles(&self, q: &ArticleQuery) -> Result<Page<ArticleSummary>, StoreError> {
        dispatch!(self, s => s.articles(q).await)
    }

    async fn article(&self, article_id: &str) -> Result<Option<ArticleDetail>, StoreError> {
        dispatch!(self, s => s.article(article_id).await)
    }

    async fn top_entities(&self, q: &EntityQuery) -> Result<Vec<EntityCount>, StoreError> {
        dispatch!(self, s => s.top_entities(q).await)
    }

    async fn quotes(&self, q: &QuoteQuery) -> Result<Page<QuoteHit>, StoreError> {
        dispatch!(self, s => s.quotes(q).await)
    }

    async fn get(&self, article_id: &str) -> Result<Option<Envelope<Enriched>>, StoreError> {
        dispatch!(self, s => s.get(article_id).await)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        dispatch!(self, s => s.count().await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }

    fn backend(&self) -> Backend {
        dispatch!(self, s => s.backend())
    }
}

/// Assemble an [`ArticleDetail`] from the stored event and the rows.
#[allow(clippy::too_many_arguments)]
fn detail(
    event: Envelope<Enriched>,
    site: Option<String>,
    duplicate_of: Option<String>,
    duplicates: Vec<String>,
    entities: Vec<EntityInfo>,
    places: Vec<PlaceInfo>,
    quotes: Vec<QuoteInfo>,
    first_stored_at: DateTime<Utc>,
    stored_at: DateTime<Utc>,
) -> ArticleDetail {
    let Enriched {
        article,
        enrichment,
    } = event.data;
    ArticleDetail {
        article_id: event.article_id,
        trace_id: event.trace_id,
        article,
        site,
        lang: enrichment.lang,
        summary: enrichment.summary,
        keywords: enrichment.keywords,
        tone: enrichment.tone,
        dates: enrichment.dates,
        fingerprint: enrichment.fingerprint,
        duplicate_of,
        duplicates,
        entities,
        places,
        quotes,
        enriched_at: event.time,
        first_stored_at,
        stored_at,
        schema_version: event.version,
    }
}

/// The store stage: `enriched` → the database. Publishes nothing.
///
/// Writes are group-committed: the bus hands the stage up to
/// `max_in_flight` events at once, each in its own task, and one
/// transaction per article would spend most of the store's time committing
/// (and, on SQLite, checkpointing). So each call queues its event; whichever
/// call finds the writer free writes everything queued, up to
/// [`StoreStage::with_max_batch`], in one [`ArticleStore::upsert_batch`],
/// and hands every caller its own outcome. Nothing waits for a batch to
/// fill: under light load a batch is one event and no slower than before.
/// Each event is still acked by the bus only after its batch committed.
#[derive(Debug, Clone)]
pub struct StoreStage<S = AnyStore> {
    store: S,
    batcher: std::sync::Arc<Batcher>,
}

type Reply = tokio::sync::oneshot::Sender<Result<UpsertOutcome, StageError>>;

/// What the bus should do about a failed write.
fn stage_error(e: &StoreError) -> StageError {
    if e.is_transient() {
        // The database is down or busy; the event is fine: the bus holds
        // it and retries in place rather than dead-letter it.
        StageError::unavailable("db", e.to_string())
    } else {
        StageError::reject("db", e.to_string())
    }
}

#[derive(Debug)]
struct Batcher {
    queue: std::sync::Mutex<Vec<(Envelope<Enriched>, Reply)>>,
    writer: tokio::sync::Mutex<()>,
    max_batch: usize,
}

/// Default largest group commit.
pub const DEFAULT_MAX_BATCH: usize = 64;

impl<S: ArticleStore> StoreStage<S> {
    /// A stage writing to `store`.
    pub fn new(store: S) -> Self {
        Self::with_max_batch(store, DEFAULT_MAX_BATCH)
    }

    /// A stage writing to `store` at most `max_batch` articles per
    /// transaction (1 writes each article alone).
    pub fn with_max_batch(store: S, max_batch: usize) -> Self {
        Self {
            store,
            batcher: std::sync::Arc::new(Batcher {
                queue: std::sync::Mutex::new(Vec::new()),
                writer: tokio::sync::Mutex::new(()),
                max_batch: max_batch.max(1),
            }),
        }
    }

    /// The store behind the stage (the search API shares it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Store one event, in a transaction shared with the events queued
    /// alongside it.
    pub async fn write(&self, event: Envelope<Enriched>) -> Result<UpsertOutcome, StageError> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.lock_queue().push((event, tx));
        loop {
            tokio::select! {
                // An earlier writer may have taken this event already.
                biased;
                reply = &mut rx => {
                    return reply.unwrap_or_else(|_| {
                        // The writer holding it was cancelled mid-batch.
                        Err(StageError::unavailable("db", "the batch writing this article was interrupted"))
                    });
                }
                _guard = self.batcher.writer.lock() => {
                    let batch: Vec<_> = {
                        let mut queue = self.lock_queue();
                        let n = queue.len().min(self.batcher.max_batch);
                        queue.drain(..n).collect()
                    };
                    if !batch.is_empty() {
                        self.write_batch(batch).await;
                    }
                }
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<(Envelope<Enriched>, Reply)>> {
        // A panic while holding this lock cannot leave the Vec half-changed.
        self.batcher
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Write `batch` and answer each of its callers. The events go in
    /// article-id order (stable, so two versions of one article keep
    /// theirs): two replicas then take row locks in the same order and do
    /// not deadlock each other.
    async fn write_batch(&self, mut batch: Vec<(Envelope<Enriched>, Reply)>) {
        batch.sort_by(|a, b| a.0.article_id.cmp(&b.0.article_id));
        let (events, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match self.store.upsert_batch(&events).await {
            Ok(outcomes) if outcomes.len() == events.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcomes) => {
                let e = StageError::reject(
                    "db",
                    format!(
                        "the store answered {} outcomes for {} articles",
                        outcomes.len(),
                        events.len()
                    ),
                );
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            // Everyone retries a database that is down.
            Err(e) if e.is_transient() || events.len() == 1 => {
                let e = stage_error(&e);
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            // One event the database refuses must not sink the others:
            // each is written alone, so the error lands on its own event.
            Err(_) => {
                for (event, reply) in events.iter().zip(replies) {
                    let _ = reply.send(self.store.upsert(event).await.map_err(|e| stage_error(&e)));
                }
            }
        }
    }
}

impl<S: ArticleStore> Stage for StoreStage<S> {
    type In = Enriched;
    type Out = NoOutput;
    const NAME: &'static str = "store";

    async fn handle(
        &self,
        input: Envelope<Enriched>,
    ) -> Result<Vec<Envelope<NoOutput>>, StageError> {
        let article_id = input.article_id.clone();
        let outcome = self.write(input).await?;
        tracing::debug!(%article_id, ?outcome, "stored");
        Ok(vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@db:5432/n"),
            "postgres://u:***@db:5432/n"
        );
        assert_eq!(redact("postgres://db/n"), "postgres://db/n");
        assert_eq!(redact("data/x.db"), "data/x.db");
        assert!(is_postgres_url(" postgresql://x/y"));
        assert!(!is_postgres_url("sqlite://x"));
    }

    #[test]
    fn config_is_validated() {
        assert!(StoreConfig::default().validate().is_ok());
        let c = StoreConfig {
            duplicate_max_distance: 12,
            ..StoreConfig::default()
        };
        assert!(matches!(c.validate(), Err(StoreError::Config(_))));
    }
}
