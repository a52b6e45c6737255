-- A user "loadtest" with one completed gallery of 1,000 photos in 40 albums of 25.
-- psql -v ON_ERROR_STOP=1 -f seed.sql; prints the job id and gallery id.
\set ON_ERROR_STOP 1
INSERT INTO users (subject) VALUES ('loadtest') ON CONFLICT (subject) DO NOTHING;
CREATE TEMP TABLE ids AS
  SELECT gen_random_uuid() AS image_id, n FROM generate_series(1, 1000) AS n;
INSERT INTO images (id, user_id, storage_key, original_filename, declared_content_type, declared_size,
                    status, width, height, taken_at, caption, tags, detected_content_type, renditions)
SELECT i.image_id, u.id, 'uploads/' || u.id || '/' || i.image_id, 'IMG_' || i.n || '.jpg', 'image/jpeg', 3000000,
       'uploaded', 4032, 3024, now() - (i.n || ' minutes')::interval, 'A caption for photo ' || i.n, ARRAY['beach', 'sunset'],
       'image/jpeg', true
FROM ids i, users u WHERE u.subject = 'loadtest';
CREATE TEMP TABLE g AS SELECT gen_random_uuid() AS gallery_id, gen_random_uuid() AS job_id;
INSERT INTO galleries (id, user_id) SELECT g.gallery_id, u.id FROM g, users u WHERE u.subject = 'loadtest';
INSERT INTO processing_jobs (id, user_id, gallery_id, image_ids, status, started_at, completed_at, organizer)
SELECT g.job_id, u.id, g.gallery_id, (SELECT array_agg(image_id) FROM (SELECT image_id FROM ids ORDER BY n LIMIT 50) s),
       'completed', now(), now(), 'offline'
FROM g, users u WHERE u.subject = 'loadtest';
CREATE TEMP TABLE a AS SELECT gen_random_uuid() AS album_id, p AS position FROM generate_series(0, 39) AS p;
INSERT INTO albums (id, gallery_id, user_id, title, description, cover_image_id, position)
SELECT a.album_id, g.gallery_id, u.id, 'Album ' || a.position, 'Twenty-five photos of a day by the sea.',
       (SELECT image_id FROM ids WHERE n = a.position * 25 + 1), a.position
FROM a, g, users u WHERE u.subject = 'loadtest';
INSERT INTO album_images (album_id, image_id, gallery_id, user_id, position)
SELECT a.album_id, i.image_id, g.gallery_id, u.id, (i.n - 1) % 25
FROM ids i JOIN a ON a.position = (i.n - 1) / 25, g, users u WHERE u.subject = 'loadtest';
ANALYZE;
SELECT job_id, gallery_id FROM g;
