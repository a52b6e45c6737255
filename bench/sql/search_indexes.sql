-- Rebuilds the images indexes search_seed.sql dropped (the migrations' own definitions, kept
-- in bench_index_defs), one at a time, recording each build's seconds in bench_builds.
\set ON_ERROR_STOP 1
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;
DO $$
DECLARE r record; t0 timestamptz;
BEGIN
    FOR r IN SELECT * FROM bench_index_defs WHERE table_name = 'images' ORDER BY index_name LOOP
        t0 := clock_timestamp();
        EXECUTE r.def;
        INSERT INTO bench_builds VALUES (r.index_name, round(extract(epoch FROM clock_timestamp() - t0)::numeric, 1));
    END LOOP;
END
$$;
ANALYZE images;
