-- What the search data takes on disk: each table (heap, its TOAST) and each index.
SELECT c.relname AS relation,
       CASE c.relkind WHEN 'i' THEN coalesce(am.amname, '') ELSE 'table' END AS kind,
       pg_relation_size(c.oid) AS bytes,
       pg_size_pretty(pg_relation_size(c.oid)) AS size,
       CASE WHEN c.reltoastrelid <> 0 THEN pg_size_pretty(pg_relation_size(c.reltoastrelid) + coalesce((SELECT sum(pg_relation_size(indexrelid)) FROM pg_index WHERE indrelid = c.reltoastrelid), 0)::bigint) ELSE '' END AS toast
FROM pg_class c
LEFT JOIN pg_am am ON am.oid = c.relam AND c.relkind = 'i'
LEFT JOIN pg_index x ON x.indexrelid = c.oid
WHERE c.relname IN ('images', 'image_embeddings', 'album_images', 'albums')
   OR x.indrelid IN ('images'::regclass, 'image_embeddings'::regclass)
ORDER BY (x.indrelid IS NOT NULL), coalesce(x.indrelid, c.oid)::regclass::text, pg_relation_size(c.oid) DESC;
