-- semantic() (its transaction, custom plans) with index scans off: the exact nearest neighbours by reading every
-- embedding of the user. Not an application statement.
\set n random(1, 1000)
SELECT qv FROM bench_req WHERE n = :n \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.ef_search = 100;
SET LOCAL enable_indexscan = off;
WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> :qv AS distance FROM image_embeddings e JOIN images i ON i.id = e.image_id WHERE e.user_id = :uid AND i.user_id = :uid AND i.status = 'uploaded' ORDER BY e.embedding <=> :qv LIMIT :lim) SELECT id FROM near WHERE distance <= :maxd ORDER BY distance, id;
COMMIT;
