-- keyword() without words: a date range only, newest first.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set d random(1, 300)
SELECT fl, fu, tl, tu FROM bench_dates WHERE n = :d \gset
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.taken_at >= :fu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) >= :fl AND i.taken_at < :tu AND ((i.taken_at AT TIME ZONE 'UTC') + make_interval(mins => coalesce(i.taken_at_offset_minutes, 0)::int)) < :tl ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :lim;
