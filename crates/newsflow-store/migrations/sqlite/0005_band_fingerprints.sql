-- The fingerprint band indexes hold the fingerprint as well, so the
-- articles sharing a band with a new one are found and compared without
-- reading their rows (see SqliteStore::link_batch).

DROP INDEX articles_fp_b0;
DROP INDEX articles_fp_b1;
DROP INDEX articles_fp_b2;
DROP INDEX articles_fp_b3;
CREATE INDEX articles_fp_b0 ON articles (fp_b0, fingerprint) WHERE fp_b0 IS NOT NULL;
CREATE INDEX articles_fp_b1 ON articles (fp_b1, fingerprint) WHERE fp_b1 IS NOT NULL;
CREATE INDEX articles_fp_b2 ON articles (fp_b2, fingerprint) WHERE fp_b2 IS NOT NULL;
CREATE INDEX articles_fp_b3 ON articles (fp_b3, fingerprint) WHERE fp_b3 IS NOT NULL;
