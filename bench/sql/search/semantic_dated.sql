-- semantic() within a date range.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(1, 1000)
SELECT qv, fl, fu, tl, tu FROM bench_req WHERE n = :n \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.ef_search = 100;
WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> :qv AS distance FROM image_embeddings e JOIN images i ON i.id = e.image_id WHERE e.user_id = :uid AND i.user_id = :uid AND i.status = 'uploaded' AND i.taken_at >= :fu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) >= :fl AND i.taken_at < :tu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) < :tl ORDER BY e.embedding <=> :qv LIMIT :lim) SELECT id FROM near WHERE distance <= :maxd ORDER BY distance, id;
COMMIT;
