use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use newsflow_core::{Enriched, Envelope};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::derive::{
    DERIVED_VERSION, Derived, SORT_KEY_HASH_BITS, SORT_KEY_MAX_MINUTE, TS_CONFIGS, id_hash,
    ts_config,
};
use crate::fold::snippet;
use crate::pg_text::{self, Lexicon, TsVector};
use crate::query::{
    After, ArticleDetail, ArticlePlan, ArticleQuery, ArticleSummary, EntityCount, EntityInfo,
    EntityPlan, EntityQuery, Filters, GeoInfo, Page, PlaceInfo, QuoteHit, QuoteInfo, QuoteQuery,
    RANK_WINDOW, Sort, encode_cursor, next_cursor,
};
use crate::syndication::{self, Copy, Linker, Merges, Rank, Step};
use crate::{ArticleStore, Backend, StoreConfig, StoreError, UpsertOutcome};

/// Schema migrations, applied in order, each once, each in its own
/// transaction. Append only: a released migration is never edited.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_leaner_writes.sql"),
    ),
    (
        3,
        include_str!("../migrations/postgres/0003_entity_period.sql"),
    ),
    (
        4,
        include_str!("../migrations/postgres/0004_search_storage.sql"),
    ),
    (
        5,
        include_str!("../migrations/postgres/0005_no_foreign_keys.sql"),
    ),
];

/// Advisory lock held while migrating, so concurrent openers take turns.
const MIGRATION_LOCK: i64 = 0x6e66_7374_6f72_0001;
/// Advisory lock held by a transaction that links syndicated copies, so
/// two replicas storing two copies of one story at once still see each
/// other (see `write_batch`).
const SYNDICATION_LOCK: i64 = 0x6e66_7374_6f72_0002;

/// Words of a snippet.
const SNIPPET_WORDS: usize = 30;

/// Articles in a PostgreSQL database. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    max_distance: u32,
    lexicon: Lexicon,
    /// Articles written through this store, and the count at which the
    /// planner's statistics are refreshed next.
    written: Arc<AtomicU64>,
    next_analyze: Arc<AtomicU64>,
    /// The sort keys' distribution, as last read (see [`KeyHistogram`]).
    histogram: Arc<RwLock<CachedHistogram>>,
}

/// The sort keys' distribution and when it was read (`None` inside: there
/// were no statistics).
type CachedHistogram = Option<(Instant, Option<Arc<KeyHistogram>>)>;

/// The longest reach of a text search's first ranges counted exactly on
/// the sort-key index (see `key_floor`); longer ones are estimated.
const EXACT_FLOOR_MAX: u64 = 8_000;

/// How long the sort keys' distribution read from the statistics is used
/// before it is read again (they change when the table is analysed).
const HISTOGRAM_TTL: Duration = Duration::from_secs(60);

/// The distribution of the articles' sort keys, from the planner's
/// statistics (`pg_stats.histogram_bounds`): where the newest `n`
/// articles below a key begin, roughly.
///
/// A text search wants the newest matches (the page, or the
/// [`RANK_WINDOW`] newest to rank). Reading every match through the
/// full-text index and keeping the newest costs a row read per match
/// (95,000 for a common word at 100k articles: 100 ms and more), walking
/// the articles newest first costs a vector test per article (4,000 for a
/// word one article in eight has: 100 ms); the planner picks between the
/// two from estimates and was often wrong. So the search first looks at
/// the newest few thousand articles only (`sort_key >= floor`): whichever
/// plan the planner picks then reads a few thousand rows at most, and the
/// full-text index and the key range combine (BitmapAnd). When that range
/// holds fewer matches than wanted, a wider range is searched, up to all.
/// The statistics only size the ranges: the results are exact whatever
/// they say.
#[derive(Debug)]
struct KeyHistogram {
    /// Ascending keys; about `per_bucket` articles lie between two
    /// neighbours.
    bounds: Vec<i64>,
    per_bucket: f64,
}

impl KeyHistogram {
    fn new(bounds: Vec<i64>, rows: f64) -> Option<Self> {
        (bounds.len() >= 2 && rows >= 1.0).then(|| Self {
            per_bucket: rows / (bounds.len() - 1) as f64,
            bounds,
        })
    }

    /// A key such that at least about `n` articles have a key from it up
    /// to `below` (exclusive; the newest when `None`), or `None` when that
    /// reaches back to the oldest articles.
    fn floor(&self, below: Option<i64>, n: u64) -> Option<i64> {
        let top = match below {
            Some(k) => self.bounds.partition_point(|&b| b < k),
            None => self.bounds.len(),
        };
        // Whole buckets below the one holding `below`.
        let buckets = (n as f64 / self.per_bucket).ceil() as usize;
        top.checked_sub(buckets.checked_add(1)?)
            .map(|i| self.bounds[i])
    }
}

/// Refresh the planner's statistics (in the background) once this many
/// articles were written through a store, then each time that count
/// doubles. Autovacuum does it too, but only when it wakes up (every
/// minute): after a bulk load the plans of text searches, which depend on
/// how common the words are, swung between 20 and 300 ms until it did.
const ANALYZE_FIRST: u64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Upsert,
    Rederive,
}

impl PostgresStore {
    /// Connect to the database `config.db` (a `postgres://` URL) and bring
    /// its schema up to date.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        config.validate()?;
        if !crate::is_postgres_url(&config.db) {
            return Err(StoreError::Unsupported(format!(
                "{} is not a postgres:// URL",
                crate::redact(&config.db)
            )));
        }
        let lock_timeout = format!("{}ms", config.busy_timeout_ms.max(1));
        let options = PgConnectOptions::from_str(config.db.trim())?
            .application_name("newsflow-store")
            .options([("lock_timeout", lock_timeout.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let store = Self {
            pool,
            max_distance: config.duplicate_max_distance,
            lexicon: Lexicon::default(),
            written: Arc::new(AtomicU64::new(0)),
            next_analyze: Arc::new(AtomicU64::new(ANALYZE_FIRST)),
            histogram: Arc::new(RwLock::new(None)),
        };
        store.migrate().await?;
        store.rederive().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL
             )",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for (version, sql) in MIGRATIONS {
            let version = *version;
            let fail = |source| StoreError::Migration { version, source };
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await?;
            let applied = sqlx::query("SELECT 1 FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if applied {
                continue;
            }
            sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            tracing::info!(version, "applied store migration");
        }
        Ok(())
    }

    /// Rebuild the derived rows of articles stored by an older version of
    /// this code, from their stored events.
    async fn rederive(&self) -> Result<(), StoreError> {
        loop {
            let rows = sqlx::query(
                "SELECT article_id, event, body_text FROM articles WHERE derived_version < $1 \
                 ORDER BY article_id LIMIT 200",
            )
            .bind(DERIVED_VERSION)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(());
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
            sqlx::query("UPDATE articles SET derived_version = $1 WHERE article_id = ANY($2)")
                .bind(DERIVED_VERSION)
                .bind(&broken)
                .persistent(false)
                .execute(&self.pool)
                .await?;
        }
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

    /// Write a batch in one transaction.
    ///
    /// Concurrency: the article row is written with `INSERT … ON CONFLICT
    /// DO UPDATE … WHERE stored.enriched_at <= new.enriched_at`, which
    /// locks the row, so two replicas writing one article serialise and
    /// the newer event always wins (no lost update, no duplicate row).
    /// Rows are written in article-id order so two batches lock them in
    /// the same order.
    ///
    /// Linking copies comes last, under one advisory lock held until the
    /// commit: a transaction that links sees every copy committed before
    /// it took the lock, so of two replicas storing two copies of a story
    /// at once, the second to link finds the first; and cluster merges
    /// never interleave. The expensive part (building the full-text
    /// vectors, index updates) happens before the lock, in parallel.
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
        // The full-text vectors, before the transaction: their words'
        // lexemes come from the cache, or from one query for those it lacks.
        let folded: Vec<(&'static str, String, String)> = derived
            .iter()
            .map(|d| (ts_config(&d.lang), d.title_folded(), d.body_folded()))
            .collect();
        let positions: Vec<_> = folded
            .iter()
            .map(|(_, t, b)| pg_text::positions(t, b))
            .collect();
        // Each distinct word once.
        let mut seen = pg_text::FxSet::default();
        let mut words: Vec<(&'static str, &str)> = Vec::new();
        for ((c, _, _), ps) in folded.iter().zip(&positions) {
            for (w, _) in ps {
                if seen.insert((*c, *w)) {
                    words.push((c, w));
                }
            }
        }
        let mut vectors: Vec<Option<TsVector>> = self
            .lexicon
            .with(&self.pool, &words, |lexemes| {
                folded
                    .iter()
                    .zip(&positions)
                    .map(|((c, _, _), ps)| Some(pg_text::vector(lexemes, c, ps)))
                    .collect()
            })
            .await?;
        // An id may appear twice: write the k-th occurrences of every id
        // in round k, so each statement touches a row once.
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, d) in derived.iter().enumerate() {
            let n = seen.entry(d.article_id.as_str()).or_insert(0);
            if rounds.len() <= *n {
                rounds.push(Vec::new());
            }
            rounds[*n].push(i);
            *n += 1;
        }
        // Stored as microseconds: the links worked out before writing rank
        // new articles by the instant the database will hold.
        let now = Utc::now().trunc_subsecs(6);
        let prelinked = match mode {
            Mode::Upsert => self.prelink(&derived, now).await?,
            Mode::Rederive => Default::default(),
        };
        let mut outcomes = vec![UpsertOutcome::Stale; derived.len()];
        let mut to_link: Vec<(String, u64)> = Vec::new();
        let mut tx = self.pool.begin().await?;
        // A write that finds the full-text index's pending list full
        // merges it into the index, gathering its entries in work_mem
        // (4 MB by default) and going over the index once per fill: room
        // for the whole 16 MB list makes that one pass (+9 % stored per
        // second at 100k articles in one comparison, inside the noise of
        // the machine it was measured on).
        sqlx::query("SET LOCAL work_mem = '64MB'")
            .execute(&mut *tx)
            .await?;
        for mut round in rounds {
            round.sort_by(|&a, &b| derived[a].article_id.cmp(&derived[b].article_id));
            let rows: Vec<&Derived> = round.iter().map(|&i| &derived[i]).collect();
            let tsv: Vec<TsVector> = round
                .iter()
                .map(|&i| vectors[i].take().unwrap_or_else(TsVector::empty))
                .collect();
            let (written, copies) = self
                .write_rows(&mut tx, &rows, tsv, mode, now, &prelinked)
                .await?;
            for (&i, w) in round.iter().zip(written) {
                outcomes[i] = w;
            }
            to_link.extend(copies);
        }
        if !to_link.is_empty() {
            // Waiting for another batch's links can take longer than a row
            // lock should: give this lock its own, longer limit.
            sqlx::query("SET LOCAL lock_timeout = '60s'")
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SYNDICATION_LOCK)
                .execute(&mut *tx)
                .await?;
            self.link_batch(&mut tx, &to_link).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// Write rows with distinct ids; their outcomes in the same order, and
    /// the written articles that have a fingerprint, to link.
    async fn write_rows(
        &self,
        conn: &mut PgConnection,
        rows: &[&Derived],
        vectors: Vec<TsVector>,
        mode: Mode,
        now: DateTime<Utc>,
        prelinked: &std::collections::HashMap<String, String>,
    ) -> Result<(Vec<UpsertOutcome>, Vec<(String, u64)>), StoreError> {
        macro_rules! col {
            ($f:expr) => {
                rows.iter().map($f).collect::<Vec<_>>()
            };
        }
        let bands = col!(|d| d.fingerprint.map(syndication::bands));
        let band = |i: usize| {
            bands
                .iter()
                .map(|b| b.map(|b| b[i] as i32))
                .collect::<Vec<_>>()
        };
        let returned = sqlx::query(
            "INSERT INTO articles (article_id, trace_id, url, final_url, canonical_url, title, authors,
                 published, published_at, published_day, modified, site, site_name, site_key,
                 original_publisher, republication, lang, lang_hint, description, image, sections,
                 tags, body_text, summary, keywords, tone, ts_config, tsv, fingerprint,
                 fp_b0, fp_b1, fp_b2, fp_b3, enriched_at, first_stored_at, stored_at, sort_at,
                 sort_key, schema_version, derived_version, event, duplicate_of)
             SELECT u.article_id, u.trace_id, u.url, u.final_url, u.canonical_url, u.title, u.authors,
                 u.published, u.published_at, u.published_day, u.modified, u.site, u.site_name,
                 u.site_key, u.original_publisher, u.republication, u.lang, u.lang_hint,
                 u.description, u.image, u.sections, u.tags, u.body_text, u.summary, u.keywords,
                 u.tone, u.cfg::regconfig,
                 u.tsv,
                 u.fingerprint, u.fp_b0, u.fp_b1, u.fp_b2, u.fp_b3, u.enriched_at, $38, $38,
                 coalesce(u.published_at, $38),
                 ((least(greatest(floor(extract(epoch FROM coalesce(u.published_at, $38)) / 60), 0), 67108863))::bigint << 37) | u.kh,
                 u.schema_version, $39, u.event, u.dup
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[],
                 $13::text[], $14::text[], $15::text[], $16::bool[], $17::text[], $18::text[],
                 $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[],
                 $25::text[], $26::float8[], $27::text[], $28::tsvector[], $29::int8[],
                 $30::int4[], $31::int4[], $32::int4[], $33::int4[], $34::timestamptz[],
                 $35::int4[], $36::text[], $40::int8[], $41::text[])
                 AS u(article_id, trace_id, url, final_url, canonical_url, title, authors,
                      published, published_at, published_day, modified, site, site_name, site_key,
                      original_publisher, republication, lang, lang_hint, description, image,
                      sections, tags, body_text, summary, keywords, tone, cfg, tsv,
                      fingerprint, fp_b0, fp_b1, fp_b2, fp_b3, enriched_at, schema_version, event,
                      kh, dup)
             ON CONFLICT (article_id) DO UPDATE SET
                 trace_id = excluded.trace_id, url = excluded.url, final_url = excluded.final_url,
                 canonical_url = excluded.canonical_url, title = excluded.title,
                 authors = excluded.authors, published = excluded.published,
                 published_at = excluded.published_at, published_day = excluded.published_day,
                 modified = excluded.modified, site = excluded.site, site_name = excluded.site_name,
                 site_key = excluded.site_key, original_publisher = excluded.original_publisher,
                 republication = excluded.republication, lang = excluded.lang,
                 lang_hint = excluded.lang_hint, description = excluded.description,
                 image = excluded.image, sections = excluded.sections, tags = excluded.tags,
                 body_text = excluded.body_text, summary = excluded.summary,
                 keywords = excluded.keywords, tone = excluded.tone, ts_config = excluded.ts_config,
                 tsv = excluded.tsv, fingerprint = excluded.fingerprint, fp_b0 = excluded.fp_b0,
                 fp_b1 = excluded.fp_b1, fp_b2 = excluded.fp_b2, fp_b3 = excluded.fp_b3,
                 enriched_at = excluded.enriched_at,
                 stored_at = CASE WHEN $37 THEN articles.stored_at ELSE excluded.stored_at END,
                 sort_at = coalesce(excluded.published_at, articles.first_stored_at),
                 sort_key = ((least(greatest(floor(extract(epoch FROM coalesce(excluded.published_at, articles.first_stored_at)) / 60), 0), 67108863))::bigint << 37)
                     | (excluded.sort_key & 137438953471),
                 schema_version = excluded.schema_version,
                 derived_version = excluded.derived_version, event = excluded.event
             WHERE $37 OR articles.enriched_at <= excluded.enriched_at
             RETURNING article_id, (xmax = 0) AS inserted",
        )
        .bind(col!(|d| d.article_id.as_str()))
        .bind(col!(|d| d.trace_id.as_str()))
        .bind(col!(|d| d.url.as_str()))
        .bind(col!(|d| d.final_url.as_deref()))
        .bind(col!(|d| d.canonical_url.as_deref()))
        .bind(col!(|d| d.title.as_deref()))
        .bind(col!(|d| d.authors.as_str()))
        .bind(col!(|d| d.published.as_deref()))
        .bind(col!(|d| d.published_at))
        .bind(col!(|d| d.published_day.as_deref()))
        .bind(col!(|d| d.modified.as_deref()))
        .bind(col!(|d| d.site.as_deref()))
        .bind(col!(|d| d.site_name.as_deref()))
        .bind(col!(|d| d.site_key.as_deref()))
        .bind(col!(|d| d.original_publisher.as_deref()))
        .bind(col!(|d| d.republication))
        .bind(col!(|d| d.lang.as_str()))
        .bind(col!(|d| d.lang_hint.as_deref()))
        .bind(col!(|d| d.description.as_deref()))
        .bind(col!(|d| d.image.as_deref()))
        .bind(col!(|d| d.sections.as_str()))
        .bind(col!(|d| d.tags.as_str()))
        .bind(col!(|d| d.body_text.as_str()))
        .bind(col!(|d| d.summary.as_deref()))
        .bind(col!(|d| d.keywords.as_str()))
        .bind(col!(|d| d.tone))
        .bind(col!(|d| ts_config(&d.lang)))
        .bind(vectors)
        .bind(col!(|d| d.fingerprint.map(syndication::to_db)))
        .bind(band(0))
        .bind(band(1))
        .bind(band(2))
        .bind(band(3))
        .bind(col!(|d| d.enriched_at))
        .bind(col!(|d| i32::try_from(d.schema_version).unwrap_or(i32::MAX)))
        .bind(col!(|d| d.event_json.as_str()))
        .bind(mode == Mode::Rederive)
        .bind(now)
        .bind(i32::try_from(DERIVED_VERSION).unwrap_or(i32::MAX))
        .bind(col!(|d| id_hash(&d.article_id)))
        .bind(col!(|d| prelinked.get(&d.article_id).map(String::as_str)))
        .fetch_all(&mut *conn)
        .await?;

        // Which rows were written (not stale), and whether as new ones.
        let mut written: std::collections::HashMap<String, bool> = returned
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("article_id")?,
                    r.try_get("inserted")?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let fresh: Vec<&Derived> = rows
            .iter()
            .copied()
            .filter(|d| written.contains_key(&d.article_id))
            .collect();
        if !fresh.is_empty() {
            // A new article has no derived rows to delete.
            let replaced: Vec<&str> = fresh
                .iter()
                .filter(|d| written.get(&d.article_id) == Some(&false))
                .map(|d| d.article_id.as_str())
                .collect();
            self.replace_derived_rows(conn, &fresh, &replaced).await?;
        }
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut copies = Vec::new();
        for d in rows {
            let Some(inserted) = written.remove(&d.article_id) else {
                outcomes.push(UpsertOutcome::Stale);
                continue;
            };
            if let Some(fp) = d.fingerprint {
                copies.push((d.article_id.clone(), fp));
            }
            outcomes.push(if inserted {
                UpsertOutcome::Inserted
            } else {
                UpsertOutcome::Updated
            });
        }
        Ok((outcomes, copies))
    }

    /// Write the entity, alias, place and quote rows of `rows`, deleting
    /// those of the articles `replaced` (rows stored before) first.
    async fn replace_derived_rows(
        &self,
        conn: &mut PgConnection,
        rows: &[&Derived],
        replaced: &[&str],
    ) -> Result<(), StoreError> {
        for sql in [
            "DELETE FROM entities WHERE article_id = ANY($1)",
            "DELETE FROM entity_aliases WHERE article_id = ANY($1)",
            "DELETE FROM places WHERE article_id = ANY($1)",
            "DELETE FROM quotes WHERE article_id = ANY($1)",
        ] {
            // Not prepared: a cached generic plan for `= ANY($1)` does not
            // know the list is short and scans the table.
            if replaced.is_empty() {
                break;
            }
            sqlx::query(sql)
                .bind(replaced)
                .persistent(false)
                .execute(&mut *conn)
                .await?;
        }

        let ents: Vec<(&Derived, &crate::derive::EntityRow)> = rows
            .iter()
            .flat_map(|d| d.entities.iter().map(move |e| (*d, e)))
            .collect();
        if !ents.is_empty() {
            let g = |f: &dyn Fn(&GeoInfo) -> Option<String>| {
                ents.iter()
                    .map(|(_, e)| e.geo.as_ref().and_then(f))
                    .collect::<Vec<_>>()
            };
            sqlx::query(
                "INSERT INTO entities (article_id, label, canonical, canonical_key, mentions, aliases,
                     geonames_id, lat, lon, country, kind, published_us)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[],
                     $6::text[], $7::int8[], $8::float8[], $9::float8[], $10::text[], $11::text[],
                     $12::int8[])",
            )
            .bind(ents.iter().map(|(d, _)| d.article_id.as_str()).collect::<Vec<_>>())
            .bind(ents.iter().map(|(_, e)| e.label).collect::<Vec<_>>())
            .bind(ents.iter().map(|(_, e)| e.canonical.as_str()).collect::<Vec<_>>())
            .bind(ents.iter().map(|(_, e)| e.canonical_key.as_str()).collect::<Vec<_>>())
            .bind(
                ents.iter()
                    .map(|(_, e)| i32::try_from(e.mentions).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )
            .bind(ents.iter().map(|(_, e)| e.aliases.as_str()).collect::<Vec<_>>())
            .bind(
                ents.iter()
                    .map(|(_, e)| e.geo.as_ref().map(|g| g.geonames_id as i64))
                    .collect::<Vec<_>>(),
            )
            .bind(ents.iter().map(|(_, e)| e.geo.as_ref().map(|g| g.lat)).collect::<Vec<_>>())
            .bind(ents.iter().map(|(_, e)| e.geo.as_ref().map(|g| g.lon)).collect::<Vec<_>>())
            .bind(g(&|g| Some(g.country_code.clone()).filter(|c| !c.is_empty())))
            .bind(g(&|g| Some(g.kind.clone())))
            .bind(ents.iter().map(|(d, _)| d.published_us()).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }

        let aliases: Vec<(&str, &crate::derive::AliasRow)> = rows
            .iter()
            .flat_map(|d| d.aliases.iter().map(move |a| (d.article_id.as_str(), a)))
            .collect();
        if !aliases.is_empty() {
            sqlx::query(
                "INSERT INTO entity_aliases (alias_key, label, article_id)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
            )
            .bind(
                aliases
                    .iter()
                    .map(|(_, a)| a.alias_key.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(
                aliases
                    .iter()
                    .map(|(_, a)| a.label.to_string())
                    .collect::<Vec<_>>(),
            )
            .bind(
                aliases
                    .iter()
                    .map(|(id, _)| id.to_string())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *conn)
            .await?;
        }

        let places: Vec<(&str, &crate::derive::PlaceRow)> = rows
            .iter()
            .flat_map(|d| d.places.iter().map(move |p| (d.article_id.as_str(), p)))
            .collect();
        if !places.is_empty() {
            sqlx::query(
                "INSERT INTO places (article_id, name_key, name, mentions, geonames_id, lat, lon, country, kind)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int4[], $5::int8[],
                     $6::float8[], $7::float8[], $8::text[], $9::text[])",
            )
            .bind(places.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>())
            .bind(places.iter().map(|(_, p)| p.name_key.clone()).collect::<Vec<_>>())
            .bind(places.iter().map(|(_, p)| p.name.clone()).collect::<Vec<_>>())
            .bind(
                places
                    .iter()
                    .map(|(_, p)| i32::try_from(p.mentions).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )
            .bind(
                places
                    .iter()
                    .map(|(_, p)| p.geo.as_ref().map(|g| g.geonames_id as i64))
                    .collect::<Vec<_>>(),
            )
            .bind(places.iter().map(|(_, p)| p.geo.as_ref().map(|g| g.lat)).collect::<Vec<_>>())
            .bind(places.iter().map(|(_, p)| p.geo.as_ref().map(|g| g.lon)).collect::<Vec<_>>())
            .bind(
                places
                    .iter()
                    .map(|(_, p)| {
                        p.geo
                            .as_ref()
                            .map(|g| g.country_code.clone())
                            .filter(|c| !c.is_empty())
                    })
                    .collect::<Vec<_>>(),
            )
            .bind(
                places
                    .iter()
                    .map(|(_, p)| p.geo.as_ref().map(|g| g.kind.clone()))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *conn)
            .await?;
        }

        let quotes: Vec<(&str, &crate::derive::QuoteRow)> = rows
            .iter()
            .flat_map(|d| d.quotes.iter().map(move |q| (d.article_id.as_str(), q)))
            .collect();
        if !quotes.is_empty() {
            sqlx::query(
                "INSERT INTO quotes (article_id, seq, speaker, speaker_key, speaker_last, text, start, \"end\")
                 SELECT * FROM UNNEST($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::int8[], $8::int8[])",
            )
            .bind(quotes.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>())
            .bind(
                quotes
                    .iter()
                    .map(|(_, q)| i32::try_from(q.seq).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )
            .bind(quotes.iter().map(|(_, q)| q.speaker.clone()).collect::<Vec<_>>())
            .bind(quotes.iter().map(|(_, q)| q.speaker_key.clone()).collect::<Vec<_>>())
            .bind(quotes.iter().map(|(_, q)| q.speaker_last.clone()).collect::<Vec<_>>())
            .bind(quotes.iter().map(|(_, q)| q.text.clone()).collect::<Vec<_>>())
            .bind(quotes.iter().map(|(_, q)| q.start).collect::<Vec<_>>())
            .bind(quotes.iter().map(|(_, q)| q.end).collect::<Vec<_>>())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// The stored articles that may be copies of `fps` (id, fingerprint),
    /// or are one of them: the rows whose bands match (see `syndication`).
    async fn copy_candidates(
        &self,
        conn: &mut PgConnection,
        fps: &[(String, u64)],
    ) -> Result<Vec<Copy>, StoreError> {
        let ids: Vec<&str> = fps.iter().map(|(id, _)| id.as_str()).collect();
        let values: Vec<u64> = fps.iter().map(|(_, fp)| *fp).collect();
        let probes = syndication::batch_probes(&values, self.max_distance);
        let as_i32 = |v: &Vec<i64>| v.iter().map(|&x| x as i32).collect::<Vec<i32>>();
        sqlx::query(
            "SELECT article_id, republication, published_day, first_stored_at, fingerprint, duplicate_of
             FROM articles WHERE article_id = ANY($1)
             OR fp_b0 = ANY($2) OR fp_b1 = ANY($3) OR fp_b2 = ANY($4) OR fp_b3 = ANY($5)",
        )
        .bind(&ids)
        .bind(as_i32(&probes[0]))
        .bind(as_i32(&probes[1]))
        .bind(as_i32(&probes[2]))
        .bind(as_i32(&probes[3]))
        // Planned for these values (see `articles`).
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(copy_of)
        .collect()
    }

    /// The original each new article of the batch will point at, as far as
    /// the articles stored so far tell (`None`: it is one, or it could not
    /// be told without loading more): written with the article, so that a
    /// copy of a stored story, or of one in the same batch, is written
    /// once instead of being written and then updated (an update of an
    /// article puts it in every index again, the full-text one included;
    /// faster in each of four paired runs at 100k articles with one copy
    /// in ten, by 1 to 18 % on a noisy machine). Linking
    /// under the lock (`link_batch`) still decides: it finds these links
    /// in place, or fixes them with what was committed meanwhile.
    async fn prelink(
        &self,
        derived: &[Derived],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let fps: Vec<(String, u64)> = derived
            .iter()
            .filter_map(|d| Some((d.article_id.clone(), d.fingerprint?)))
            .collect();
        let mut out = std::collections::HashMap::new();
        if fps.is_empty() {
            return Ok(out);
        }
        let mut conn = self.pool.acquire().await?;
        let stored = self.copy_candidates(&mut conn, &fps).await?;
        drop(conn);
        let mut linker = Linker::new(self.max_distance);
        linker.add(stored);
        // The new articles as they will be stored (an id already stored is
        // updated and keeps its link: left to `link_batch`).
        let new: Vec<&Derived> = derived
            .iter()
            .filter(|d| d.fingerprint.is_some() && !linker.knows(&d.article_id))
            .collect();
        linker.add(new.iter().map(|d| Copy::of_row(d, now, None)));
        for d in &new {
            // Merges are applied in memory; a cluster whose root is not
            // among the rows loaded (`Step::Need`) is left to `link_batch`,
            // which loads it.
            linker.link(&d.article_id);
        }
        for d in &new {
            if let Some(original) = linker.original_of(&d.article_id) {
                out.insert(d.article_id.clone(), original.to_string());
            }
        }
        Ok(out)
    }

    /// Link the written articles `fps` (id, fingerprint) with their
    /// copies (see `syndication`): one lookup for the batch, then the
    /// merges in one statement (one per merge took half the time the lock
    /// was held, at 50 merges a batch). The caller holds the syndication
    /// lock.
    async fn link_batch(
        &self,
        conn: &mut PgConnection,
        fps: &[(String, u64)],
    ) -> Result<(), StoreError> {
        let ids: Vec<String> = fps.iter().map(|(id, _)| id.clone()).collect();
        let rows = self.copy_candidates(&mut *conn, fps).await?;
        let mut linker = Linker::new(self.max_distance);
        linker.add(rows);
        let mut merges = Merges::default();
        for id in &ids {
            loop {
                match linker.link(id) {
                    Step::Done => break,
                    Step::Need(missing) => {
                        let rows = sqlx::query(
                            "SELECT article_id, republication, published_day, first_stored_at,
                                 fingerprint, duplicate_of
                             FROM articles WHERE article_id = ANY($1)",
                        )
                        .bind(&missing)
                        .persistent(false)
                        .fetch_all(&mut *conn)
                        .await?;
                        let found = rows.iter().map(copy_of).collect::<Result<Vec<_>, _>>()?;
                        linker.add(syndication::with_placeholders(&missing, found));
                    }
                    Step::Merge { best, roots } => {
                        merges.add(&best, &roots);
                        break;
                    }
                }
            }
        }
        // The merges in one statement: a row that is one of the roots, or
        // points at one, points at that root's last original (nothing, for
        // the original itself).
        if !merges.is_empty() {
            let (roots, originals) = merges.resolved();
            sqlx::query(
                "UPDATE articles a SET duplicate_of = nullif(m.original, a.article_id)
                 FROM UNNEST($1::text[], $2::text[]) AS m(root, original)
                 WHERE (a.article_id = ANY($1) OR a.duplicate_of = ANY($1))
                 AND m.root = CASE WHEN a.article_id = ANY($1) THEN a.article_id
                                   ELSE a.duplicate_of END
                 AND a.duplicate_of IS DISTINCT FROM nullif(m.original, a.article_id)",
            )
            .bind(&roots)
            .bind(&originals)
            .persistent(false)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Group the entity rows `qb` selects (as `e`) into the top `limit`
    /// entities by articles, then mentions: the end both entity queries
    /// share.
    async fn entity_counts(
        &self,
        mut qb: QueryBuilder<Postgres>,
        limit: u32,
    ) -> Result<Vec<EntityCount>, StoreError> {
        qb.push(
            " GROUP BY e.canonical_key, e.label \
             ORDER BY articles DESC, mentions DESC, e.canonical_key, e.label LIMIT ",
        )
        .push_bind(i64::from(limit));
        qb.build()
            .persistent(false)
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
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT max(e.canonical) AS canonical, e.label, count(*) AS articles, \
             sum(e.mentions)::int8 AS mentions FROM entities e WHERE e.published_us IS NOT NULL",
        );
        if let Some(label) = &plan.label {
            qb.push(" AND e.label = ").push_bind(label.clone());
        }
        if let Some(since) = plan.since {
            qb.push(" AND e.published_us >= ")
                .push_bind(since.timestamp_micros());
        }
        if let Some(until) = plan.until {
            qb.push(" AND e.published_us < ")
                .push_bind(until.timestamp_micros());
        }
        if plan.exclude_duplicates {
            qb.push(
                " AND e.article_id NOT IN (SELECT a.article_id FROM articles a \
                 WHERE a.duplicate_of IS NOT NULL",
            );
            if let Some(since) = plan.since {
                qb.push(" AND a.published_at >= ").push_bind(since);
            }
            if let Some(until) = plan.until {
                qb.push(" AND a.published_at < ").push_bind(until);
            }
            qb.push(")");
        }
        self.entity_counts(qb, plan.limit).await
    }

    /// The sort keys' distribution (see [`KeyHistogram`]), read from the
    /// statistics at most every [`HISTOGRAM_TTL`]; `None` before the table
    /// was first analysed.
    async fn key_histogram(&self) -> Result<Option<Arc<KeyHistogram>>, StoreError> {
        if let Ok(cached) = self.histogram.read()
            && let Some((at, h)) = cached.as_ref()
            && at.elapsed() < HISTOGRAM_TTL
        {
            return Ok(h.clone());
        }
        let row = sqlx::query(
            "SELECT s.histogram_bounds::text::int8[] AS bounds, c.reltuples::float8 AS n \
             FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace \
             JOIN pg_stats s ON s.schemaname = ns.nspname AND s.tablename = c.relname \
             WHERE c.oid = 'articles'::regclass AND s.attname = 'sort_key'",
        )
        .fetch_optional(&self.pool)
        .await?;
        let h = match row {
            Some(r) => KeyHistogram::new(
                r.try_get::<Option<Vec<i64>>, _>("bounds")?
                    .unwrap_or_default(),
                r.try_get("n")?,
            )
            .map(Arc::new),
            None => None,
        };
        if let Ok(mut cached) = self.histogram.write() {
            *cached = Some((Instant::now(), h.clone()));
        }
        Ok(h)
    }

    /// A key such that about `reach` articles have a key from it up to
    /// `below` (exclusive; the newest when `None`), or `None` when that
    /// reaches back to the oldest articles: counted on the sort-key index
    /// for a short reach, estimated from the statistics for a long one.
    ///
    /// The statistics know nothing of the articles stored since the table
    /// was last analysed, and those are the newest when news streams in:
    /// a floor estimated from them let the first range of a search hold
    /// every article stored since (20,000 right after a bulk load, and
    /// text searches took 150 ms instead of 15). Counting a few thousand
    /// index entries costs a millisecond or two.
    async fn key_floor(
        &self,
        histogram: Option<&KeyHistogram>,
        below: Option<i64>,
        reach: u64,
    ) -> Result<Option<i64>, StoreError> {
        if reach > EXACT_FLOOR_MAX {
            return Ok(histogram.and_then(|h| h.floor(below, reach)));
        }
        let offset = i64::try_from(reach).unwrap_or(i64::MAX);
        let query = match below {
            Some(k) => sqlx::query_scalar(
                "SELECT sort_key FROM articles WHERE sort_key < $2 \
                 ORDER BY sort_key DESC OFFSET $1 LIMIT 1",
            )
            .bind(offset)
            .bind(k),
            None => sqlx::query_scalar(
                "SELECT sort_key FROM articles ORDER BY sort_key DESC OFFSET $1 LIMIT 1",
            )
            .bind(offset),
        };
        Ok(query.fetch_optional(&self.pool).await?)
    }

    /// The tsquery text for `terms`: reduced with the language's
    /// configuration when the listing is limited to one, else with every
    /// configuration articles are indexed with, OR-ed, so each article is
    /// matched through its own language. Empty when only stop words remain.
    async fn tsquery(&self, terms: &[String], lang: Option<&str>) -> Result<String, StoreError> {
        let configs: Vec<&'static str> = match lang {
            Some(l) => vec![ts_config(l)],
            None => TS_CONFIGS.to_vec(),
        };
        let mut words: Vec<(&'static str, &str)> = Vec::new();
        for c in &configs {
            for t in terms {
                words.extend(pg_text::pairs(c, t));
            }
        }
        self.lexicon
            .with(&self.pool, &words, |lexemes| {
                pg_text::query(lexemes, &configs, terms)
            })
            .await
    }
}

fn copy_of(r: &PgRow) -> Result<Copy, StoreError> {
    Ok(Copy {
        rank: Rank {
            republication: r.try_get("republication")?,
            published_day: r.try_get::<Option<String>, _>("published_day")?.into(),
            first_stored_at: r.try_get("first_stored_at")?,
            article_id: r.try_get("article_id")?,
        },
        fingerprint: r
            .try_get::<Option<i64>, _>("fingerprint")?
            .map(syndication::from_db),
        duplicate_of: r.try_get("duplicate_of")?,
    })
}

/// A `LIKE` pattern matching any subdomain of `host`.
fn subdomain_pattern(host: &str) -> String {
    let escaped = host
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%.{escaped}")
}

/// The sort keys of exactly the articles published in the period, when
/// its bounds are whole minutes (days, as a rule) within the keys' range:
/// an article with a publication has a key that begins with its minute.
/// `None` for other periods, which are checked on `published_at`.
fn exact_key_range(f: &Filters) -> Option<(Option<i64>, Option<i64>)> {
    if f.since.is_none() && f.until.is_none() {
        return None;
    }
    let key = |t: &Option<DateTime<Utc>>| -> Option<Option<i64>> {
        let Some(t) = t else {
            return Some(None);
        };
        let whole = t.timestamp().rem_euclid(60) == 0 && t.timestamp_subsec_nanos() == 0;
        let minute = t.timestamp().div_euclid(60);
        (whole && (1..=SORT_KEY_MAX_MINUTE).contains(&minute))
            .then_some(Some(minute << SORT_KEY_HASH_BITS))
    };
    Some((key(&f.since)?, key(&f.until)?))
}

/// Where a page in newest-first order starts.
fn push_after(qb: &mut QueryBuilder<Postgres>, plan: &ArticlePlan) {
    if let After::Key(k, id) = &plan.after {
        qb.push(" AND (a.sort_key, a.article_id) < (")
            .push_bind(*k)
            .push(", ")
            .push_bind(id.clone())
            .push(")");
    }
}

/// The listing query: the newest `window` articles passing the filters
/// (with a key from `floor` on), ranked for a relevance-ordered text
/// search, then the page.
fn article_query(
    plan: &ArticlePlan,
    tsquery: Option<&str>,
    floor: Option<i64>,
    window: u32,
) -> QueryBuilder<Postgres> {
    let columns = "a.article_id, a.title, a.published, a.site_name, a.lang, a.url, a.site, \
         a.original_publisher, a.duplicate_of, a.sort_key, ";
    let body = if tsquery.is_none() {
        "substr(a.body_text, 1, 1000) AS body"
    } else {
        "a.body_text AS body"
    };
    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
    let ranked = plan.sort == Sort::Relevance && tsquery.is_some();
    if ranked {
        // Rank the newest RANK_WINDOW matches that pass the filters, and
        // tell how many there were (the caller widens a range too narrow).
        qb.push(
            "w.article_id, w.title, w.published, w.site_name, w.lang, w.url, w.site, \
             w.original_publisher, w.duplicate_of, w.sort_key, w.body, \
             count(*) OVER () AS window_rows FROM (SELECT ",
        );
    }
    qb.push(columns).push(body);
    if ranked {
        qb.push(", a.tsv");
    }
    qb.push(" FROM articles a WHERE true");
    if let Some(tq) = tsquery {
        qb.push(" AND a.tsv @@ ")
            .push_bind(tq.to_string())
            .push("::tsquery");
    }
    push_filters(&mut qb, plan, floor);
    push_after(&mut qb, plan);
    qb.push(" ORDER BY a.sort_key DESC, a.article_id DESC");
    if let (true, Some(tq)) = (ranked, tsquery) {
        qb.push(" LIMIT ")
            .push_bind(i64::from(window))
            .push(") w ORDER BY ts_rank_cd(w.tsv, ")
            .push_bind(tq.to_string())
            .push("::tsquery) DESC, w.sort_key DESC, w.article_id DESC");
    }
    qb.push(" LIMIT ").push_bind(i64::from(plan.limit) + 1);
    if let After::Offset(n) = plan.after {
        qb.push(" OFFSET ").push_bind(i64::try_from(n).unwrap_or(0));
    }
    qb
}

/// Run `qb` unprepared (planned for its values).
async fn qb_rows(mut qb: QueryBuilder<Postgres>, pool: &PgPool) -> Result<Vec<PgRow>, StoreError> {
    Ok(qb.build().persistent(false).fetch_all(pool).await?)
}

/// The filters of `plan` as conditions on `a`, and the lowest sort key
/// read (`floor`), if any.
fn push_filters(qb: &mut QueryBuilder<Postgres>, plan: &ArticlePlan, floor: Option<i64>) {
    let f = &plan.filters;
    if let Some(lang) = &f.lang {
        qb.push(" AND a.lang = ").push_bind(lang.clone());
    }
    match (&f.entity_key, &f.label) {
        (Some(key), label) => {
            // By canonical name or by another name it goes by.
            qb.push(" AND a.article_id IN (SELECT article_id FROM entities WHERE canonical_key = ")
                .push_bind(key.clone());
            if let Some(label) = label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(" UNION SELECT article_id FROM entity_aliases WHERE alias_key = ")
                .push_bind(key.clone());
            if let Some(label) = label {
                qb.push(" AND label = ").push_bind(label.clone());
            }
            qb.push(")");
        }
        (None, Some(label)) => {
            qb.push(" AND EXISTS (SELECT 1 FROM entities e WHERE e.article_id = a.article_id AND e.label = ")
                .push_bind(label.clone())
                .push(")");
        }
        (None, None) => {}
    }
    if let Some(place) = &f.place_key {
        qb.push(" AND a.article_id IN (SELECT article_id FROM places WHERE name_key = ")
            .push_bind(place.clone())
            .push(")");
    }
    if let Some(country) = &f.country {
        qb.push(" AND a.article_id IN (SELECT article_id FROM places WHERE country = ")
            .push_bind(country.clone())
            .push(")");
    }
    if let Some((host, name)) = &f.site {
        qb.push(" AND (a.site = ")
            .push_bind(host.clone())
            .push(" OR a.site LIKE ")
            .push_bind(subdomain_pattern(host))
            .push(" OR a.site_key = ")
            .push_bind(name.clone())
            .push(")");
    }
    let (lo, hi) = match exact_key_range(f) {
        // The period is the key range: the planner then estimates it from
        // one column (with both columns it multiplied two selectivities
        // that are really one, thought a month held 7 % of its articles,
        // and read them all instead of walking the newest).
        Some(range) => {
            qb.push(" AND a.published_at IS NOT NULL");
            range
        }
        None => {
            if let Some(since) = f.since {
                qb.push(" AND a.published_at >= ").push_bind(since);
            }
            if let Some(until) = f.until {
                qb.push(" AND a.published_at < ").push_bind(until);
            }
            f.key_range()
        }
    };
    // One lower bound (two would be estimated as two conditions).
    if let Some(lo) = lo.max(floor) {
        qb.push(" AND a.sort_key >= ").push_bind(lo);
    }
    if let Some(hi) = hi {
        qb.push(" AND a.sort_key < ").push_bind(hi);
    }
    if f.exclude_duplicates {
        qb.push(" AND a.duplicate_of IS NULL");
    }
}

fn entity_count(r: &PgRow) -> Result<EntityCount, StoreError> {
    Ok(EntityCount {
        canonical: r.try_get("canonical")?,
        label: r.try_get("label")?,
        articles: u64::try_from(r.try_get::<i64, _>("articles")?).unwrap_or(0),
        mentions: u64::try_from(r.try_get::<i64, _>("mentions")?).unwrap_or(0),
    })
}

fn geo_of(r: &PgRow) -> Result<Option<GeoInfo>, StoreError> {
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

impl ArticleStore for PostgresStore {
    async fn upsert_batch(
        &self,
        events: &[Envelope<Enriched>],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        let out = self.write_batch(events, Mode::Upsert).await?;
        let n = events.len() as u64;
        let written = self.written.fetch_add(n, Ordering::Relaxed) + n;
        let next = self.next_analyze.load(Ordering::Relaxed);
        if written >= next
            && self
                .next_analyze
                .compare_exchange(next, written * 2, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                if let Err(e) =
                    sqlx::query("ANALYZE articles, entities, entity_aliases, places, quotes")
                        .execute(&pool)
                        .await
                {
                    tracing::warn!(error = %e, "refreshing the query planner's statistics failed");
                }
            });
        }
        Ok(out)
    }

    async fn articles(&self, q: &ArticleQuery) -> Result<Page<ArticleSummary>, StoreError> {
        let plan = q.plan()?;
        let terms = plan.filters.terms.clone().unwrap_or_default();
        let empty = Page {
            items: vec![],
            next_cursor: None,
        };
        if plan.filters.terms.as_ref().is_some_and(Vec::is_empty) {
            return Ok(empty);
        }
        let tsquery = if terms.is_empty() {
            None
        } else {
            let q = self.tsquery(&terms, plan.filters.lang.as_deref()).await?;
            if q.trim().is_empty() {
                return Ok(empty);
            }
            Some(q)
        };
        let relevance = plan.sort == Sort::Relevance;
        // The newest matches wanted: the page, or the window to rank.
        let window = if relevance && tsquery.is_some() {
            RANK_WINDOW
        } else {
            plan.limit + 1
        };
        // A text search looks at the newest articles first, then further
        // back while it found too few (see `KeyHistogram`).
        let histogram = match &tsquery {
            Some(_) => self.key_histogram().await?,
            None => None,
        };
        let (lo, hi) = exact_key_range(&plan.filters).unwrap_or(plan.filters.key_range());
        let below = match (&plan.after, hi) {
            (After::Key(k, _), Some(hi)) => Some((*k).saturating_add(1).min(hi)),
            (After::Key(k, _), None) => Some((*k).saturating_add(1)),
            (_, hi) => hi,
        };
        let mut reach = u64::from(window) * 4;
        let rows = loop {
            let floor = match &tsquery {
                Some(_) => self.key_floor(histogram.as_deref(), below, reach).await?,
                None => None,
            }
            .filter(|f| lo.is_none_or(|lo| *f > lo));
            let qb = article_query(&plan, tsquery.as_deref(), floor, window);
            // Not a prepared statement: PostgreSQL plans it for these
            // values (the key range above all), which a cached generic
            // plan would ignore.
            let rows = qb_rows(qb, &self.pool).await?;
            let Some(_) = floor else { break rows };
            let found = match rows.first() {
                Some(r) if relevance => {
                    u64::try_from(r.try_get::<i64, _>("window_rows")?).unwrap_or(0)
                }
                _ => rows.len() as u64,
            };
            if found >= u64::from(window) {
                break rows;
            }
            // Too few matches that recent: look as far back again as the
            // matches found so far suggest, and at least 8 times as far.
            reach = reach.saturating_mul((2 * u64::from(window) / found.max(1)).max(8));
        };
        let mut items = rows
            .iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                Ok((
                    ArticleSummary {
                        article_id: r.try_get("article_id")?,
                        title: r.try_get("title")?,
                        published: r.try_get("published")?,
                        site_name: r.try_get("site_name")?,
                        lang: r.try_get("lang")?,
                        url: r.try_get("url")?,
                        snippet: snippet(&body, &terms, SNIPPET_WORDS),
                        site: r.try_get("site")?,
                        original_publisher: r.try_get("original_publisher")?,
                        duplicate_of: r.try_get("duplicate_of")?,
                    },
                    r.try_get::<i64, _>("sort_key")?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
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
            "SELECT event, body_text, site, duplicate_of, first_stored_at, stored_at FROM articles WHERE article_id = $1",
        )
        .bind(article_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let event = crate::derive::stored_event(r.try_get("event")?, r.try_get("body_text")?)?;
        let entities = sqlx::query(
            "SELECT label, canonical, mentions, aliases, geonames_id, lat, lon, country, kind \
             FROM entities WHERE article_id = $1 ORDER BY mentions DESC, canonical",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|e| {
            Ok(EntityInfo {
                canonical: e.try_get("canonical")?,
                label: e.try_get("label")?,
                mentions: u32::try_from(e.try_get::<i32, _>("mentions")?).unwrap_or(0),
                aliases: serde_json::from_str(e.try_get("aliases")?)?,
                geo: geo_of(e)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let places = sqlx::query(
            "SELECT name, mentions, geonames_id, lat, lon, country, kind \
             FROM places WHERE article_id = $1 ORDER BY mentions DESC, name",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|p| {
            Ok(PlaceInfo {
                name: p.try_get("name")?,
                mentions: u32::try_from(p.try_get::<i32, _>("mentions")?).unwrap_or(0),
                geo: geo_of(p)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let quotes = sqlx::query(
            "SELECT speaker, text, start, \"end\" FROM quotes WHERE article_id = $1 ORDER BY seq",
        )
        .bind(article_id)
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
            "SELECT article_id FROM articles WHERE duplicate_of = $1 ORDER BY article_id LIMIT 1000",
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
            r.try_get("first_stored_at")?,
            r.try_get("stored_at")?,
        )))
    }

    async fn top_entities(&self, q: &EntityQuery) -> Result<Vec<EntityCount>, StoreError> {
        let plan = q.plan()?;
        if plan.lang.is_none() && (plan.since.is_some() || plan.until.is_some()) {
            return self.top_entities_of_period(&plan).await;
        }
        // The period's articles first, then each one's entities through
        // the primary key (article_id, label, …): a nested loop the
        // planner would not pick by itself (it scanned every entity of the
        // label and hashed them: 150 ms for a month of 100k articles,
        // against 60).
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT max(e.canonical) AS canonical, e.label, count(*) AS articles, \
             sum(e.mentions)::int8 AS mentions \
             FROM (SELECT a.article_id FROM articles a WHERE true",
        );
        if let Some(since) = plan.since {
            qb.push(" AND a.published_at >= ").push_bind(since);
        }
        if let Some(until) = plan.until {
            qb.push(" AND a.published_at < ").push_bind(until);
        }
        if let Some(lang) = &plan.lang {
            qb.push(" AND a.lang = ").push_bind(lang.clone());
        }
        if plan.exclude_duplicates {
            qb.push(" AND a.duplicate_of IS NULL");
        }
        qb.push(
            ") a CROSS JOIN LATERAL (SELECT e.canonical, e.label, e.canonical_key, e.mentions \
             FROM entities e WHERE e.article_id = a.article_id",
        );
        if let Some(label) = &plan.label {
            qb.push(" AND e.label = ").push_bind(label.clone());
        }
        // OFFSET 0 keeps the subquery a parameterised scan per article;
        // over all time, scanning the entities is cheaper (no OFFSET).
        if plan.since.is_some() || plan.until.is_some() {
            qb.push(" OFFSET 0");
        }
        qb.push(") e");
        self.entity_counts(qb, plan.limit).await
    }

    async fn quotes(&self, q: &QuoteQuery) -> Result<Page<QuoteHit>, StoreError> {
        let plan = q.plan()?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT q.article_id, q.seq, q.speaker, q.text, a.title, a.published, a.url, a.sort_key \
             FROM quotes q JOIN articles a ON a.article_id = q.article_id WHERE true",
        );
        if let Some(key) = &plan.speaker_key {
            qb.push(" AND (q.speaker_key = ")
                .push_bind(key.clone())
                .push(" OR q.speaker_last = ")
                .push_bind(key.clone())
                .push(")");
        }
        if let Some(since) = plan.since {
            qb.push(" AND a.published_at >= ").push_bind(since);
        }
        if let Some(until) = plan.until {
            qb.push(" AND a.published_at < ").push_bind(until);
        }
        if let Some(lang) = &plan.lang {
            qb.push(" AND a.lang = ").push_bind(lang.clone());
        }
        if plan.exclude_duplicates {
            qb.push(" AND a.duplicate_of IS NULL");
        }
        if let After::QuoteKey(k, id, seq) = &plan.after {
            qb.push(" AND ((a.sort_key, a.article_id) < (")
                .push_bind(*k)
                .push(", ")
                .push_bind(id.clone())
                .push(") OR (a.sort_key = ")
                .push_bind(*k)
                .push(" AND a.article_id = ")
                .push_bind(id.clone())
                .push(" AND q.seq > ")
                .push_bind(i32::try_from(*seq).unwrap_or(i32::MAX))
                .push("))");
        }
        qb.push(" ORDER BY a.sort_key DESC, a.article_id DESC, q.seq LIMIT ")
            .push_bind(i64::from(plan.limit) + 1);
        let rows = qb.build().persistent(false).fetch_all(&self.pool).await?;
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
                i64::from(r.try_get::<i32, _>("seq")?),
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
        let row = sqlx::query("SELECT event, body_text FROM articles WHERE article_id = $1")
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
        Backend::Postgres
    }
}

#[cfg(test)]
mod tests {
    use super::KeyHistogram;

    #[test]
    fn the_floor_leaves_enough_articles_above_it() {
        // 10 buckets of 100 articles between keys 0, 10, …, 100.
        let h = KeyHistogram::new((0..=10).map(|i| i * 10).collect(), 1000.0).unwrap();
        // The newest 250: three whole buckets below the top one (key 100
        // may be followed by articles stored since the statistics).
        assert_eq!(h.floor(None, 250), Some(70));
        // Below key 55 (in the bucket 50..60): whole buckets below it.
        assert_eq!(h.floor(Some(55), 100), Some(40));
        assert_eq!(h.floor(Some(55), 101), Some(30));
        // Reaching the oldest bucket: no floor.
        assert_eq!(h.floor(Some(55), 600), None);
        assert_eq!(h.floor(None, 10_000), None);
        assert!(KeyHistogram::new(vec![5], 10.0).is_none());
    }
}
