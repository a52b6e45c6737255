-- What one writes first instead of keyword(): a substring match on the caption, newest
-- first (no ranking, no stemming), for a rare word. Not an application statement.
\set n random(401, 600)
SELECT q FROM bench_kw WHERE kind = 'mix' AND n = :n \gset
SELECT i.id FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.caption ILIKE '%' || :q || '%' ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :lim;
