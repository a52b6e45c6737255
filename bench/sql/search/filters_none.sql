-- A search without words or filters: keyword() for the newest 31, in its transaction with
-- custom plans, then count() up to FILTER_DEPTH (10,000 of the user's 100,000).
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set d random(1, 300)
SELECT fl FROM bench_dates WHERE n = :d \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :page;
COMMIT;
SELECT count(*) FROM (SELECT 1 FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' LIMIT :depth) m;
