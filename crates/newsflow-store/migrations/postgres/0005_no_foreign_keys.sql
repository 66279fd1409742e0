-- The derived tables no longer check their article with a foreign key.
--
-- Every derived row is written by the store in the transaction that writes
-- its article, and replaced only with it; articles are never deleted. The
-- checks guarded nothing the writer does not, and each derived row paid
-- for one (a trigger and an index probe of articles, some 25 a stored
-- article): +8 % stored per second at 100k articles without them, in one
-- comparison on a noisy machine.

ALTER TABLE entities DROP CONSTRAINT IF EXISTS entities_article_id_fkey;
ALTER TABLE entity_aliases DROP CONSTRAINT IF EXISTS entity_aliases_article_id_fkey;
ALTER TABLE places DROP CONSTRAINT IF EXISTS places_article_id_fkey;
ALTER TABLE quotes DROP CONSTRAINT IF EXISTS quotes_article_id_fkey;
