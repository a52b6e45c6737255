-- What the pgbench scripts ask, drawn once (deterministic): query texts by kind, date
-- ranges, candidate place words, result pages of 30 ids. Each pgbench transaction reads one
-- row of these by a random number (one primary-key read, reported apart by pgbench -r).
\set ON_ERROR_STOP 1
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.9);
DROP TABLE IF EXISTS bench_kw, bench_dates, bench_ids;
-- common: one of the 10 most frequent words; rare: a word of rank 1000-2000; two: two words
-- of rank 10-200 (both must match); phrase: two words that stand next to each other in one
-- of the main user's captions, quoted; mix: all four, 800 rows.
CREATE TABLE bench_kw (kind text, n int, q text NOT NULL, PRIMARY KEY (kind, n));
INSERT INTO bench_kw
SELECT 'common', n, (SELECT word FROM bench_vocab WHERE rank = 1 + (n % 10)) FROM generate_series(1, 200) n;
INSERT INTO bench_kw
SELECT 'rare', n, v.word
FROM (SELECT n, 1000 + floor(random() * 1000)::int AS r FROM generate_series(1, 200) n) s
JOIN bench_vocab v ON v.rank = s.r;
INSERT INTO bench_kw
SELECT 'two', n, a.word || ' ' || b.word
FROM (SELECT n, 10 + floor(random() * 190)::int AS r1, 10 + floor(random() * 190)::int AS r2 FROM generate_series(1, 200) n) s
JOIN bench_vocab a ON a.rank = s.r1 JOIN bench_vocab b ON b.rank = s.r2;
-- Two neighbouring words of a caption, neither a stop word (stop words keep their position
-- in the tsvector, so "dog on beach" is not the phrase "dog beach").
INSERT INTO bench_kw
SELECT 'phrase', row_number() OVER (ORDER BY n), '"' || w[p] || ' ' || w[p + 1] || '"'
FROM (SELECT n, string_to_array(lower(caption), ' ') AS w
      FROM generate_series(1, 400) n
      JOIN images ON id = md5('bench-image-0-' || (1 + (n * 7919) % (SELECT value::int FROM bench_meta WHERE key = 'main_photos')))::uuid) c,
     LATERAL (SELECT p FROM generate_series(1, cardinality(w) - 1) p
              WHERE NOT w[p] = ANY ('{a,the,on,with,in,at,and,near}') AND NOT w[p + 1] = ANY ('{a,the,on,with,in,at,and,near}')
              ORDER BY random() + n * 0 LIMIT 1) pos
ORDER BY n LIMIT 200;
INSERT INTO bench_kw
SELECT 'mix', row_number() OVER (ORDER BY kind, n), q FROM bench_kw WHERE kind <> 'mix';

-- Date ranges as the app turns local days into parameters (shared/src/repo/search.rs
-- conditions): from day D: local D 00:00 and the UTC instant D 00:00 - 18 h; to day E:
-- local E+1 00:00 and E+1 00:00 + 18 h. A third each: one year, one month, one season.
CREATE TABLE bench_dates (n int PRIMARY KEY, from_day date, to_day date,
                          fl timestamp, fu timestamptz, tl timestamp, tu timestamptz);
INSERT INTO bench_dates (n, from_day, to_day)
SELECT n, d, CASE n % 3 WHEN 0 THEN (d + interval '1 year - 1 day')::date
                        WHEN 1 THEN (d + interval '1 month - 1 day')::date
                        ELSE (d + interval '3 months - 1 day')::date END
FROM (SELECT n, CASE n % 3 WHEN 0 THEN make_date(2016 + floor(random() * 10)::int, 1, 1)
                           ELSE make_date(2016 + floor(random() * 10)::int, 1 + floor(random() * 12)::int, 1) END AS d
      FROM generate_series(1, 300) n) s;
UPDATE bench_dates SET fl = from_day::timestamp, fu = (from_day::timestamp - interval '18 hours') AT TIME ZONE 'UTC',
                       tl = (to_day + 1)::timestamp, tu = ((to_day + 1)::timestamp + interval '18 hours') AT TIME ZONE 'UTC';

-- A result page: 30 of the main user's photos, as the fused ranking hands them to results().
CREATE TABLE bench_ids (n int PRIMARY KEY, ids text NOT NULL);
INSERT INTO bench_ids
SELECT n, array(SELECT md5('bench-image-0-' || (1 + floor(random() * m)::int + n * 0))::uuid FROM generate_series(1, 30))::text
FROM generate_series(1, 500) n, (SELECT value::int AS m FROM bench_meta WHERE key = 'main_photos') mp;

-- One row per hybrid request: a text of the mix, sometimes a date range, a query vector, a
-- page of ids, the place candidates the app would look up (the query's words).
DROP TABLE IF EXISTS bench_req;
CREATE TABLE bench_req AS
SELECT g.n, k.q, string_to_array(lower(replace(k.q, '"', '')), ' ')::text AS cands,
       d.fl, d.fu, d.tl, d.tu, v.v::text AS qv, i.ids
FROM generate_series(1, 1000) g(n)
JOIN bench_kw k ON k.kind = 'mix' AND k.n = 1 + (g.n * 37) % 800
JOIN bench_dates d ON d.n = 1 + (g.n * 13) % 300
JOIN bench_qvec v ON v.n = g.n
JOIN bench_ids i ON i.n = 1 + g.n % 500;
ALTER TABLE bench_req ADD PRIMARY KEY (n);
ANALYZE bench_kw, bench_dates, bench_ids, bench_req;
