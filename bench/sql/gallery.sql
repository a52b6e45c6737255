-- The get-gallery handler's queries: the gallery row, then every album with its photos.
SELECT g.id, g.created_at, j.id, j.status, cardinality(j.image_ids),
       (SELECT count(*) FROM albums a WHERE a.gallery_id = g.id)
FROM galleries g JOIN processing_jobs j ON j.gallery_id = g.id
WHERE g.id = :gallery AND g.user_id = (SELECT id FROM users WHERE subject = 'loadtest');
SELECT a.id, a.title, a.description, a.cover_image_id, i.id, i.width, i.height, i.taken_at, i.caption, i.tags
FROM albums a
LEFT JOIN album_images ai ON ai.album_id = a.id
LEFT JOIN images i ON i.id = ai.image_id AND i.user_id = a.user_id
WHERE a.gallery_id = :gallery AND a.user_id = (SELECT id FROM users WHERE subject = 'loadtest')
ORDER BY a.position, ai.position;
