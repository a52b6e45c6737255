-- keyword(): a two query, no filter but the user's photos: in its transaction with custom
-- plans, the newest :cap matches ranked by ts_rank_cd, the best :lim kept.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(601, 800)
SELECT q FROM bench_kw WHERE kind = 'mix' AND n = :n \gset
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT id FROM ( SELECT i.id, i.taken_at, i.search_doc FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.search_doc @@ websearch_to_tsquery('english', :q) ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :cap) m ORDER BY ts_rank_cd(m.search_doc, websearch_to_tsquery('english', :q)) DESC, m.taken_at DESC NULLS LAST, m.id LIMIT :lim;
COMMIT;
