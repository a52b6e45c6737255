-- keyword() without words or filters: the newest 200 of the user's photos.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set d random(1, 300)
SELECT fl FROM bench_dates WHERE n = :d \gset
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :lim;
