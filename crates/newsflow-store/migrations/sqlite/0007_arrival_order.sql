-- Derived rows in the order articles arrive.
--
-- Article ids are hashes of URLs: rows clustered by article id (entities,
-- places, quotes) took each new article at a random page, so every commit
-- dirtied, logged and checkpointed a page per article and table, and
-- writes slowed as the file grew (1,249 articles/s at 100k with hashed
-- ids, against 2,530 with ids in order). Each article now has an arrival
-- number (`arrival`, unique, given in increasing order as articles are
-- first stored) and its derived rows are clustered by it, so a batch's
-- rows go to the end of each table. The article id stays in the rows that
-- queries join on it.
--
-- Rows stored before get their article's rowid as arrival number (rowids
-- were given in increasing order too).

ALTER TABLE articles ADD COLUMN arrival INTEGER;
UPDATE articles SET arrival = rowid;
CREATE UNIQUE INDEX articles_arrival ON articles (arrival);
-- The copies of a period, as the top-entities query leaves them out of
-- the entity rows (by arrival number, which the period index holds).
DROP INDEX articles_copies_period;
CREATE INDEX articles_copies_period ON articles (published_at, arrival)
    WHERE duplicate_of IS NOT NULL;

CREATE TABLE entities_new (
    arrival       INTEGER NOT NULL,
    article_id    TEXT NOT NULL,
    label         TEXT NOT NULL,
    canonical     TEXT NOT NULL,
    canonical_key TEXT NOT NULL,
    mentions      INTEGER NOT NULL,
    aliases       TEXT NOT NULL DEFAULT '[]',
    geonames_id   INTEGER,
    lat           REAL,
    lon           REAL,
    country       TEXT,
    kind          TEXT,
    published_us  INTEGER,
    PRIMARY KEY (arrival, label, canonical_key)
) WITHOUT ROWID;
INSERT INTO entities_new
    SELECT a.arrival, e.article_id, e.label, e.canonical, e.canonical_key, e.mentions, e.aliases,
           e.geonames_id, e.lat, e.lon, e.country, e.kind, e.published_us
    FROM entities e JOIN articles a ON a.article_id = e.article_id;
DROP TABLE entities;
ALTER TABLE entities_new RENAME TO entities;
CREATE INDEX entities_key ON entities (canonical_key, label);
CREATE INDEX entities_period ON entities (label, published_us, mentions, canonical);

CREATE TABLE entity_aliases_new (
    alias_key TEXT NOT NULL,
    label     TEXT NOT NULL,
    arrival   INTEGER NOT NULL,
    PRIMARY KEY (alias_key, label, arrival)
) WITHOUT ROWID;
INSERT INTO entity_aliases_new
    SELECT x.alias_key, x.label, a.arrival
    FROM entity_aliases x JOIN articles a ON a.article_id = x.article_id;
DROP TABLE entity_aliases;
ALTER TABLE entity_aliases_new RENAME TO entity_aliases;
CREATE INDEX entity_aliases_arrival ON entity_aliases (arrival);

CREATE TABLE places_new (
    arrival     INTEGER NOT NULL,
    article_id  TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    name        TEXT NOT NULL,
    mentions    INTEGER NOT NULL,
    geonames_id INTEGER,
    lat         REAL,
    lon         REAL,
    country     TEXT,
    kind        TEXT,
    PRIMARY KEY (arrival, name_key)
) WITHOUT ROWID;
INSERT INTO places_new
    SELECT a.arrival, p.article_id, p.name_key, p.name, p.mentions, p.geonames_id, p.lat, p.lon,
           p.country, p.kind
    FROM places p JOIN articles a ON a.article_id = p.article_id;
DROP TABLE places;
ALTER TABLE places_new RENAME TO places;
CREATE INDEX places_name ON places (name_key);
CREATE INDEX places_country ON places (country) WHERE country IS NOT NULL;

CREATE TABLE quotes_new (
    arrival      INTEGER NOT NULL,
    article_id   TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    speaker      TEXT,
    speaker_key  TEXT,
    speaker_last TEXT,
    text         TEXT NOT NULL,
    start        INTEGER NOT NULL,
    "end"        INTEGER NOT NULL,
    PRIMARY KEY (arrival, seq)
) WITHOUT ROWID;
INSERT INTO quotes_new
    SELECT a.arrival, q.article_id, q.seq, q.speaker, q.speaker_key, q.speaker_last, q.text,
           q.start, q."end"
    FROM quotes q JOIN articles a ON a.article_id = q.article_id;
DROP TABLE quotes;
ALTER TABLE quotes_new RENAME TO quotes;
CREATE INDEX quotes_speaker ON quotes (speaker_key);
CREATE INDEX quotes_speaker_last ON quotes (speaker_last);
