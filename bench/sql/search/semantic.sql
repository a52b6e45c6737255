-- semantic(): a query vector, the user's photos, in its transaction with the app's three SET LOCALs
-- (the app sends them in one batch; pgbench, with -M prepared, one by one).
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(1, 1000)
SELECT qv FROM bench_req WHERE n = :n \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.ef_search = 100;
WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> :qv AS distance FROM image_embeddings e JOIN images i ON i.id = e.image_id WHERE e.user_id = :uid AND i.user_id = :uid AND i.status = 'uploaded' ORDER BY e.embedding <=> :qv LIMIT :lim) SELECT id FROM near WHERE distance <= :maxd ORDER BY distance, id;
COMMIT;
