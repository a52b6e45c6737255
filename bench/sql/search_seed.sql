-- The photo library that bench/search.sh searches: one user with :main_photos uploaded
-- photos and :other_users users with :per_user each, every row as the application writes it
-- (status 'uploaded', sizes, renditions, place, caption, tags, camera), the main user's
-- photos in albums of 25 (20 albums to a gallery), and search_doc filled by the
-- application's own image_search_refresh(). Deterministic: setseed, one process, ids from md5.
--   psql -v main_photos=100000 -v other_users=900 -v per_user=1000 -f search_seed.sql
-- The images and image_embeddings indexes that are not constraints are dropped here, before
-- the load, and rebuilt (timed) by search_indexes.sql; their definitions wait in bench_index_defs.
\set ON_ERROR_STOP 1
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;

CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE bench_builds (what text PRIMARY KEY, seconds numeric NOT NULL);
CREATE TABLE bench_index_defs AS
    SELECT c.relname AS index_name, t.relname AS table_name, pg_get_indexdef(c.oid) AS def
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    WHERE t.relname IN ('images', 'image_embeddings')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid);
SELECT format('DROP INDEX %I', index_name) FROM bench_index_defs \gexec

-- ~2,000 words: ~300 real caption words first (the frequent ranks), then made-up words of
-- three syllables for the long tail (distinct by construction).
CREATE TABLE bench_vocab (rank int PRIMARY KEY, word text NOT NULL);
INSERT INTO bench_vocab
SELECT n, w FROM unnest(string_to_array(
  'beach sunset dog family friends city street mountain lake snow tree forest park garden '
  'flowers sky clouds river sea waves sand boat bridge building church castle market food '
  'dinner lunch breakfast coffee cake birthday party wedding child baby kids cat horse bird '
  'car bicycle train station airport night lights evening morning summer winter autumn spring '
  'rain sun portrait smile selfie group hiking trail road window door house kitchen table '
  'chair book museum painting statue fountain square harbour island rocks cliff valley field '
  'grass hill path fence farm cows sheep goat duck swan pigeon seagull fish restaurant bar '
  'wine beer glass plate pizza pasta salad bread cheese fruit icecream chocolate dessert '
  'candle fireplace christmas tree lights decorations gift balloon cake candles dance concert '
  'stage music guitar piano singer crowd festival fireworks parade flag sign graffiti wall '
  'alley staircase roof tower skyline bridge river canal gondola tram bus taxi bike motorbike '
  'tent camping campfire lake dock pier lighthouse sailboat kayak surfing swimming pool '
  'sunbathing towel umbrella hat sunglasses dress suit shoes backpack map ticket passport '
  'suitcase hotel room bed pillow balcony view terrace garden bench path pond reflection '
  'mirror shadow silhouette golden hour blue purple pink orange green yellow red white black '
  'grey colourful bright dark foggy misty cloudy sunny snowy frozen ice skiing snowboard '
  'sled snowman mittens scarf jacket coat leaves pumpkin apple orchard vineyard grapes harvest '
  'tractor barn meadow wildflowers butterfly bee ladybug spider squirrel deer fox rabbit owl '
  'eagle heron flamingo elephant giraffe lion zebra monkey zoo aquarium turtle dolphin whale '
  'jellyfish coral reef snorkeling diving shell starfish crab lobster oysters sushi noodles '
  'dumplings curry tacos burger fries steak barbecue grill picnic blanket basket lemonade '
  'tea teapot cup mug laptop desk office meeting whiteboard classroom graduation diploma '
  'stadium football soccer tennis basketball running marathon medal trophy team jersey '
  'grandmother grandfather mother father sister brother cousin uncle aunt newborn toddler '
  'puppy kitten playground swing slide sandbox toys lego puzzle drawing crayons school',
  ' ')) WITH ORDINALITY AS t(w, n)
ON CONFLICT DO NOTHING;
-- Repeated words above keep their first rank; the ranks left free fill from the made-up words.
CREATE TEMP TABLE head AS SELECT DISTINCT ON (word) rank, word FROM bench_vocab ORDER BY word, rank;
DELETE FROM bench_vocab;
INSERT INTO bench_vocab SELECT row_number() OVER (ORDER BY rank), word FROM head;
INSERT INTO bench_vocab
SELECT r, s[1 + r % 30] || s[1 + (r / 30) % 30] || s[1 + (r / 900) % 30]
FROM generate_series((SELECT max(rank) + 1 FROM bench_vocab), 2000) AS r,
     (SELECT string_to_array('ka lo mi ren tu vo sha dri pel nor ze qui bar fen gol hu jas ki lun mor nes ori pa rus sel tam ulm vex wir yan', ' ') AS s) syl;

-- A Zipf-Mandelbrot rank in 1..n (p(k) ~ 1/(k+3)): with n = 2000 the first word is in ~3.6 %
-- of draws, the 10th in ~1.2 %, the 1500th in ~0.01 %.
CREATE FUNCTION bench_zipf(n int) RETURNS int LANGUAGE sql VOLATILE
AS $$ SELECT least(n, greatest(1, floor(4 * power((n + 4) / 4.0, random()) - 3)::int)) $$;

CREATE TABLE bench_places (k int PRIMARY KEY, place text, region text, country_code text,
                           offset_minutes smallint, latitude float8, longitude float8);
INSERT INTO bench_places VALUES
 (0, 'Berlin', 'Berlin', 'DE', 60, 52.52, 13.40), (1, 'Westerland', 'Schleswig-Holstein', 'DE', 60, 54.91, 8.31),
 (2, 'Munich', 'Bavaria', 'DE', 60, 48.14, 11.58), (3, 'Paris', 'Île-de-France', 'FR', 60, 48.86, 2.35),
 (4, 'Lisbon', 'Lisbon', 'PT', 0, 38.72, -9.14), (5, 'Barcelona', 'Catalonia', 'ES', 60, 41.39, 2.17),
 (6, 'London', 'England', 'GB', 0, 51.51, -0.13), (7, 'Edinburgh', 'Scotland', 'GB', 0, 55.95, -3.19),
 (8, 'Rome', 'Lazio', 'IT', 60, 41.90, 12.50), (9, 'Venice', 'Veneto', 'IT', 60, 45.44, 12.33),
 (10, 'Amsterdam', 'North Holland', 'NL', 60, 52.37, 4.90), (11, 'Vienna', 'Vienna', 'AT', 60, 48.21, 16.37),
 (12, 'Zurich', 'Zurich', 'CH', 60, 47.38, 8.54), (13, 'Reykjavik', 'Capital Region', 'IS', 0, 64.15, -21.94),
 (14, 'New York City', 'New York', 'US', -300, 40.71, -74.01), (15, 'San Francisco', 'California', 'US', -480, 37.77, -122.42),
 (16, 'Kyoto', 'Kyoto', 'JP', 540, 35.01, 135.77), (17, 'Tokyo', 'Tokyo', 'JP', 540, 35.68, 139.69),
 (18, 'Sydney', 'New South Wales', 'AU', 600, -33.87, 151.21), (19, 'Cape Town', 'Western Cape', 'ZA', 120, -33.92, 18.42);

CREATE TABLE bench_cameras (k int PRIMARY KEY, make text, model text);
INSERT INTO bench_cameras VALUES (0, 'Apple', 'iPhone 13'), (1, 'Apple', 'iPhone 15 Pro'),
 (2, 'Google', 'Pixel 7'), (3, 'samsung', 'SM-S911B'), (4, 'SONY', 'ILCE-7M3'), (5, 'FUJIFILM', 'X-T4');

INSERT INTO users (id, subject, display_name)
SELECT md5('bench-main')::uuid, 'bench-main', 'Main' UNION ALL
SELECT md5('bench-user-' || u)::uuid, 'bench-user-' || u, NULL FROM generate_series(1, :other_users) u;

SELECT setseed(0.42);
-- u = 0 is the main user; photo n of user u. Home is place u % 20; 45 % of photos at home,
-- 40 % elsewhere, 15 % without a place.
CREATE TEMP TABLE draws AS
SELECT u, n,
       CASE WHEN u = 0 THEN md5('bench-main')::uuid ELSE md5('bench-user-' || u)::uuid END AS user_id,
       md5('bench-image-' || u || '-' || n)::uuid AS id,
       timestamptz '2016-01-01 00:00:00+00' + random() * interval '3652 days' AS taken_at,
       CASE WHEN r < 0.45 THEN u % 20 WHEN r < 0.85 THEN floor(random() * 20)::int END AS place_k,
       (u + floor(random() * 1.3)::int) % 6 AS camera_k,
       6 + floor(random() * 7)::int AS words,
       1 + floor(random() * 4)::int AS tags,
       random() < 0.25 AS portrait
FROM (SELECT 0 AS u, n, random() AS r FROM generate_series(1, :main_photos) n
      UNION ALL
      SELECT u, n, random() FROM generate_series(1, :other_users) u, generate_series(1, :per_user) n) s;

INSERT INTO images (id, user_id, storage_key, original_filename, declared_content_type, declared_size,
                    detected_content_type, size_bytes, width, height, taken_at, taken_at_offset_minutes,
                    latitude, longitude, camera_make, camera_model, orientation, status, caption, tags,
                    created_at, uploaded_at, etag, renditions, origin, place, region, country_code)
SELECT d.id, d.user_id, 'uploads/' || d.user_id || '/' || d.id, 'IMG_' || lpad(d.n::text, 6, '0') || '.jpg',
       'image/jpeg', 2500000 + (d.n * 7919) % 3000000, 'image/jpeg', 2500000 + (d.n * 7919) % 3000000,
       CASE WHEN d.portrait THEN 3024 ELSE 4032 END, CASE WHEN d.portrait THEN 4032 ELSE 3024 END,
       d.taken_at, coalesce(p.offset_minutes, 60), p.latitude, p.longitude, c.make, c.model, 1, 'uploaded',
       (SELECT upper(left(t, 1)) || substr(t, 2) FROM (
            SELECT string_agg(CASE WHEN random() < 0.35
                                   THEN (ARRAY['a', 'the', 'on', 'with', 'in', 'at', 'and', 'near'])[1 + floor(random() * 8)::int] || ' '
                                   ELSE '' END || v.w[bench_zipf(2000) + 0 * k], ' ' ORDER BY k) AS t
            FROM generate_series(1, d.words) g(k)) cap),
       ARRAY(SELECT DISTINCT v.w[bench_zipf(150)] FROM generate_series(1, d.tags)),
       d.taken_at + interval '3 days', d.taken_at + interval '3 days', md5(d.id::text), true, 'upload',
       p.place, p.region, p.country_code
FROM draws d
CROSS JOIN (SELECT array_agg(word ORDER BY rank) AS w FROM bench_vocab) v
LEFT JOIN bench_places p ON p.k = d.place_k
JOIN bench_cameras c ON c.k = d.camera_k
ORDER BY d.u, d.n;

-- The main user's photos, in time order, in albums of 25 and galleries of 20 albums, titled
-- as the offline organiser titles them ("Saturday Evening in Lisbon").
CREATE TEMP TABLE placed AS
SELECT id, user_id, (row_number() OVER (ORDER BY taken_at, id) - 1) AS k, taken_at, place
FROM images WHERE user_id = md5('bench-main')::uuid;
INSERT INTO galleries (id, user_id, created_at)
SELECT md5('bench-gallery-' || g)::uuid, md5('bench-main')::uuid, timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(0, (SELECT max(k) FROM placed) / 500) g;
INSERT INTO albums (id, gallery_id, user_id, title, description, cover_image_id, position, created_at)
SELECT md5('bench-album-' || a)::uuid, md5('bench-gallery-' || (a / 20))::uuid, md5('bench-main')::uuid,
       to_char(first.taken_at, 'FMDay') || ' ' ||
       CASE WHEN extract(hour FROM first.taken_at) < 12 THEN 'Morning' WHEN extract(hour FROM first.taken_at) < 18 THEN 'Afternoon' ELSE 'Evening' END
       || coalesce(' in ' || first.place, '') || ', ' || to_char(first.taken_at, 'FMDD FMMonth YYYY'),
       'Twenty-five photos of a day out.', first.id, a % 20, timestamptz '2026-01-01' + a * interval '1 second'
FROM generate_series(0, (SELECT max(k) FROM placed) / 25) a
JOIN placed first ON first.k = a * 25;
INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position)
SELECT md5('bench-album-' || (k / 25))::uuid, id, md5('bench-gallery-' || (k / 500))::uuid, user_id, k % 25
FROM placed;

-- The search document, by the application's own function, one user at a time.
SELECT count(image_search_refresh(array(SELECT id FROM images WHERE user_id = u.id))) AS refreshed_users FROM users u;
-- The update left a dead version of every row: rewrite, as a long-lived table would be
-- after autovacuum and page reuse.
VACUUM FULL images;
ANALYZE;

INSERT INTO bench_meta VALUES ('main_user', md5('bench-main')::uuid::text),
  ('main_photos', :'main_photos'), ('other_users', :'other_users'), ('per_user', :'per_user'),
  ('photos', (SELECT count(*) FROM images)::text);
