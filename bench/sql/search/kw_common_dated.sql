-- keyword(): a common query within a date range (a year, a season or a month).
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(1, 200)
\set d random(1, 300)
SELECT k.q, d.fl, d.fu, d.tl, d.tu FROM bench_kw k, bench_dates d WHERE k.kind = 'mix' AND k.n = :n AND d.n = :d \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT id FROM ( SELECT i.id, i.taken_at, i.search_doc FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.taken_at >= :fu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) >= :fl AND i.taken_at < :tu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) < :tl AND i.search_doc @@ websearch_to_tsquery('english', :q) ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :cap) m ORDER BY ts_rank_cd(m.search_doc, websearch_to_tsquery('english', :q)) DESC, m.taken_at DESC NULLS LAST, m.id LIMIT :lim;
COMMIT;
