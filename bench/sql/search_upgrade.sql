-- Brings a database made by an older bench/search.sh (before the V12 changes of 2026-11-26:
-- images_user_taken_idx on (user_id, taken_at DESC NULLS LAST, id), images_unsearchable_idx,
-- image_embeddings.embedding SET STORAGE PLAIN) to the migration's schema without generating
-- the data again; each step is timed into bench_builds. Does nothing on an up-to-date database.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT pg_get_indexdef('images_user_taken_idx'::regclass) NOT LIKE '%NULLS LAST%' AS old_taken,
       to_regclass('images_unsearchable_idx') IS NULL AS no_unsearchable,
       (SELECT attstorage <> 'p' FROM pg_attribute
        WHERE attrelid = 'image_embeddings'::regclass AND attname = 'embedding') AS toasted \gset
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
\if :old_taken
DROP INDEX images_user_taken_idx;
UPDATE t0 SET t = clock_timestamp();
CREATE INDEX images_user_taken_idx ON images (user_id, taken_at DESC NULLS LAST, id) WHERE status = 'uploaded';
INSERT INTO bench_builds SELECT 'images_user_taken_idx', round(extract(epoch FROM clock_timestamp() - t)::numeric, 1) FROM t0
ON CONFLICT (what) DO UPDATE SET seconds = excluded.seconds;
UPDATE bench_index_defs SET def = pg_get_indexdef('images_user_taken_idx'::regclass) WHERE index_name = 'images_user_taken_idx';
\endif
\if :no_unsearchable
UPDATE t0 SET t = clock_timestamp();
CREATE INDEX images_unsearchable_idx ON images (id) WHERE status = 'uploaded' AND search_doc IS NULL;
INSERT INTO bench_builds SELECT 'images_unsearchable_idx', round(extract(epoch FROM clock_timestamp() - t)::numeric, 1) FROM t0
ON CONFLICT (what) DO UPDATE SET seconds = excluded.seconds;
INSERT INTO bench_index_defs SELECT 'images_unsearchable_idx', 'images', pg_get_indexdef('images_unsearchable_idx'::regclass);
\endif
ANALYZE images;
\if :toasted
-- Existing rows keep their TOAST storage until the table is rewritten; VACUUM FULL rewrites
-- it and rebuilds its indexes, HNSW included (the memory and workers search_vectors_index.sql uses).
ALTER TABLE image_embeddings ALTER COLUMN embedding SET STORAGE PLAIN;
SET maintenance_work_mem = '6GB';
SET max_parallel_maintenance_workers = 2;
UPDATE t0 SET t = clock_timestamp();
VACUUM FULL image_embeddings;
INSERT INTO bench_builds SELECT 'VACUUM FULL image_embeddings to inline storage (heap, primary key, user_id and HNSW indexes)',
       round(extract(epoch FROM clock_timestamp() - t)::numeric, 1) FROM t0
ON CONFLICT (what) DO UPDATE SET seconds = excluded.seconds;
VACUUM ANALYZE image_embeddings;
CHECKPOINT;
\endif
