-- The full-text index merges its segments less often: automatic merges
-- start once 64 segments of a level exist (was 16). Writes spent most of
-- their time in merges as the index grew; searches read a few more
-- segments, well inside their budget.
INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 64);
