//! The store: the pipeline's sink. It keeps every enriched article, its
//! entity mentions and a full-text index, and answers searches.
//!
//! Writes are idempotent by article id: a redelivered event replaces the
//! same rows, so at-least-once delivery never duplicates anything, and a
//! re-enriched article replaces its derived rows (entities, index) in the
//! same transaction as the article row.
//!
//! The backend today is SQLite ([`SqliteStore`]); the [`ArticleStore`]
//! trait and the query types here carry no SQLite specifics so that
//! PostgreSQL can sit behind the same interface. This crate does not touch
//! the bus: [`StoreStage`] is handed events by `newsflow-bus`.

#![deny(missing_docs)]

mod error;
mod sqlite;

use std::future::Future;

use newsflow_core::{Enriched, Envelope, NoOutput, Stage, StageError};
use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use sqlite::SqliteStore;

/// Settings of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Where the database lives: a file path (`data/newsflow.db`) or an
    /// `sqlite://` URL. Parent directories are created. `postgres://` URLs
    /// are refused until the PostgreSQL backend lands.
    pub db: String,
    /// Largest number of pooled connections. SQLite has one writer at a
    /// time anyway; more connections help concurrent searches.
    pub max_connections: u32,
    /// How long a write waits for another writer's lock before failing
    /// with a transient error, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            db: "data/newsflow.db".into(),
            max_connections: 4,
            busy_timeout_ms: 5_000,
        }
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

/// A search. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchQuery {
    /// Words to find in the title or body. Case and diacritics are ignored
    /// ("electrification" finds "Électrification"); every word must occur.
    /// Query syntax is not interpreted: quotes, `*`, `NEAR(` are plain text.
    pub text: Option<String>,
    /// Detected language of the article (ISO 639-1).
    pub lang: Option<String>,
    /// An entity of the article, by canonical name or by the text of a
    /// mention, ignoring ASCII case.
    pub entity: Option<String>,
    /// Articles published on or after this date (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Most results to return; 0 means the default (20). At most 1000.
    pub limit: u32,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleSummary {
    /// Article id.
    pub article_id: String,
    /// Headline.
    pub title: Option<String>,
    /// Publication date as the article gives it.
    pub published: Option<String>,
    /// Site that served the page.
    pub site_name: Option<String>,
    /// Detected language.
    pub lang: Option<String>,
    /// The URL as requested.
    pub url: String,
    /// A short extract: around the matched words for a text search, else
    /// the beginning of the body.
    pub snippet: String,
}

/// A store of enriched articles, whatever the database behind it.
pub trait ArticleStore: Send + Sync + 'static {
    /// Insert or replace one article and everything derived from it, in one
    /// transaction.
    fn upsert(
        &self,
        event: &Envelope<Enriched>,
    ) -> impl Future<Output = Result<UpsertOutcome, StoreError>> + Send;

    /// Articles matching `q`, best match first for a text search, newest
    /// first otherwise.
    fn search(
        &self,
        q: &SearchQuery,
    ) -> impl Future<Output = Result<Vec<ArticleSummary>, StoreError>> + Send;

    /// The stored event of one article.
    fn get(
        &self,
        article_id: &str,
    ) -> impl Future<Output = Result<Option<Envelope<Enriched>>, StoreError>> + Send;

    /// Number of stored articles.
    fn count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The store stage: `enriched` → the database. Publishes nothing.
#[derive(Debug, Clone)]
pub struct StoreStage<S = SqliteStore> {
    store: S,
}

impl<S: ArticleStore> StoreStage<S> {
    /// A stage writing to `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store behind the stage (the search API shares it).
    pub fn store(&self) -> &S {
        &self.store
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
        match self.store.upsert(&input).await {
            Ok(outcome) => {
                tracing::debug!(article_id = %input.article_id, ?outcome, "stored");
                Ok(vec![])
            }
            Err(e) if e.is_transient() => Err(StageError::retry("db", e.to_string())),
            Err(e) => Err(StageError::reject("db", e.to_string())),
        }
    }
}
