-- PROPOSED, not the application's statement today: keyword() ranking only the newest 2,000
-- matches (found in the order of the proposed index on (user_id, taken_at DESC NULLS LAST,
-- id); bench/search.sh's group "proposed" makes it) instead of all of them;
-- the same two-word queries as kw_two.sql.
\set n random(601, 800)
\set d random(1, 300)
SELECT q FROM bench_kw WHERE kind = 'mix' AND n = :n \gset
WITH m AS MATERIALIZED ( SELECT i.id, i.search_doc, i.taken_at FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.search_doc @@ websearch_to_tsquery('english', :q) ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT 2000) SELECT id FROM m ORDER BY ts_rank_cd(m.search_doc, websearch_to_tsquery('english', :q)) DESC, m.taken_at DESC NULLS LAST, m.id LIMIT :lim;
