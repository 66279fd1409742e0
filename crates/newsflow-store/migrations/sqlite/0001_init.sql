-- Articles, their entity mentions, and a full-text index over title + body.

CREATE TABLE articles (
    article_id         TEXT PRIMARY KEY NOT NULL,
    trace_id           TEXT NOT NULL,
    url                TEXT NOT NULL,
    final_url          TEXT,
    canonical_url      TEXT,
    title              TEXT,
    authors            TEXT NOT NULL DEFAULT '[]',   -- JSON array
    published          TEXT,                         -- RFC 3339 or YYYY-MM-DD
    modified           TEXT,
    site_name          TEXT,
    original_publisher TEXT,
    lang               TEXT,
    lang_hint          TEXT,
    description        TEXT,
    image              TEXT,
    sections           TEXT NOT NULL DEFAULT '[]',   -- JSON array
    tags               TEXT NOT NULL DEFAULT '[]',   -- JSON array
    body_text          TEXT NOT NULL,
    enriched_at        TEXT NOT NULL,                -- envelope time, RFC 3339 UTC, fixed width
    stored_at          TEXT NOT NULL,
    schema_version     INTEGER NOT NULL,
    event              TEXT NOT NULL                 -- the whole enriched envelope, JSON
);

CREATE INDEX articles_published ON articles (published);
CREATE INDEX articles_lang ON articles (lang);

CREATE TABLE entities (
    article_id TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    start      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL,
    label      TEXT NOT NULL,
    text       TEXT NOT NULL,
    canonical  TEXT NOT NULL,
    PRIMARY KEY (article_id, start, "end", label)
);

CREATE INDEX entities_canonical ON entities (canonical COLLATE NOCASE);

-- A plain FTS5 table (not external content) kept in sync by the store's
-- upsert, in the same transaction as the article row.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    article_id UNINDEXED,
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
