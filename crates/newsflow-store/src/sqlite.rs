use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use newsflow_core::{Enriched, Envelope};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::derive::{
    AliasRow, DERIVED_VERSION, Derived, EntityRow, PlaceRow, QuoteRow, SORT_KEY_HASH_BITS, sort_key,
};
use crate::fold::snippet;
use crate::query::{
    After, ArticleDetail, ArticlePlan, ArticleQuery, ArticleSummary, EntityCount, EntityInfo,
    EntityPlan, EntityQuery, GeoInfo, Page, PlaceInfo, QuoteHit, QuoteInfo, QuoteQuery,
    RANK_WINDOW, Sort, encode_cursor, next_cursor,
};
use crate::syndication::{self, COPY_COLUMNS, Copy, Linker, Merges, Rank, Step};
use crate::{ArticleStore, Backend, StoreConfig, StoreError, UpsertOutcome};

/// Schema migrations, applied in order, each once, each in its own
/// transaction. Append only: a released migration is never edited.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_queries.sql")),
    (
        3,
        include_str!("../migrations/sqlite/0003_leaner_index.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_entity_period.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_band_fingerprints.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_fewer_merges.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_arrival_order.sql"),
    ),
];

/// Words of a snippet.
const SNIPPET_WORDS: usize = 30;

/// Articles in one SQLite file (WAL mode, so searches do not block the
/// writer). Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    max_distance: u32,
    /// Articles written since the planner's statistics were refreshed.
    since_analyze: Arc<AtomicU64>,
    /// The one connection batches are written through (shared by clones).
    /// SQLite has one writer at a time anyway: a second batch waits for
    /// this connection, woken when the first commits, where SQLite's busy
    /// handler would poll (and sleep up to 100 ms); it is prepared before
    /// it waits. And the connection's page cache stays valid from one batch
    /// to the next (a connection drops its cache when another one wrote),
    /// which the full-text index's merges read again and again.
    writer: SqlitePool,
}

/// Page cache of the writer connection (`cache_size`, negative: KiB). The
/// full-text index's merges read back the segments they merge: with 16 MiB
/// they came from the kernel one page at a time (about 15 % slower at 60k
/// articles than 64 MiB). Beyond that it does not pay at 100k articles
/// (256 MiB: 1,596/s, 32 MiB: 1,575–1,700/s, same session), and the store
/// stage is to stay under 100 MB resident (with 64 MiB it peaked at 98 MiB
/// in `bench e2e`): 32 MiB. Only this connection has it (the readers
/// keep their small caches), and it fills only as the database grows.
const WRITER_CACHE: &str = "-32768";

/// WAL pages after which a commit of the writer copies the WAL into the
/// database (`wal_autocheckpoint`; SQLite's default is 1,000). A batch of
/// 500 articles is some 1,500 pages, so with the default every commit
/// copied its pages and synced the file; every 8,192 pages (128 MiB of
/// WAL), pages that several batches change (indexes, the full-text
/// index's structure) are copied once, and storing 60k articles went from
/// 1,790 to 2,010 per second.
const WRITER_CHECKPOINT_PAGES: &str = "8192";

/// Refresh the query planner's statistics after this many writes: SQLite
/// does not gather them by itself, and without them it cannot tell a
/// common place from a rare one.
const ANALYZE_EVERY: u64 = 20_000;

/// The file behind `db`, or the reason it is refused.
fn sqlite_path(db: &str) -> Result<PathBuf, StoreError> {
    let db = db.trim();
    if crate::is_postgres_url(db) {
        return Err(StoreError::Unsupported(format!(
            "{} is a PostgreSQL URL: open it with newsflow_store::open_store",
            crate::redact(db)
        )));
    }
    let path = match db
        .strip_prefix("sqlite://")
        .or_else(|| db.strip_prefix("sqlite:"))
    {
        Some(rest) => rest.split('?').next().unwrap_or(rest),
        None if db.contains("://") => {
            return Err(StoreError::Unsupported(format!(
                "{}: only SQLite paths, sqlite:// and postgres:// URLs are supported",
                crate::redact(db)
            )));
        }
        None => db,
    };
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Config(format!(
            "`{db}`: the store needs a database file (an in-memory database would be lost and not shared)"
        )));
    }
    Ok(PathBuf::from(path))
}

/// Fixed-width UTC text, so that text order is time order.
fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("stored time `{s}`: {e}")))
}

/// Whether an upsert may skip a stale event (a normal write) or rewrites
/// the derived rows of what is stored (a re-derivation after an upgrade).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Upsert,
    Rederive,
}

impl SqliteStore {
    /// Open (creating it if needed) the database `config.db` and bring its
    /// schema up to date.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        config.validate()?;
        // Two processes opening one new file race for locks SQLite will not
        // wait for (switching the journal to WAL, a deferred schema read
        // upgraded to a write): such a refusal is retried here, within the
        // configured busy timeout, instead of failing the start-up.
        let deadline =
            std::time::Instant::now() + Duration::from_millis(config.busy_timeout_ms.max(1));
        let mut pause = Duration::from_millis(10);
        loop {
            match Self::open_once(config).await {
                Err(e) if e.is_busy() && std::time::Instant::now() < deadline => {
                    tracing::debug!(error = %e, "database busy while opening; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    async fn open_once(config: &StoreConfig) -> Result<Self, StoreError> {
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
            .foreign_keys(true)
            .page_size(16384)
            // Each pooled connection has its own page cache: 16 MiB each
            // keeps a store process well under 100 MB resident; reads
            // beyond it come from the kernel's file cache. No mmap: mapped
            // pages count in the process's resident memory.
            .pragma("cache_size", "-16384")
            .pragma("mmap_size", "0")
            .pragma("temp_store", "memory");
        // The writer is one of the configured connections.
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.saturating_sub(1).max(1))
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(600))
            .connect_with(
                options
                    .pragma("cache_size", WRITER_CACHE)
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
            .await?;
        let store = Self {
            pool,
            max_distance: config.duplicate_max_distance,
            since_analyze: Arc::new(AtomicU64::new(0)),
            writer,
        };
        store.migrate().await?;
        store.rederive().await?;
        store.analyze().await?;
        Ok(store)
    }

    /// Refresh the planner's statistics where they are stale, reading a
    /// bounded sample of each index (cheap even on a large file).
    async fn analyze(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA analysis_limit = 1000")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA optimize = 0x10002")
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// The database file's path, as configured.
    pub fn path_of(config: &StoreConfig) -> Result<PathBuf, StoreError> {
        sqlite_path(&config.db)
    }

    /// Apply the migrations this database lacks. `BEGIN IMMEDIATE` takes
    /// the write lock first, so two processes opening one new file apply
    /// each migration once between them.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY NOT NULL,
                 applied_at TEXT NOT NULL
             )",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
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
                .bind(ts(&Utc::now()))
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            tracing::info!(version, "applied store migration");
        }
        Ok(())
    }

    /// Rebuild the derived rows of articles stored by an older version of
    /// this code, from their stored events, a batch per transaction.
    async fn rederive(&self) -> Result<(), StoreError> {
        let mut done = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT article_id, event, body_text FROM articles WHERE derived_version < ? LIMIT 500",
            )
            .bind(DERIVED_VERSION)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut events = Vec::new();
            let mut broken = Vec::new();
            for row in &rows {
                let id: String = row.try_get("article_id")?;
                match crate::derive::stored_event(row.try_get("event")?, row.try_get("body_text")?)
                {
                    Ok(ev) => events.push(ev),
                    Err(e) => {
                        tracing::warn!(article_id = %id, error = %e,
                            "stored event no longer decodes; its derived rows are left as they are");
                        broken.push(id);
                    }
                }
            }
            self.write_batch(&events, Mode::Rederive).await?;
            for id in &broken {
                sqlx::query("UPDATE articles SET derived_version = ? WHERE article_id = ?")
                    .bind(DERIVED_VERSION)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
            }
            done += rows.len() as u64;
        }
        if done > 0 {
            tracing::info!(articles = done, "re-derived stored articles");
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
        self.writer.close().await;
        self.pool.close().await;
    }

    /// What is stored of these articles now.
    async fn load_state(
        &self,
        conn: &mut SqliteConnection,
        ids: &[&str],
    ) -> Result<HashMap<String, Stored>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT article_id, enriched_at, first_stored_at, stored_at, sort_key, arrival, \
                 title, body_text FROM articles WHERE article_id IN (",
            );
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *conn).await? {
                let first: Option<&str> = r.try_get("first_stored_at")?;
                let stored = parse_ts(r.try_get("stored_at")?)?;
                out.insert(
                    r.try_get("article_id")?,
                    Stored {
                        enriched_at: parse_ts(r.try_get("enriched_at")?)?,
                        first_stored_at: first.map(parse_ts).transpose()?.unwrap_or(stored),
                        stored_at: stored,
                        sort_key: r.try_get("sort_key")?,
                        arrival: r.try_get("arrival")?,
                        indexed: Some((
                            r.try_get::<Option<String>, _>("title")?.unwrap_or_default(),
                            r.try_get("body_text")?,
                        )),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Give each article of a batch (distinct ids, each with the key it
    /// wants) a sort key no other article has: the rare collision of two
    /// ids in one minute is resolved by taking the next free key. A key an
    /// article of the batch holds now counts as taken even when it is about
    /// to move, so no statement of the batch ever meets a taken key,
    /// whatever order its rows are written in. The caller holds the write
    /// lock.
    async fn free_sort_keys(
        &self,
        conn: &mut SqliteConnection,
        wanted: &mut [(&str, i64)],
    ) -> Result<(), StoreError> {
        let mut used: HashSet<i64> = HashSet::with_capacity(wanted.len());
        let mut open: Vec<usize> = (0..wanted.len()).collect();
        for _ in 0..1000 {
            if open.is_empty() {
                return Ok(());
            }
            let mut held: HashMap<i64, String> = HashMap::new();
            for chunk in open.chunks(500) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "SELECT sort_key, article_id FROM articles WHERE sort_key IN (",
                );
                let mut list = qb.separated(", ");
                for &i in chunk {
                    list.push_bind(wanted[i].1);
                }
                qb.push(")");
                for r in qb.build().fetch_all(&mut *conn).await? {
                    held.insert(r.try_get(0)?, r.try_get(1)?);
                }
            }
            let mut still = Vec::new();
            for i in open {
                let (id, key) = wanted[i];
                let taken = held.get(&key).is_some_and(|holder| holder != id);
                if taken || !used.insert(key) {
                    wanted[i].1 = key.wrapping_add(1);
                    still.push(i);
                }
            }
            open = still;
        }
        Err(StoreError::Corrupt(format!(
            "no free sort key near {} for {}",
            wanted[open[0]].1, wanted[open[0]].0
        )))
    }

    /// Write the article rows of a batch (distinct ids, keys from
    /// `free_sort_keys`), many rows a statement; a new article with the
    /// original `link_rows` found for it (a stored one keeps its link).
    async fn write_article_rows(
        &self,
        conn: &mut SqliteConnection,
        rows: &[ArticleRow<'_>],
        originals: &HashMap<String, String>,
    ) -> Result<(), StoreError> {
        // 41 values a row, under SQLite's 32,766 variables a statement.
        for chunk in rows.chunks(200) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO articles (article_id, trace_id, url, final_url, canonical_url, title, authors,
                     published, modified, site_name, original_publisher, lang, lang_hint, description, image,
                     sections, tags, body_text, enriched_at, stored_at, schema_version, event,
                     site, site_key, republication, published_at, published_day, summary, keywords, tone,
                     fingerprint, fp_b0, fp_b1, fp_b2, fp_b3, first_stored_at, sort_at, sort_key,
                     derived_version, arrival, duplicate_of) ",
            );
            qb.push_values(chunk, |mut b, r| {
                let d = r.derived;
                let bands = d.fingerprint.map(syndication::bands);
                let band = |i: usize| bands.map(|b| b[i]);
                b.push_bind(d.article_id.as_str())
                    .push_bind(d.trace_id.as_str())
                    .push_bind(d.url.as_str())
                    .push_bind(d.final_url.as_deref())
                    .push_bind(d.canonical_url.as_deref())
                    .push_bind(d.title.as_deref())
                    .push_bind(d.authors.as_str())
                    .push_bind(d.published.as_deref())
                    .push_bind(d.modified.as_deref())
                    .push_bind(d.site_name.as_deref())
                    .push_bind(d.original_publisher.as_deref())
                    .push_bind(d.lang.as_str())
                    .push_bind(d.lang_hint.as_deref())
                    .push_bind(d.description.as_deref())
                    .push_bind(d.image.as_deref())
                    .push_bind(d.sections.as_str())
                    .push_bind(d.tags.as_str())
                    .push_bind(d.body_text.as_str())
                    .push_bind(ts(&d.enriched_at))
                    .push_bind(ts(&r.stored))
                    .push_bind(d.schema_version)
                    .push_bind(d.event_json.as_str())
                    .push_bind(d.site.as_deref())
                    .push_bind(d.site_key.as_deref())
                    .push_bind(d.republication)
                    .push_bind(d.published_at.as_ref().map(ts))
                    .push_bind(d.published_day.as_deref())
                    .push_bind(d.summary.as_deref())
                    .push_bind(d.keywords.as_str())
                    .push_bind(d.tone)
                    .push_bind(d.fingerprint.map(syndication::to_db))
                    .push_bind(band(0))
                    .push_bind(band(1))
                    .push_bind(band(2))
                    .push_bind(band(3))
                    .push_bind(ts(&r.first_stored))
                    .push_bind(ts(&r.sort_at))
                    .push_bind(r.key)
                    .push_bind(DERIVED_VERSION)
                    .push_bind(r.arrival)
                    .push_bind(originals.get(&d.article_id).map(String::as_str));
            });
            qb.push(
                " ON CONFLICT (article_id) DO UPDATE SET
                     trace_id = excluded.trace_id, url = excluded.url, final_url = excluded.final_url,
                     canonical_url = excluded.canonical_url, title = excluded.title,
                     authors = excluded.authors, published = excluded.published,
                     modified = excluded.modified, site_name = excluded.site_name,
                     original_publisher = excluded.original_publisher, lang = excluded.lang,
                     lang_hint = excluded.lang_hint, description = excluded.description,
                     image = excluded.image, sections = excluded.sections, tags = excluded.tags,
                     body_text = excluded.body_text, enriched_at = excluded.enriched_at,
                     stored_at = excluded.stored_at, schema_version = excluded.schema_version,
                     event = excluded.event, site = excluded.site, site_key = excluded.site_key,
                     republication = excluded.republication, published_at = excluded.published_at,
                     published_day = excluded.published_day, summary = excluded.summary,
                     keywords = excluded.keywords, tone = excluded.tone,
                     fingerprint = excluded.fingerprint, fp_b0 = excluded.fp_b0,
                     fp_b1 = excluded.fp_b1, fp_b2 = excluded.fp_b2, fp_b3 = excluded.fp_b3,
                     first_stored_at = excluded.first_stored_at, sort_at = excluded.sort_at,
                     sort_key = excluded.sort_key, derived_version = excluded.derived_version,
                     arrival = coalesce(articles.arrival, excluded.arrival)",
            );
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Replace the entity, alias, place, quote and full-text rows of
    /// `rows` (each with its new sort key), with one statement per table
    /// and chunk rather than one per row. Only the articles `replaced`
    /// (stored before this batch) have rows to delete.
    async fn replace_derived_rows(
        &self,
        conn: &mut SqliteConnection,
        rows: &[(&Derived, i64, i64)],
        replaced: &[i64],
        old_entries: &[&(i64, String, String)],
    ) -> Result<(), StoreError> {
        for table in ["entities", "entity_aliases", "places", "quotes"] {
            for chunk in replaced.chunks(500) {
                let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM ");
                qb.push(table).push(" WHERE arrival IN (");
                let mut list = qb.separated(", ");
                for arrival in chunk {
                    list.push_bind(*arrival);
                }
                qb.push(")");
                qb.build().execute(&mut *conn).await?;
            }
        }
        // The full-text index is written in rowid order: FTS5 writes out
        // what it holds in memory as a new segment whenever a rowid is
        // lower than the one before, and the sort keys of a batch (in id
        // order) go up and down. Written in id order, a batch of 500 made
        // some 250 tiny segments, whose merging took 80 % of the time of
        // a write (a batch in key order makes one).
        let mut old_entries = old_entries.to_vec();
        old_entries.sort_unstable_by_key(|(key, _, _)| *key);
        for chunk in old_entries.chunks(1000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO articles_fts (articles_fts, rowid, title, body) ",
            );
            qb.push_values(chunk, |mut b, (key, title, body)| {
                b.push_bind("delete")
                    .push_bind(*key)
                    .push_bind(title.as_str())
                    .push_bind(body.as_str());
            });
            qb.build().execute(&mut *conn).await?;
        }

        // In arrival order: the tables are clustered by it, so the rows of
        // new articles go to their ends.
        let mut rows = rows.to_vec();
        rows.sort_unstable_by_key(|&(_, _, arrival)| arrival);
        let entities: Vec<(&Derived, i64, &EntityRow)> = rows
            .iter()
            .flat_map(|&(d, _, arrival)| d.entities.iter().map(move |e| (d, arrival, e)))
            .collect();
        for chunk in entities.chunks(2000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO entities (arrival, article_id, label, canonical, canonical_key, mentions, \
                 aliases, geonames_id, lat, lon, country, kind, published_us) ",
            );
            qb.push_values(chunk, |mut b, &(d, arrival, e)| {
                let g = e.geo.as_ref();
                b.push_bind(arrival)
                    .push_bind(d.article_id.as_str())
                    .push_bind(e.label)
                    .push_bind(e.canonical.as_str())
                    .push_bind(e.canonical_key.as_str())
                    .push_bind(e.mentions)
                    .push_bind(e.aliases.as_str())
                    .push_bind(g.map(|g| g.geonames_id as i64))
                    .push_bind(g.map(|g| g.lat))
                    .push_bind(g.map(|g| g.lon))
                    .push_bind(g.map(|g| g.country_code.clone()).filter(|c| !c.is_empty()))
                    .push_bind(g.map(|g| g.kind.clone()))
                    .push_bind(d.published_us());
            });
            qb.build().execute(&mut *conn).await?;
        }
        let aliases: Vec<(i64, &AliasRow)> = rows
            .iter()
            .flat_map(|&(d, _, arrival)| d.aliases.iter().map(move |a| (arrival, a)))
            .collect();
        for chunk in aliases.chunks(5000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO entity_aliases (alias_key, label, arrival) ",
            );
            qb.push_values(chunk, |mut b, &(arrival, a)| {
                b.push_bind(a.alias_key.as_str())
                    .push_bind(a.label)
                    .push_bind(arrival);
            });
            qb.build().execute(&mut *conn).await?;
        }
        let places: Vec<(&str, i64, &PlaceRow)> = rows
            .iter()
            .flat_map(|&(d, _, arrival)| {
                d.places
                    .iter()
                    .map(move |p| (d.article_id.as_str(), arrival, p))
            })
            .collect();
        for chunk in places.chunks(2000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO places (arrival, article_id, name_key, name, mentions, geonames_id, lat, lon, \
                 country, kind) ",
            );
            qb.push_values(chunk, |mut b, &(id, arrival, p)| {
                let g = p.geo.as_ref();
                b.push_bind(arrival)
                    .push_bind(id)
                    .push_bind(p.name_key.as_str())
                    .push_bind(p.name.as_str())
                    .push_bind(p.mentions)
                    .push_bind(g.map(|g| g.geonames_id as i64))
                    .push_bind(g.map(|g| g.lat))
                    .push_bind(g.map(|g| g.lon))
                    .push_bind(g.map(|g| g.country_code.clone()).filter(|c| !c.is_empty()))
                    .push_bind(g.map(|g| g.kind.clone()));
            });
            qb.build().execute(&mut *conn).await?;
        }
        let quotes: Vec<(&str, i64, &QuoteRow)> = rows
            .iter()
            .flat_map(|&(d, _, arrival)| {
                d.quotes
                    .iter()
                    .map(move |q| (d.article_id.as_str(), arrival, q))
            })
            .collect();
        for chunk in quotes.chunks(2000) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO quotes (arrival, article_id, seq, speaker, speaker_key, speaker_last, text, \
                 start, \"end\") ",
            );
            qb.push_values(chunk, |mut b, &(id, arrival, q)| {
                b.push_bind(arrival)
                    .push_bind(id)
                    .push_bind(q.seq)
                    .push_bind(q.speaker.as_deref())
                    .push_bind(q.speaker_key.as_deref())
                    .push_bind(q.speaker_last.as_deref())
                    .push_bind(q.text.as_str())
                    .push_bind(q.start)
                    .push_bind(q.end);
            });
            qb.build().execute(&mut *conn).await?;
        }
        let mut by_key = rows;
        by_key.sort_unstable_by_key(|&(_, key, _)| key);
        for chunk in by_key.chunks(1000) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("INSERT INTO articles_fts (rowid, title, body) ");
            qb.push_values(chunk, |mut b, (d, key, _)| {
                b.push_bind(*key)
                    .push_bind(d.title.as_deref().unwrap_or_default())
                    .push_bind(d.body_text.as_str());
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// The stored articles that may be copies of `fps` (id, fingerprint),
    /// or are one of them, in a [`Linker`].
    ///
    /// The candidates are found in two steps: the fingerprints sharing a
    /// band with one of the batch's, from the band indexes alone (they hold
    /// the fingerprint), then the rows of those near enough. Reading the
    /// row of every article sharing a band (about 3,000 a batch at 100k
    /// articles, nearly all of them far) cost 8 % of a write.
    async fn load_linker(
        &self,
        conn: &mut SqliteConnection,
        fps: &[(&str, u64)],
    ) -> Result<Linker, StoreError> {
        let mut linker = Linker::new(self.max_distance);
        let batch: Vec<u64> = fps.iter().map(|(_, fp)| *fp).collect();
        let mut near: Vec<i64> = Vec::new();
        for chunk in fps.chunks(40) {
            let values: Vec<u64> = chunk.iter().map(|(_, fp)| *fp).collect();
            let probes = syndication::batch_probes(&values, self.max_distance);
            let mut qb = QueryBuilder::<Sqlite>::new("");
            for (i, values) in probes.iter().enumerate() {
                if i > 0 {
                    qb.push(" UNION ALL ");
                }
                qb.push(format_args!(
                    "SELECT rowid, fingerprint FROM articles WHERE fp_b{i} IN ("
                ));
                let mut list = qb.separated(", ");
                for v in values {
                    list.push_bind(*v);
                }
                qb.push(")");
            }
            for r in qb.build().fetch_all(&mut *conn).await? {
                let Some(fp) = r.try_get::<Option<i64>, _>(1)?.map(syndication::from_db) else {
                    continue;
                };
                if batch
                    .iter()
                    .any(|&b| syndication::distance(b, fp) <= self.max_distance)
                {
                    near.push(r.try_get(0)?);
                }
            }
        }
        near.sort_unstable();
        near.dedup();
        for chunk in fps.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
            qb.push(COPY_COLUMNS)
                .push(" FROM articles WHERE article_id IN (");
            let mut list = qb.separated(", ");
            for (id, _) in chunk {
                list.push_bind(*id);
            }
            qb.push(")");
            let rows = qb.build().fetch_all(&mut *conn).await?;
            linker.add(rows.iter().map(copy_of).collect::<Result<Vec<_>, _>>()?);
        }
        for chunk in near.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
            qb.push(COPY_COLUMNS)
                .push(" FROM articles WHERE rowid IN (");
            let mut list = qb.separated(", ");
            for rowid in chunk {
                list.push_bind(*rowid);
            }
            qb.push(")");
            let rows = qb.build().fetch_all(&mut *conn).await?;
            linker.add(rows.iter().map(copy_of).collect::<Result<Vec<_>, _>>()?);
        }
        Ok(linker)
    }

    /// Link the batch's articles `rows` with their copies (see
    /// `syndication`) before they are written: the original each of them
    /// points at (every row that has a fingerprint), and the merges to
    /// write for the articles stored before (only when an original comes
    /// after its copies, as a rule). A copy is thus written once, linked,
    /// instead of being written and then rewritten (SQLite rewrites a
    /// whole row, body included: 18 % of a batch's time at one copy in
    /// ten, storing a year's archive in random order). Exact because the
    /// caller holds the write lock.
    async fn link_rows(
        &self,
        conn: &mut SqliteConnection,
        rows: &[ArticleRow<'_>],
    ) -> Result<(HashMap<String, String>, Merges), StoreError> {
        let fps: Vec<(&str, u64)> = rows
            .iter()
            .filter_map(|r| {
                let d = r.derived;
                d.fingerprint.map(|fp| (d.article_id.as_str(), fp))
            })
            .collect();
        let mut merges = Merges::default();
        if fps.is_empty() {
            return Ok((HashMap::new(), merges));
        }
        let mut linker = self.load_linker(conn, &fps).await?;
        // The rows as they are about to be written (a stored one keeps its
        // link until a merge changes it).
        let written: Vec<Copy> = rows
            .iter()
            .filter(|r| r.derived.fingerprint.is_some())
            .map(|r| {
                let stored_link = linker.original_of(&r.derived.article_id);
                Copy::of_row(r.derived, r.first_stored, stored_link.map(str::to_string))
            })
            .collect();
        linker.add(written);
        for (id, _) in &fps {
            loop {
                match linker.link(id) {
                    Step::Done => break,
                    Step::Need(ids) => {
                        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
                        qb.push(COPY_COLUMNS)
                            .push(" FROM articles WHERE article_id IN (");
                        let mut list = qb.separated(", ");
                        for id in &ids {
                            list.push_bind(id.clone());
                        }
                        qb.push(")");
                        let rows = qb.build().fetch_all(&mut *conn).await?;
                        let found = rows.iter().map(copy_of).collect::<Result<Vec<_>, _>>()?;
                        linker.add(syndication::with_placeholders(&ids, found));
                    }
                    Step::Merge { best, roots } => {
                        merges.add(&best, &roots);
                        break;
                    }
                }
            }
        }
        let originals = fps
            .iter()
            .filter_map(|(id, _)| Some((id.to_string(), linker.original_of(id)?.to_string())))
            .collect();
        Ok((originals, merges))
    }

    /// Write `merges` to the stored articles: each root, and every article
    /// pointing at it, points at the root's last original. The batch's own
    /// rows were written with their originals and are left as they are.
    async fn write_merges(
        &self,
        conn: &mut SqliteConnection,
        merges: &Merges,
    ) -> Result<(), StoreError> {
        let (roots, originals) = merges.resolved();
        for (root, original) in roots.iter().zip(&originals) {
            sqlx::query(
                "UPDATE articles SET duplicate_of = nullif(?1, article_id) \
                 WHERE (article_id = ?2 OR duplicate_of = ?2) \
                 AND duplicate_of IS NOT nullif(?1, article_id)",
            )
            .bind(original)
            .bind(root)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Whether a listing without words should walk the articles newest
    /// first, testing each one against the article sets of its entity,
    /// place and country filters, rather than read every article of the
    /// smallest set and sort them.
    ///
    /// Walking reads about `page × articles / set` articles (fewer, the
    /// more common the set), reading the set reads `set` of them: walk when
    /// the set's size squared exceeds page × articles. SQLite's planner
    /// chose from sampled statistics that took a place named by 12,000 of
    /// 100,000 articles for one named by 200, and read all 12,000 (150 ms;
    /// 7 ms walking). The sizes come from the filters' own indexes.
    async fn walk_newest(&self, plan: &ArticlePlan) -> Result<bool, StoreError> {
        let f = &plan.filters;
        let mut sizes: Vec<QueryBuilder<Sqlite>> = Vec::new();
        if let Some(key) = &f.entity_key {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT (SELECT count(*) FROM entities WHERE canonical_key = ",
            );
            qb.push_bind(key.clone());
            if let Some(label) = &f.label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(") + (SELECT count(*) FROM entity_aliases WHERE alias_key = ")
                .push_bind(key.clone());
            if let Some(label) = &f.label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(")");
            sizes.push(qb);
        }
        if let Some(place) = &f.place_key {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT count(*) FROM places WHERE name_key = ");
            qb.push_bind(place.clone());
            sizes.push(qb);
        }
        if let Some(country) = &f.country {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT count(*) FROM places WHERE country = ");
            qb.push_bind(country.clone());
            sizes.push(qb);
        }
        if sizes.is_empty() {
            return Ok(false);
        }
        let mut smallest = i64::MAX;
        for mut qb in sizes {
            let n: i64 = qb.build().fetch_one(&self.pool).await?.try_get(0)?;
            smallest = smallest.min(n);
        }
        // Rowids are given in order and articles are never deleted: the
        // largest is about the number of articles (one index step).
        let articles: i64 = sqlx::query("SELECT coalesce(max(rowid), 0) FROM articles")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(
            smallest.saturating_mul(smallest)
                > (i64::from(plan.limit) + 1).saturating_mul(articles),
        )
    }

    /// Group the entity rows `qb` selects (as `e`) into the top `limit`
    /// entities by articles, then mentions: the end both entity queries
    /// share.
    async fn entity_counts(
        &self,
        mut qb: QueryBuilder<Sqlite>,
        limit: u32,
    ) -> Result<Vec<EntityCount>, StoreError> {
        qb.push(
            " GROUP BY e.canonical_key, e.label \
             ORDER BY articles DESC, mentions DESC, e.canonical_key, e.label LIMIT ",
        )
        .push_bind(i64::from(limit));
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(entity_count)
            .collect()
    }

    /// Top entities of a publication period (without a language filter):
    /// a range of the entity rows' period index, less the period's copies.
    async fn top_entities_of_period(
        &self,
        plan: &EntityPlan,
    ) -> Result<Vec<EntityCount>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT max(e.canonical) AS canonical, e.label, count(*) AS articles, \
             sum(e.mentions) AS mentions FROM entities e WHERE e.published_us IS NOT NULL",
        );
        if let Some(label) = &plan.label {
            qb.push(" AND e.label = ").push_bind(label.clone());
        }
        if let Some(since) = &plan.since {
            qb.push(" AND e.published_us >= ")
                .push_bind(since.timestamp_micros());
        }
        if let Some(until) = &plan.until {
            qb.push(" AND e.published_us < ")
                .push_bind(until.timestamp_micros());
        }
        if plan.exclude_duplicates {
            qb.push(
                " AND e.arrival NOT IN (SELECT a.arrival FROM articles a \
                 WHERE a.duplicate_of IS NOT NULL",
            );
            if let Some(since) = &plan.since {
                qb.push(" AND a.published_at >= ").push_bind(ts(since));
            }
            if let Some(until) = &plan.until {
                qb.push(" AND a.published_at < ").push_bind(ts(until));
            }
            qb.push(")");
        }
        self.entity_counts(qb, plan.limit).await
    }

    /// Write a batch in one transaction: article rows one by one (each
    /// checked against what is stored, so an older event never overwrites
    /// a newer one), then the derived rows of every written article with a
    /// statement per table, then the links between copies.
    async fn write_batch(
        &self,
        events: &[Envelope<Enriched>],
        mode: Mode,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let derived = events
            .iter()
            .map(Derived::from_event)
            .collect::<Result<Vec<_>, _>>()?;
        // IMMEDIATE: take the write lock before reading, so two writers of
        // the same article serialise instead of failing on a stale read.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<&str> = derived.iter().map(|d| d.article_id.as_str()).collect();
        let mut state = self.load_state(&mut tx, &ids).await?;
        // Articles stored before this batch: only they have derived rows
        // to delete.
        let existed: HashSet<String> = state.keys().cloned().collect();
        // The full-text entries as they are before this batch.
        let initial: HashMap<String, (i64, String, String)> = state
            .iter()
            .filter_map(|(id, s)| {
                let (title, body) = s.indexed.clone()?;
                Some((id.clone(), (s.sort_key?, title, body)))
            })
            .collect();
        let now = Utc::now();
        let mut outcomes = Vec::with_capacity(derived.len());
        // The version written, per id: the last one not stale (an id may
        // come twice in a batch; its earlier versions are never written).
        let mut last: HashMap<&str, ArticleRow> = HashMap::new();
        for d in &derived {
            let prev = state.get(&d.article_id);
            if mode == Mode::Upsert && prev.is_some_and(|p| p.enriched_at > d.enriched_at) {
                outcomes.push(UpsertOutcome::Stale);
                continue;
            }
            let first = prev.map_or(now, |p| p.first_stored_at);
            let arrival = prev.and_then(|p| p.arrival);
            let stored = match (mode, prev) {
                (Mode::Rederive, Some(p)) => p.stored_at,
                _ => now,
            };
            let sort_at = d.published_at.unwrap_or(first);
            let key = match prev.and_then(|p| p.sort_key) {
                // Keep a key that still sorts right (it may have been bumped).
                Some(k)
                    if k >> SORT_KEY_HASH_BITS
                        == sort_key(sort_at, &d.article_id) >> SORT_KEY_HASH_BITS =>
                {
                    k
                }
                _ => sort_key(sort_at, &d.article_id),
            };
            outcomes.push(if prev.is_some() {
                UpsertOutcome::Updated
            } else {
                UpsertOutcome::Inserted
            });
            state.insert(
                d.article_id.clone(),
                Stored {
                    enriched_at: d.enriched_at,
                    first_stored_at: first,
                    stored_at: stored,
                    sort_key: Some(key),
                    arrival,
                    indexed: None,
                },
            );
            last.insert(
                &d.article_id,
                ArticleRow {
                    derived: d,
                    arrival,
                    first_stored: first,
                    stored,
                    sort_at,
                    key,
                },
            );
        }
        let mut pending: Vec<ArticleRow> = last.into_values().collect();
        pending.sort_by(|a, b| a.derived.article_id.cmp(&b.derived.article_id));
        // New articles are numbered after every stored one (the write lock
        // is held, so no other writer numbers at the same time).
        if pending.iter().any(|r| r.arrival.is_none()) {
            let mut next: i64 =
                sqlx::query_scalar("SELECT coalesce(max(arrival), 0) FROM articles")
                    .fetch_one(&mut *tx)
                    .await?;
            for r in pending.iter_mut().filter(|r| r.arrival.is_none()) {
                next += 1;
                r.arrival = Some(next);
            }
        }
        let mut keys: Vec<(&str, i64)> = pending
            .iter()
            .map(|r| (r.derived.article_id.as_str(), r.key))
            .collect();
        self.free_sort_keys(&mut tx, &mut keys).await?;
        for (r, (_, key)) in pending.iter_mut().zip(&keys) {
            r.key = *key;
        }
        let (originals, merges) = self.link_rows(&mut tx, &pending).await?;
        self.write_article_rows(&mut tx, &pending, &originals)
            .await?;
        let written: Vec<(&Derived, i64, i64)> = pending
            .iter()
            .map(|r| (r.derived, r.key, r.arrival.unwrap_or_default()))
            .collect();
        if !written.is_empty() {
            let old: Vec<&(i64, String, String)> = written
                .iter()
                .filter_map(|(d, _, _)| initial.get(&d.article_id))
                .collect();
            let replaced: Vec<i64> = written
                .iter()
                .filter(|(d, _, _)| existed.contains(&d.article_id))
                .map(|&(_, _, arrival)| arrival)
                .collect();
            self.replace_derived_rows(&mut tx, &written, &replaced, &old)
                .await?;
        }
        if !merges.is_empty() {
            self.write_merges(&mut tx, &merges).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// An article row to write, with the times and sort key it gets.
struct ArticleRow<'a> {
    derived: &'a Derived,
    /// Its arrival number: kept once given; `None` for a new article
    /// until the batch numbers its new articles.
    arrival: Option<i64>,
    first_stored: DateTime<Utc>,
    stored: DateTime<Utc>,
    sort_at: DateTime<Utc>,
    key: i64,
}

/// What is stored of an article, as a batch write needs it.
#[derive(Debug, Clone)]
struct Stored {
    enriched_at: DateTime<Utc>,
    first_stored_at: DateTime<Utc>,
    stored_at: DateTime<Utc>,
    sort_key: Option<i64>,
    /// Its arrival number (see migration 7), `None` until it is stored.
    arrival: Option<i64>,
    /// The title and body its full-text entry was made from (to remove
    /// that entry), or `None` for a version written in this batch. An
    /// article has an entry exactly when its sort key is set.
    indexed: Option<(String, String)>,
}

fn copy_of(r: &SqliteRow) -> Result<Copy, StoreError> {
    Ok(Copy {
        rank: Rank {
            republication: r.try_get("republication")?,
            published_day: r.try_get::<Option<String>, _>("published_day")?.into(),
            first_stored_at: parse_ts(r.try_get("first_stored_at")?)?,
            article_id: r.try_get("article_id")?,
        },
        fingerprint: r
            .try_get::<Option<i64>, _>("fingerprint")?
            .map(syndication::from_db),
        duplicate_of: r.try_get("duplicate_of")?,
    })
}

/// Turn folded words into an FTS5 query meaning "all these words": each
/// becomes a quoted string, so operators, column filters, `*` and `NEAR(`
/// are plain text.
fn fts_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `LIKE` pattern matching any subdomain of `host`.
fn subdomain_pattern(host: &str) -> String {
    let escaped = host
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%.{escaped}")
}

const SUMMARY_COLUMNS: &str = "a.article_id, a.title, a.published, a.site_name, a.lang, a.url, \
     a.site, a.original_publisher, a.duplicate_of, a.sort_key";

/// The filters as SQL conditions on `a`. `key_range` adds the sort-key
/// range of the period (for plans driven by the articles table; a plan
/// driven by the full-text index puts it on the index instead, so that the
/// planner keeps the index as the outer loop).
///
/// `walk` keeps the sets of articles of the entity, place and country
/// filters from driving the plan (`+a.article_id`): the articles are then
/// walked in the order of the query, each one tested against the sets.
fn push_filters(qb: &mut QueryBuilder<Sqlite>, plan: &ArticlePlan, key_range: bool, walk: bool) {
    let f = &plan.filters;
    let member = if walk {
        " AND +a.arrival IN (SELECT arrival FROM "
    } else {
        " AND a.arrival IN (SELECT arrival FROM "
    };
    if let Some(lang) = &f.lang {
        qb.push(" AND a.lang = ").push_bind(lang.clone());
    }
    match (&f.entity_key, &f.label) {
        (Some(key), label) => {
            // By canonical name or by another name it goes by.
            qb.push(member)
                .push("entities WHERE canonical_key = ")
                .push_bind(key.clone());
            if let Some(label) = label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(" UNION SELECT arrival FROM entity_aliases WHERE alias_key = ")
                .push_bind(key.clone());
            if let Some(label) = label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(")");
        }
        (None, Some(label)) => {
            qb.push(
                " AND EXISTS (SELECT 1 FROM entities e WHERE e.arrival = a.arrival AND e.label = ",
            )
            .push_bind(label.clone())
            .push(")");
        }
        (None, None) => {}
    }
    if let Some(place) = &f.place_key {
        qb.push(member)
            .push("places WHERE name_key = ")
            .push_bind(place.clone())
            .push(")");
    }
    if let Some(country) = &f.country {
        qb.push(member)
            .push("places WHERE country = ")
            .push_bind(country.clone())
            .push(")");
    }
    if let Some((host, name)) = &f.site {
        qb.push(" AND (a.site = ")
            .push_bind(host.clone())
            .push(" OR a.site LIKE ")
            .push_bind(subdomain_pattern(host))
            .push(" ESCAPE '\\' OR a.site_key = ")
            .push_bind(name.clone())
            .push(")");
    }
    if let Some(since) = &f.since {
        qb.push(" AND a.published_at >= ").push_bind(ts(since));
    }
    if let Some(until) = &f.until {
        qb.push(" AND a.published_at < ").push_bind(ts(until));
    }
    let (lo, hi) = f.key_range();
    if let (true, Some(lo)) = (key_range, lo) {
        qb.push(" AND a.sort_key >= ").push_bind(lo);
    }
    if let (true, Some(hi)) = (key_range, hi) {
        qb.push(" AND a.sort_key < ").push_bind(hi);
    }
    if f.exclude_duplicates {
        qb.push(" AND a.duplicate_of IS NULL");
    }
}

fn summary_of(r: &SqliteRow, terms: &[String]) -> Result<(ArticleSummary, i64), StoreError> {
    let body: String = r.try_get("body")?;
    Ok((
        ArticleSummary {
            article_id: r.try_get("article_id")?,
            title: r.try_get("title")?,
            published: r.try_get("published")?,
            site_name: r.try_get("site_name")?,
            lang: r.try_get("lang")?,
            url: r.try_get("url")?,
            snippet: snippet(&body, terms, SNIPPET_WORDS),
            site: r.try_get("site")?,
            original_publisher: r.try_get("original_publisher")?,
            duplicate_of: r.try_get("duplicate_of")?,
        },
        r.try_get("sort_key")?,
    ))
}

fn entity_count(r: &SqliteRow) -> Result<EntityCount, StoreError> {
    Ok(EntityCount {
        canonical: r.try_get("canonical")?,
        label: r.try_get("label")?,
        articles: u64::try_from(r.try_get::<i64, _>("articles")?).unwrap_or(0),
        mentions: u64::try_from(r.try_get::<i64, _>("mentions")?).unwrap_or(0),
    })
}

fn geo_of(r: &SqliteRow) -> Result<Option<GeoInfo>, StoreError> {
    let (Some(lat), Some(lon)) = (
        r.try_get::<Option<f64>, _>("lat")?,
        r.try_get::<Option<f64>, _>("lon")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(GeoInfo {
        geonames_id: r
            .try_get::<Option<i64>, _>("geonames_id")?
            .map_or(0, |g| u64::try_from(g).unwrap_or(0)),
        lat,
        lon,
        country_code: r
            .try_get::<Option<String>, _>("country")?
            .unwrap_or_default(),
        kind: r.try_get::<Option<String>, _>("kind")?.unwrap_or_default(),
    }))
}

impl ArticleStore for SqliteStore {
    async fn upsert_batch(
        &self,
        events: &[Envelope<Enriched>],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let out = self.write_batch(events, Mode::Upsert).await?;
        let n = events.len() as u64;
        if self.since_analyze.fetch_add(n, Ordering::Relaxed) + n >= ANALYZE_EVERY {
            self.since_analyze.store(0, Ordering::Relaxed);
            if let Err(e) = self.analyze().await {
                tracing::warn!(error = %e, "refreshing the query planner's statistics failed");
            }
        }
        Ok(out)
    }

    async fn articles(&self, q: &ArticleQuery) -> Result<Page<ArticleSummary>, StoreError> {
        let plan = q.plan()?;
        let terms = plan.filters.terms.clone().unwrap_or_default();
        if plan.filters.terms.as_ref().is_some_and(Vec::is_empty) {
            // Only punctuation: nothing can match it.
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        }
        // Without words the snippet is the start of the body: read no more.
        let body = if terms.is_empty() {
            ", substr(a.body_text, 1, 1000) AS body"
        } else {
            ", a.body_text AS body"
        };
        let relevance = plan.sort == Sort::Relevance;
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        qb.push(SUMMARY_COLUMNS).push(body);
        if terms.is_empty() {
            let walk = self.walk_newest(&plan).await?;
            qb.push(" FROM articles a WHERE 1 = 1");
            push_filters(&mut qb, &plan, true, walk);
            if let After::Key(k, _) = &plan.after {
                qb.push(" AND a.sort_key < ").push_bind(*k);
            }
            qb.push(" ORDER BY a.sort_key DESC");
        } else {
            // The matches come from the full-text index, walked newest
            // first (its rowid is the sort key) within the period's key
            // range, and stop at the page (or, for relevance, at the
            // RANK_WINDOW newest, which bm25 then ranks).
            let f = &plan.filters;
            // A selective filter is evaluated once, as a set of keys; the
            // others row by row on the joined article.
            let selective = f.entity_key.is_some()
                || f.place_key.is_some()
                || f.country.is_some()
                || f.site.is_some();
            qb.push(" FROM (SELECT f.rowid AS k");
            if relevance {
                qb.push(", bm25(articles_fts, 4.0, 1.0) AS score");
            }
            if selective {
                qb.push(" FROM articles_fts f WHERE articles_fts MATCH ")
                    .push_bind(fts_query(&terms))
                    .push(" AND f.rowid IN (SELECT a.sort_key FROM articles a WHERE 1 = 1");
                push_filters(&mut qb, &plan, true, false);
                qb.push(")");
            } else {
                // CROSS JOIN keeps the index as the outer loop.
                qb.push(
                    " FROM articles_fts f CROSS JOIN articles a ON a.sort_key = f.rowid \
                     WHERE articles_fts MATCH ",
                )
                .push_bind(fts_query(&terms));
                push_filters(&mut qb, &plan, false, false);
            }
            let (lo, hi) = f.key_range();
            if let Some(lo) = lo {
                qb.push(" AND f.rowid >= ").push_bind(lo);
            }
            if let Some(hi) = hi {
                qb.push(" AND f.rowid < ").push_bind(hi);
            }
            if let After::Key(k, _) = &plan.after {
                qb.push(" AND f.rowid < ").push_bind(*k);
            }
            qb.push(" ORDER BY f.rowid DESC LIMIT ")
                .push_bind(if relevance {
                    i64::from(RANK_WINDOW)
                } else {
                    i64::from(plan.limit) + 1
                })
                .push(") w JOIN articles a ON a.sort_key = w.k");
            qb.push(if relevance {
                " ORDER BY w.score, w.k DESC"
            } else {
                " ORDER BY w.k DESC"
            });
        }
        qb.push(" LIMIT ").push_bind(i64::from(plan.limit) + 1);
        if let After::Offset(n) = plan.after {
            qb.push(" OFFSET ").push_bind(i64::try_from(n).unwrap_or(0));
        }
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut items = rows
            .iter()
            .map(|r| summary_of(r, &terms))
            .collect::<Result<Vec<_>, _>>()?;
        let more = items.len() > plan.limit as usize;
        items.truncate(plan.limit as usize);
        let next_cursor = next_cursor(&plan, more, items.last().map(|(s, k)| (*k, s)));
        Ok(Page {
            items: items.into_iter().map(|(s, _)| s).collect(),
            next_cursor,
        })
    }

    async fn article(&self, article_id: &str) -> Result<Option<ArticleDetail>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT event, body_text, site, duplicate_of, first_stored_at, stored_at, arrival FROM articles WHERE article_id = ?",
        )
        .bind(article_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let arrival: Option<i64> = r.try_get("arrival")?;
        let event = crate::derive::stored_event(r.try_get("event")?, r.try_get("body_text")?)?;
        let entities = sqlx::query(
            "SELECT label, canonical, mentions, aliases, geonames_id, lat, lon, country, kind \
             FROM entities WHERE arrival = ? ORDER BY mentions DESC, canonical",
        )
        .bind(arrival)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|e| {
            Ok(EntityInfo {
                canonical: e.try_get("canonical")?,
                label: e.try_get("label")?,
                mentions: u32::try_from(e.try_get::<i64, _>("mentions")?).unwrap_or(u32::MAX),
                aliases: serde_json::from_str(e.try_get("aliases")?)?,
                geo: geo_of(e)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let places = sqlx::query(
            "SELECT name, mentions, geonames_id, lat, lon, country, kind \
             FROM places WHERE arrival = ? ORDER BY mentions DESC, name",
        )
        .bind(arrival)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|p| {
            Ok(PlaceInfo {
                name: p.try_get("name")?,
                mentions: u32::try_from(p.try_get::<i64, _>("mentions")?).unwrap_or(u32::MAX),
                geo: geo_of(p)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let quotes = sqlx::query(
            "SELECT speaker, text, start, \"end\" FROM quotes WHERE arrival = ? ORDER BY seq",
        )
        .bind(arrival)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|q| {
            Ok(QuoteInfo {
                speaker: q.try_get("speaker")?,
                text: q.try_get("text")?,
                start: u64::try_from(q.try_get::<i64, _>("start")?).unwrap_or(0),
                end: u64::try_from(q.try_get::<i64, _>("end")?).unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let duplicates = sqlx::query(
            "SELECT article_id FROM articles WHERE duplicate_of = ? ORDER BY article_id LIMIT 1000",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|d| d.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(crate::detail(
            event,
            r.try_get("site")?,
            r.try_get("duplicate_of")?,
            duplicates,
            entities,
            places,
            quotes,
            parse_ts(r.try_get("first_stored_at")?)?,
            parse_ts(r.try_get("stored_at")?)?,
        )))
    }

    async fn top_entities(&self, q: &EntityQuery) -> Result<Vec<EntityCount>, StoreError> {
        let plan = q.plan()?;
        if plan.lang.is_none() && (plan.since.is_some() || plan.until.is_some()) {
            return self.top_entities_of_period(&plan).await;
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT max(e.canonical) AS canonical, e.label, count(*) AS articles, \
             sum(e.mentions) AS mentions FROM entities e JOIN articles a ON a.arrival = e.arrival \
             WHERE 1 = 1",
        );
        if let Some(label) = &plan.label {
            qb.push(" AND e.label = ").push_bind(label.clone());
        }
        if let Some(since) = &plan.since {
            qb.push(" AND a.published_at >= ").push_bind(ts(since));
        }
        if let Some(until) = &plan.until {
            qb.push(" AND a.published_at < ").push_bind(ts(until));
        }
        if let Some(lang) = &plan.lang {
            qb.push(" AND a.lang = ").push_bind(lang.clone());
        }
        if plan.exclude_duplicates {
            qb.push(" AND a.duplicate_of IS NULL");
        }
        self.entity_counts(qb, plan.limit).await
    }

    async fn quotes(&self, q: &QuoteQuery) -> Result<Page<QuoteHit>, StoreError> {
        let plan = q.plan()?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT q.article_id, q.seq, q.speaker, q.text, a.title, a.published, a.url, a.sort_key \
             FROM quotes q JOIN articles a ON a.article_id = q.article_id WHERE 1 = 1",
        );
        if let Some(key) = &plan.speaker_key {
            qb.push(" AND (q.speaker_key = ")
                .push_bind(key.clone())
                .push(" OR q.speaker_last = ")
                .push_bind(key.clone())
                .push(")");
        }
        if let Some(since) = &plan.since {
            qb.push(" AND a.published_at >= ").push_bind(ts(since));
        }
        if let Some(until) = &plan.until {
            qb.push(" AND a.published_at < ").push_bind(ts(until));
        }
        if let Some(lang) = &plan.lang {
            qb.push(" AND a.lang = ").push_bind(lang.clone());
        }
        if plan.exclude_duplicates {
            qb.push(" AND a.duplicate_of IS NULL");
        }
        if let After::QuoteKey(k, _, seq) = &plan.after {
            qb.push(" AND (a.sort_key < ")
                .push_bind(*k)
                .push(" OR (a.sort_key = ")
                .push_bind(*k)
                .push(" AND q.seq > ")
                .push_bind(*seq)
                .push("))");
        }
        qb.push(" ORDER BY a.sort_key DESC, a.article_id DESC, q.seq LIMIT ")
            .push_bind(i64::from(plan.limit) + 1);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut last = None;
        for r in rows.iter().take(plan.limit as usize) {
            let hit = QuoteHit {
                article_id: r.try_get("article_id")?,
                title: r.try_get("title")?,
                published: r.try_get("published")?,
                url: r.try_get("url")?,
                speaker: r.try_get("speaker")?,
                text: r.try_get("text")?,
            };
            last = Some(After::QuoteKey(
                r.try_get("sort_key")?,
                hit.article_id.clone(),
                r.try_get("seq")?,
            ));
            items.push(hit);
        }
        let next_cursor = (rows.len() > plan.limit as usize)
            .then_some(last)
            .flatten()
            .map(|after| encode_cursor(plan.tag, &after));
        Ok(Page { items, next_cursor })
    }

    async fn get(&self, article_id: &str) -> Result<Option<Envelope<Enriched>>, StoreError> {
        let row = sqlx::query("SELECT event, body_text FROM articles WHERE article_id = ?")
            .bind(article_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(crate::derive::stored_event(
                r.try_get("event")?,
                r.try_get("body_text")?,
            )?)),
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

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
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
        assert!(err.to_string().contains("open_store"), "{err}");
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
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(fts_query(&t(&["goita", "bamako"])), "\"goita\" \"bamako\"");
        assert_eq!(fts_query(&t(&["a\"b"])), "\"a\"\"b\"");
        assert_eq!(fts_query(&t(&["near"])), "\"near\"");
    }

    #[test]
    fn subdomain_patterns_escape_like_wildcards() {
        assert_eq!(subdomain_pattern("a_b%.ml"), "%.a\\_b\\%.ml");
    }
}

#[cfg(test)]
mod collision_tests {
    use super::*;
    use crate::derive::id_hash;

    /// Two ids whose sort keys collide in one minute (same 37-bit hash),
    /// found once by a birthday search over `c0`, `c1`, ….
    fn colliding_ids() -> (String, String) {
        let (a, b) = ("c6383009".to_string(), "c10988560".to_string());
        assert_eq!(id_hash(&a), id_hash(&b));
        (a, b)
    }

    /// An article published in the minute both colliding ids share.
    fn ev(id: &str) -> Envelope<Enriched> {
        serde_json::from_value(serde_json::json!({
            "type": "enriched", "version": 1, "article_id": id, "trace_id": "t",
            "time": "2025-06-26T08:00:00Z",
            "data": {
                "article": {"url": format!("https://x.ml/{id}"), "title": "Titre",
                    "published": "2025-06-25T10:00:00Z", "body_text": "Bamako aujourd'hui"},
                "enrichment": {"lang": "fr", "lang_confidence": 1.0, "entities": []}
            }
        }))
        .unwrap()
    }

    /// A store on a new file in a directory deleted with the guard.
    async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StoreConfig {
            db: dir.path().join("c.db").display().to_string(),
            ..StoreConfig::default()
        };
        let store = SqliteStore::open(&cfg).await.unwrap();
        (dir, store)
    }

    async fn sort_keys(store: &SqliteStore) -> Vec<i64> {
        sqlx::query_scalar("SELECT sort_key FROM articles ORDER BY sort_key")
            .fetch_all(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_key_a_stored_article_holds_is_bumped() {
        let (a, b) = colliding_ids();
        let (_dir, store) = temp_store().await;
        store.upsert(&ev(&b)).await.unwrap();
        let held = sort_keys(&store).await;
        // Another batch wants the same key, for another id.
        let out = store.upsert_batch(&[ev(&a), ev(&a)]).await.unwrap();
        assert_eq!(out, vec![UpsertOutcome::Inserted, UpsertOutcome::Updated]);
        let keys = sort_keys(&store).await;
        assert_eq!(keys, vec![held[0], held[0] + 1]);
        assert_eq!(store.count().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn colliding_sort_keys_are_bumped_not_lost() {
        let (a, b) = colliding_ids();
        let (_dir, store) = temp_store().await;
        store.upsert_batch(&[ev(&a), ev(&b)]).await.unwrap();
        // Redelivered: the keys stay, nothing is duplicated.
        store.upsert(&ev(&b)).await.unwrap();
        store.upsert(&ev(&a)).await.unwrap();
        let hits = store
            .articles(&ArticleQuery {
                text: Some("bamako".into()),
                sort: Some(Sort::Newest),
                ..ArticleQuery::default()
            })
            .await
            .unwrap();
        let mut ids: Vec<_> = hits.items.iter().map(|h| h.article_id.clone()).collect();
        ids.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(ids, want);
        let keys = sort_keys(&store).await;
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1], keys[0] + 1, "the second took the next key");
    }
}
