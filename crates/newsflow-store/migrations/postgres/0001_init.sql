-- The PostgreSQL schema: the same tables and columns as SQLite's (after its
-- migration 2), with native types, and a tsvector per article built with
-- the article's language (`ts_config`) from accent-folded text, indexed
-- with GIN.

CREATE TABLE articles (
    article_id         TEXT PRIMARY KEY,
    trace_id           TEXT NOT NULL,
    url                TEXT NOT NULL,
    final_url          TEXT,
    canonical_url      TEXT,
    title              TEXT,
    authors            TEXT NOT NULL DEFAULT '[]',   -- JSON array
    published          TEXT,                         -- as the article gives it
    published_at       TIMESTAMPTZ,                  -- that, as an instant
    published_day      TEXT,                         -- YYYY-MM-DD as published
    modified           TEXT,
    site               TEXT,                         -- host without www.
    site_name          TEXT,
    site_key           TEXT,                         -- site_name, folded
    original_publisher TEXT,
    republication      BOOLEAN NOT NULL DEFAULT false,
    lang               TEXT NOT NULL,
    lang_hint          TEXT,
    description        TEXT,
    image              TEXT,
    sections           TEXT NOT NULL DEFAULT '[]',   -- JSON array
    tags               TEXT NOT NULL DEFAULT '[]',   -- JSON array
    body_text          TEXT NOT NULL,
    summary            TEXT,
    keywords           TEXT NOT NULL DEFAULT '[]',   -- JSON array of {text, score}
    tone               DOUBLE PRECISION,
    ts_config          REGCONFIG NOT NULL,
    tsv                TSVECTOR NOT NULL,
    fingerprint        BIGINT,                       -- SimHash bits (signed)
    fp_b0              INTEGER,                      -- its four 16-bit bands
    fp_b1              INTEGER,
    fp_b2              INTEGER,
    fp_b3              INTEGER,
    duplicate_of       TEXT,                         -- the original's article_id
    enriched_at        TIMESTAMPTZ NOT NULL,
    first_stored_at    TIMESTAMPTZ NOT NULL,
    stored_at          TIMESTAMPTZ NOT NULL,
    sort_at            TIMESTAMPTZ NOT NULL,         -- published_at, else first_stored_at
    sort_key           BIGINT NOT NULL,              -- orders by sort_at (see derive.rs)
    schema_version     INTEGER NOT NULL,
    derived_version    INTEGER NOT NULL,
    event              TEXT NOT NULL                 -- the whole enriched envelope, JSON
);

CREATE INDEX articles_sort ON articles (sort_key DESC, article_id DESC);
CREATE INDEX articles_published_at ON articles (published_at);
CREATE INDEX articles_lang ON articles (lang, sort_key DESC);
CREATE INDEX articles_site ON articles (site);
CREATE INDEX articles_site_key ON articles (site_key);
CREATE INDEX articles_duplicate_of ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX articles_fp_b0 ON articles (fp_b0) WHERE fp_b0 IS NOT NULL;
CREATE INDEX articles_fp_b1 ON articles (fp_b1) WHERE fp_b1 IS NOT NULL;
CREATE INDEX articles_fp_b2 ON articles (fp_b2) WHERE fp_b2 IS NOT NULL;
CREATE INDEX articles_fp_b3 ON articles (fp_b3) WHERE fp_b3 IS NOT NULL;
CREATE INDEX articles_derived ON articles (derived_version);
CREATE INDEX articles_tsv ON articles USING GIN (tsv);

CREATE TABLE entities (
    article_id    TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    label         TEXT NOT NULL,                  -- PER, ORG, LOC
    canonical     TEXT NOT NULL,
    canonical_key TEXT NOT NULL,                  -- folded
    mentions      INTEGER NOT NULL,
    aliases       TEXT NOT NULL DEFAULT '[]',     -- JSON: other surface forms
    geonames_id   BIGINT,
    lat           DOUBLE PRECISION,
    lon           DOUBLE PRECISION,
    country       TEXT,
    kind          TEXT,
    PRIMARY KEY (article_id, label, canonical_key)
);

CREATE INDEX entities_key ON entities (canonical_key, label);

CREATE TABLE entity_aliases (
    alias_key  TEXT NOT NULL,
    label      TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    PRIMARY KEY (alias_key, label, article_id)
);

CREATE INDEX entity_aliases_article ON entity_aliases (article_id);

CREATE TABLE places (
    article_id  TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    name_key    TEXT NOT NULL,
    name        TEXT NOT NULL,
    mentions    INTEGER NOT NULL,
    geonames_id BIGINT,
    lat         DOUBLE PRECISION,
    lon         DOUBLE PRECISION,
    country     TEXT,                             -- ISO 3166-1 alpha-2
    kind        TEXT,
    PRIMARY KEY (article_id, name_key)
);

CREATE INDEX places_name ON places (name_key);
CREATE INDEX places_country ON places (country) WHERE country IS NOT NULL;

CREATE TABLE quotes (
    article_id   TEXT NOT NULL REFERENCES articles (article_id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    speaker      TEXT,
    speaker_key  TEXT,
    speaker_last TEXT,
    text         TEXT NOT NULL,
    start        BIGINT NOT NULL,
    "end"        BIGINT NOT NULL,
    PRIMARY KEY (article_id, seq)
);

CREATE INDEX quotes_speaker ON quotes (speaker_key);
CREATE INDEX quotes_speaker_last ON quotes (speaker_last);
