-- keyword(): a two query, no filter but the user's photos.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(601, 800)
\set d random(1, 300)
SELECT q FROM bench_kw WHERE kind = 'mix' AND n = :n \gset
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.search_doc @@ websearch_to_tsquery('english', :q) ORDER BY ts_rank_cd(i.search_doc, websearch_to_tsquery('english', :q)) DESC, i.taken_at DESC NULLS LAST, i.id LIMIT :lim;
