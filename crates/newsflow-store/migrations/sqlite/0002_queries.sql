-- The schema the query API needs: query columns on articles (site,
-- publication instant, keywords, tone, summary, fingerprint and its bands,
-- duplicate_of, stage timestamps), entities aggregated per article with
-- their geocoding, the names they are known by, places and quotes.
--
-- Version 1 kept one row per entity mention and a full-text table keyed
-- by an unindexed article_id (so replacing an article's entry scanned the
-- whole index). Both are rebuilt from the stored events (articles.event)
-- by the store when it opens, because derived_version is 0 for every
-- existing article.

ALTER TABLE articles ADD COLUMN site TEXT;                 -- host without www.
ALTER TABLE articles ADD COLUMN site_key TEXT;             -- site_name, folded
ALTER TABLE articles ADD COLUMN republication INTEGER NOT NULL DEFAULT 0;
ALTER TABLE articles ADD COLUMN published_at TEXT;         -- UTC, fixed width
ALTER TABLE articles ADD COLUMN published_day TEXT;        -- YYYY-MM-DD as published
ALTER TABLE articles ADD COLUMN summary TEXT;
ALTER TABLE articles ADD COLUMN keywords TEXT NOT NULL DEFAULT '[]';  -- JSON
ALTER TABLE articles ADD COLUMN tone REAL;
ALTER TABLE articles ADD COLUMN fingerprint INTEGER;       -- SimHash bits (signed)
ALTER TABLE articles ADD COLUMN fp_b0 INTEGER;             -- its four 16-bit bands
ALTER TABLE articles ADD COLUMN fp_b1 INTEGER;
ALTER TABLE articles ADD COLUMN fp_b2 INTEGER;
ALTER TABLE articles ADD COLUMN fp_b3 INTEGER;
ALTER TABLE articles ADD COLUMN duplicate_of TEXT;         -- the original's article_id
ALTER TABLE articles ADD COLUMN first_stored_at TEXT;
ALTER TABLE articles ADD COLUMN sort_at TEXT;              -- published_at, else first_stored_at
ALTER TABLE articles ADD COLUMN sort_key INTEGER;          -- unique; orders by sort_at (see derive.rs)
ALTER TABLE articles ADD COLUMN derived_version INTEGER NOT NULL DEFAULT 0;

UPDATE articles SET first_stored_at = stored_at, sort_at = stored_at;

DROP INDEX articles_published;
CREATE UNIQUE INDEX articles_sort_key ON articles (sort_key);
CREATE INDEX articles_published_at ON articles (published_at);
CREATE INDEX articles_site ON articles (site);
CREATE INDEX articles_site_key ON articles (site_key);
CREATE INDEX articles_duplicate_of ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX articles_fp_b0 ON articles (fp_b0) WHERE fp_b0 IS NOT NULL;
CREATE INDEX articles_fp_b1 ON articles (fp_b1) WHERE fp_b1 IS NOT NULL;
CREATE INDEX articles_fp_b2 ON articles (fp_b2) WHERE fp_b2 IS NOT NULL;
CREATE INDEX articles_fp_b3 ON articles (fp_b3) WHERE fp_b3 IS NOT NULL;
CREATE INDEX articles_derived ON articles (derived_version);

DROP TABLE entities;
DROP TABLE articles_fts;

-- The full-text index: contentless (the text lives in articles), one row
-- per article whose rowid is the article's sort_key, so newest-first
-- searches walk the index in rowid order and stop at the page size.
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title,
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- One row per entity of an article.
CREATE TABLE entities (
    article_id    TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    label         TEXT NOT NULL,                  -- PER, ORG, LOC
    canonical     TEXT NOT NULL,
    canonical_key TEXT NOT NULL,                  -- folded
    mentions      INTEGER NOT NULL,
    aliases       TEXT NOT NULL DEFAULT '[]',     -- JSON: other surface forms
    geonames_id   INTEGER,
    lat           REAL,
    lon           REAL,
    country       TEXT,
    kind          TEXT,
    PRIMARY KEY (article_id, label, canonical_key)
) WITHOUT ROWID;

CREATE INDEX entities_key ON entities (canonical_key, label);

-- Every folded name (canonical or mention) an article's entities go by:
-- the `entity` filter is one index lookup.
CREATE TABLE entity_aliases (
    alias_key  TEXT NOT NULL,
    label      TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    PRIMARY KEY (alias_key, label, article_id)
) WITHOUT ROWID;

CREATE INDEX entity_aliases_article ON entity_aliases (article_id);

-- Places named by an article (its LOC entities), geocoded when possible.
CREATE TABLE places (
    article_id  TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    name_key    TEXT NOT NULL,
    name        TEXT NOT NULL,
    mentions    INTEGER NOT NULL,
    geonames_id INTEGER,
    lat         REAL,
    lon         REAL,
    country     TEXT,                             -- ISO 3166-1 alpha-2
    kind        TEXT,
    PRIMARY KEY (article_id, name_key)
) WITHOUT ROWID;

CREATE INDEX places_name ON places (name_key);
CREATE INDEX places_country ON places (country) WHERE country IS NOT NULL;

CREATE TABLE quotes (
    article_id   TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,                -- order in the text
    speaker      TEXT,
    speaker_key  TEXT,                            -- folded
    speaker_last TEXT,                            -- last word of speaker_key
    text         TEXT NOT NULL,
    start        INTEGER NOT NULL,
    "end"        INTEGER NOT NULL,
    PRIMARY KEY (article_id, seq)
) WITHOUT ROWID;

CREATE INDEX quotes_speaker ON quotes (speaker_key);
CREATE INDEX quotes_speaker_last ON quotes (speaker_last);
