-- Builds the image_embeddings indexes with the migration's definitions (bench_index_defs),
-- dropping them first if they exist; records each build's seconds as ':label'.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- Room for the whole graph of 1,000,000 vectors (~4 GB); a graph that outgrows it builds slowly.
SET maintenance_work_mem = '6GB';
SET max_parallel_maintenance_workers = 2;
SELECT format('DROP INDEX IF EXISTS %I', index_name) FROM bench_index_defs WHERE table_name = 'image_embeddings' \gexec
CREATE TEMP TABLE label AS SELECT :'label'::text AS label;
DO $$
DECLARE r record; t0 timestamptz;
BEGIN
    FOR r IN SELECT * FROM bench_index_defs WHERE table_name = 'image_embeddings' ORDER BY index_name LOOP
        t0 := clock_timestamp();
        EXECUTE r.def;
        INSERT INTO bench_builds SELECT r.index_name || ' ' || label, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1)
        FROM label
        ON CONFLICT (what) DO UPDATE SET seconds = excluded.seconds;
    END LOOP;
END
$$;
VACUUM ANALYZE image_embeddings;
INSERT INTO bench_meta VALUES ('embeddings', (SELECT count(*) FROM image_embeddings)::text)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
