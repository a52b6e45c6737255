-- 768-dimensional unit embeddings with structure, so that nearest neighbours mean something
-- (uniform random vectors are HNSW's worst case, and no real model's): 200 themes (random
-- unit centroids), 10 topics in each (the theme + a random offset of length 0.7), and each
-- photo its topic + Gaussian noise of length 0.3 to 1.0, normalised. Cosine distances: same
-- topic ~0.1-0.4, same theme ~0.5, other themes ~1. Query vectors (bench_qvec) come from the
-- same distribution. :who = main embeds the main user's photos (and makes the themes and
-- query vectors), :who = others every other user's. search_vectors_index.sql builds the indexes.
\set ON_ERROR_STOP 1
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;
-- Loading into a table without its vector indexes, then building them, is the fast way.
SELECT format('DROP INDEX IF EXISTS %I', index_name) FROM bench_index_defs WHERE table_name = 'image_embeddings' \gexec
SELECT :'who' = 'main' AS first \gset
\if :first
SELECT setseed(0.7);
-- A vector of independent N(0, sigma^2) components (Box-Muller): its length is ~ sigma * sqrt(dims).
CREATE FUNCTION bench_gauss(dims int, sigma float8) RETURNS vector LANGUAGE sql VOLATILE AS $$
    SELECT (array_agg(sigma * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::vector
    FROM generate_series(1, dims)
$$;
CREATE TABLE bench_topics (theme int, topic int, v vector(768), PRIMARY KEY (theme, topic));
INSERT INTO bench_topics
SELECT c.theme, t.topic, c.v + bench_gauss(768, 0.7 / sqrt(768))
FROM (SELECT theme, l2_normalize(bench_gauss(768, 1)) AS v FROM generate_series(0, 199) theme) c,
     generate_series(0, 9) t(topic);

CREATE TABLE bench_qvec (n int PRIMARY KEY, v vector(768) NOT NULL);
INSERT INTO bench_qvec
SELECT n, l2_normalize(t.v + bench_gauss(768, (0.3 + 0.7 * r2) / sqrt(768)))
FROM (SELECT n, floor(random() * 200)::int AS theme, floor(random() * 10)::int AS topic, random() AS r2
      FROM generate_series(1, 1000) n) q
JOIN bench_topics t ON t.theme = q.theme AND t.topic = q.topic;

\else
SELECT setseed(0.8);
\endif
INSERT INTO image_embeddings (image_id, user_id, model, source_sha, embedding, created_at)
SELECT s.id, s.user_id, 'gemini-embedding-001', sha256(convert_to(coalesce(s.caption, ''), 'UTF8')),
       l2_normalize(t.v + bench_gauss(768, (0.3 + 0.7 * s.r2) / sqrt(768))), s.uploaded_at
FROM (SELECT id, user_id, caption, uploaded_at, floor(random() * 200)::int AS theme,
             floor(random() * 10)::int AS topic, random() AS r2
      FROM images
      WHERE (user_id = md5('bench-main')::uuid) = (:'who' = 'main')
      ORDER BY user_id, id) s
JOIN bench_topics t ON t.theme = s.theme AND t.topic = s.topic;

ANALYZE image_embeddings;
