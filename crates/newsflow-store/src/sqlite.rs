use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, SecondsFormat, Utc};
use newsflow_core::{Enriched, Envelope};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};

use crate::{ArticleStore, ArticleSummary, SearchQuery, StoreConfig, StoreError, UpsertOutcome};

/// Schema migrations, applied in order, each once, each in its own
/// transaction. Append only: a released migration is never edited.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../migrations/0001_init.sql"))];

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 1000;

/// Articles in one SQLite file (WAL mode, so searches do not block the
/// writer). Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The file behind `db`, or the reason it is refused.
fn sqlite_path(db: &str) -> Result<PathBuf, StoreError> {
    let db = db.trim();
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Err(StoreError::Unsupported(
            db.split('@').next_back().unwrap_or(db).to_string(),
        ));
    }
    let path = match db
        .strip_prefix("sqlite://")
        .or_else(|| db.strip_prefix("sqlite:"))
    {
        Some(rest) => rest.split('?').next().unwrap_or(rest),
        None if db.contains("://") => return Err(StoreError::Unsupported(db.to_string())),
        None => db,
    };
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(format!(
            "`{db}`: the store needs a database file (an in-memory database would be lost and not shared)"
        )));
    }
    Ok(PathBuf::from(path))
}

impl SqliteStore {
    /// Open (creating it if needed) the database `config.db` and bring its
    /// schema up to date.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        let path = sqlite_path(&config.db)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_millis(config.busy_timeout_ms))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .connect_with(options)
            .await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The database file's path, as configured.
    pub fn path_of(config: &StoreConfig) -> Result<PathBuf, StoreError> {
        sqlite_path(&config.db)
    }

    /// Apply the migrations this database lacks. `BEGIN IMMEDIATE` takes
    /// the write lock first, so two processes opening one new file apply
    /// each migration once between them.
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY NOT NULL,
                 applied_at TEXT NOT NULL
             )",
        )
        .execute(&self.pool)
        .await?;
        for (version, sql) in MIGRATIONS {
            let version = *version;
            let fail = |source| StoreError::Migration { version, source };
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let applied = sqlx::query("SELECT 1 FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if applied {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                .bind(version)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            tracing::info!(version, "applied store migration");
        }
        Ok(())
    }

    /// Versions of the applied migrations, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
    }

    /// Close the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn json_list(list: &[String]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(list)?)
}

/// Turn user text into an FTS5 query that means "all these words": each
/// word becomes a quoted string (inner quotes doubled), so operators,
/// column filters, `*`, `NEAR(` and unbalanced quotes are plain text.
/// Words with no letter or digit are dropped (the tokenizer ignores them).
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl ArticleStore for SqliteStore {
    async fn upsert(&self, event: &Envelope<Enriched>) -> Result<UpsertOutcome, StoreError> {
        let a = &event.data.article;
        let e = &event.data.enrichment;
        let enriched_at = event.time.to_rfc3339_opts(SecondsFormat::Micros, true);
        let event_json = serde_json::to_string(event)?;
        let (authors, sections, tags) = (
            json_list(&a.authors)?,
            json_list(&a.sections)?,
            json_list(&a.tags)?,
        );

        // IMMEDIATE: take the write lock before reading, so two writers of
        // the same article serialise instead of failing on a stale read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: Option<String> =
            sqlx::query("SELECT enriched_at FROM articles WHERE article_id = ?")
                .bind(&event.article_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get(0));
        if existing
            .as_deref()
            .is_some_and(|stored| stored > enriched_at.as_str())
        {
            return Ok(UpsertOutcome::Stale);
        }
        sqlx::query("DELETE FROM entities WHERE article_id = ?")
            .bind(&event.article_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM articles_fts WHERE article_id = ?")
            .bind(&event.article_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO articles (article_id, trace_id, url, final_url, canonical_url, title, authors,
                 published, modified, site_name, original_publisher, lang, lang_hint, description, image,
                 sections, tags, body_text, enriched_at, stored_at, schema_version, event)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (article_id) DO UPDATE SET
                 trace_id = excluded.trace_id, url = excluded.url, final_url = excluded.final_url,
                 canonical_url = excluded.canonical_url, title = excluded.title,
                 authors = excluded.authors, published = excluded.published,
                 modified = excluded.modified, site_name = excluded.site_name,
                 original_publisher = excluded.original_publisher, lang = excluded.lang,
                 lang_hint = excluded.lang_hint, description = excluded.description,
                 image = excluded.image, sections = excluded.sections, tags = excluded.tags,
                 body_text = excluded.body_text, enriched_at = excluded.enriched_at,
                 stored_at = excluded.stored_at, schema_version = excluded.schema_version,
                 event = excluded.event",
        )
        .bind(&event.article_id)
        .bind(&event.trace_id)
        .bind(&a.url)
        .bind(&a.final_url)
        .bind(&a.canonical_url)
        .bind(&a.title)
        .bind(&authors)
        .bind(&a.published)
        .bind(&a.modified)
        .bind(&a.site_name)
        .bind(&a.original_publisher)
        .bind(&e.lang)
        .bind(&a.lang_hint)
        .bind(&a.description)
        .bind(&a.image)
        .bind(&sections)
        .bind(&tags)
        .bind(&a.body_text)
        .bind(&enriched_at)
        .bind(now())
        .bind(i64::from(event.version))
        .bind(&event_json)
        .execute(&mut *tx)
        .await?;
        for ent in &e.entities {
            let label = match ent.label {
                newsflow_core::EntityLabel::PER => "PER",
                newsflow_core::EntityLabel::ORG => "ORG",
                newsflow_core::EntityLabel::LOC => "LOC",
            };
            // OR IGNORE: a producer listing one mention twice must not make
            // the whole article poison.
            sqlx::query(
                "INSERT OR IGNORE INTO entities (article_id, start, \"end\", label, text, canonical)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&event.article_id)
            .bind(i64::try_from(ent.start).unwrap_or(i64::MAX))
            .bind(i64::try_from(ent.end).unwrap_or(i64::MAX))
            .bind(label)
            .bind(&ent.text)
            .bind(&ent.canonical)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO articles_fts (article_id, title, body) VALUES (?, ?, ?)")
            .bind(&event.article_id)
            .bind(a.title.as_deref().unwrap_or(""))
            .bind(&a.body_text)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(if existing.is_some() {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Inserted
        })
    }

    async fn search(&self, q: &SearchQuery) -> Result<Vec<ArticleSummary>, StoreError> {
        let limit = match q.limit {
            0 => DEFAULT_LIMIT,
            n => n.min(MAX_LIMIT),
        };
        let since = match q.since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| {
                        StoreError::Query(format!("since `{s}` is not a YYYY-MM-DD date"))
                    })?
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            None => None,
        };
        let text = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let fts = match text {
            Some(t) => match fts_query(t) {
                Some(f) => Some(f),
                // Only punctuation: nothing can match it.
                None => return Ok(Vec::new()),
            },
            None => None,
        };

        // The SQL text is assembled from fixed fragments only; every value
        // is a bound parameter.
        let mut sql =
            String::from("SELECT a.article_id, a.title, a.published, a.site_name, a.lang, a.url, ");
        if fts.is_some() {
            sql.push_str(
                "snippet(articles_fts, 2, '', '', '…', 24) AS snip FROM articles_fts \
                 JOIN articles a ON a.article_id = articles_fts.article_id \
                 WHERE articles_fts MATCH ?",
            );
        } else {
            sql.push_str("substr(a.body_text, 1, 200) AS snip FROM articles a WHERE 1 = 1");
        }
        if q.lang.is_some() {
            sql.push_str(" AND a.lang = ?");
        }
        if q.entity.is_some() {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM entities e WHERE e.article_id = a.article_id \
                 AND (e.canonical = ? COLLATE NOCASE OR e.text = ? COLLATE NOCASE))",
            );
        }
        if since.is_some() {
            sql.push_str(" AND a.published >= ?");
        }
        sql.push_str(if fts.is_some() {
            " ORDER BY bm25(articles_fts), a.published DESC LIMIT ?"
        } else {
            " ORDER BY a.published DESC, a.stored_at DESC LIMIT ?"
        });

        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(f) = &fts {
            query = query.bind(f.clone());
        }
        if let Some(lang) = &q.lang {
            query = query.bind(lang.trim().to_ascii_lowercase());
        }
        if let Some(entity) = &q.entity {
            query = query
                .bind(entity.trim().to_string())
                .bind(entity.trim().to_string());
        }
        if let Some(since) = &since {
            query = query.bind(since.clone());
        }
        query = query.bind(i64::from(limit));
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ArticleSummary {
                    article_id: r.try_get("article_id")?,
                    title: r.try_get("title")?,
                    published: r.try_get("published")?,
                    site_name: r.try_get("site_name")?,
                    lang: r.try_get("lang")?,
                    url: r.try_get("url")?,
                    snippet: r.try_get::<Option<String>, _>("snip")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    async fn get(&self, article_id: &str) -> Result<Option<Envelope<Enriched>>, StoreError> {
        let row = sqlx::query("SELECT event FROM articles WHERE article_id = ?")
            .bind(article_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(serde_json::from_str(&r.try_get::<String, _>(0)?)?)),
            None => Ok(None),
        }
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query("SELECT count(*) FROM articles")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn paths_and_urls() {
        assert_eq!(
            sqlite_path("data/newsflow.db").unwrap(),
            Path::new("data/newsflow.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db").unwrap(),
            Path::new("/tmp/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite://rel/x.db?mode=rwc").unwrap(),
            Path::new("rel/x.db")
        );
        let err = sqlite_path("postgres://user:secret@db/newsflow").unwrap_err();
        assert!(matches!(err, StoreError::Unsupported(_)));
        assert!(err.to_string().contains("not supported yet"));
        assert!(
            !err.to_string().contains("secret"),
            "credentials must not leak: {err}"
        );
        assert!(matches!(
            sqlite_path("mysql://x/y"),
            Err(StoreError::Unsupported(_))
        ));
        assert!(matches!(
            sqlite_path(":memory:"),
            Err(StoreError::Config(_))
        ));
    }

    #[test]
    fn fts_queries_are_quoted() {
        assert_eq!(fts_query("Goita Bamako").unwrap(), "\"Goita\" \"Bamako\"");
        assert_eq!(fts_query("a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(fts_query("NEAR( x*").unwrap(), "\"NEAR(\" \"x*\"");
        assert_eq!(fts_query("\" * ( )"), None);
    }
}
