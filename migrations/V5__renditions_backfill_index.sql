-- Finding uploaded photos that still need renditions (serve's background backfill) without
-- reading every image row: a partial index on exactly those, oldest first.
CREATE INDEX images_without_renditions_idx ON images (uploaded_at, id)
    WHERE status = 'uploaded' AND NOT renditions;
