-- A search without words, a date range only: keyword() for the first page (LIMIT 31) newest
-- first, in its transaction with custom plans, then count() up to FILTER_DEPTH.
-- The page is full for this user (a month is ~800 photos), so the capped count()
-- always follows; it runs outside a transaction, as the app runs it (plan cache as it decides).
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set d random(1, 300)
SELECT fl, fu, tl, tu FROM bench_dates WHERE n = :d \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.taken_at >= :fu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) >= :fl AND i.taken_at < :tu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) < :tl ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :page;
COMMIT;
SELECT count(*) FROM (SELECT 1 FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.taken_at >= :fu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) >= :fl AND i.taken_at < :tu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) < :tl LIMIT :depth) m;
