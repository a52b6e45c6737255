-- One GET /api/search with words, every statement it runs: known_places(), has_lexemes(),
-- keyword() and semantic() each in its transaction, results() for a page of 30, remember()'s insert and trim.
-- The statements as shared/src/repo/search.rs builds them; pgbench -M prepared, variables
-- uid, lim (200, the pool), cap (2000, RANKED_MATCHES), page (31, a first page of 30 + 1),
-- depth (10000, FILTER_DEPTH) and maxd (0.6) from -D; one primary-key read of bench_* picks the inputs.
\set n random(1, 1000)
SELECT q, cands, qv, ids FROM bench_req WHERE n = :n \gset
SELECT c, coalesce( (SELECT i.place FROM images i WHERE i.user_id = :uid AND i.place IS NOT NULL AND lower(i.place) = c LIMIT 1), (SELECT i.region FROM images i WHERE i.user_id = :uid AND i.region IS NOT NULL AND lower(i.region) = c LIMIT 1)) FROM unnest(:cands::text[]) AS c;
SELECT numnode(websearch_to_tsquery('english', :q)) > 0;
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SELECT id FROM ( SELECT i.id, i.taken_at, i.search_doc FROM images i WHERE i.user_id = :uid AND i.status = 'uploaded' AND i.search_doc @@ websearch_to_tsquery('english', :q) ORDER BY i.taken_at DESC NULLS LAST, i.id LIMIT :cap) m ORDER BY ts_rank_cd(m.search_doc, websearch_to_tsquery('english', :q)) DESC, m.taken_at DESC NULLS LAST, m.id LIMIT :lim;
COMMIT;
BEGIN;
SET LOCAL plan_cache_mode = force_custom_plan;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.ef_search = 100;
WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> :qv AS distance FROM image_embeddings e JOIN images i ON i.id = e.image_id WHERE e.user_id = :uid AND i.user_id = :uid AND i.status = 'uploaded' ORDER BY e.embedding <=> :qv LIMIT :lim) SELECT id FROM near WHERE distance <= :maxd ORDER BY distance, id;
COMMIT;
SELECT i.id, i.original_filename, i.caption, i.tags, i.place, i.region, i.country_code, i.taken_at, i.taken_at_offset_minutes, i.width, i.height, i.camera_model, coalesce(i.detected_content_type, i.declared_content_type), i.renditions, a.gallery_id, a.id, a.title FROM unnest(:ids::uuid[]) WITH ORDINALITY AS r(id, ord) JOIN images i ON i.id = r.id AND i.user_id = :uid LEFT JOIN LATERAL ( SELECT al.gallery_id, al.id, al.title FROM album_images ai JOIN albums al ON al.id = ai.album_id WHERE ai.image_id = i.id ORDER BY al.created_at DESC LIMIT 1) a ON true ORDER BY r.ord;
INSERT INTO search_history (user_id, query, result_count) VALUES (:uid, :q, :lim);
DELETE FROM search_history WHERE user_id = :uid AND id <= ( SELECT id FROM search_history WHERE user_id = :uid ORDER BY id DESC OFFSET 100 LIMIT 1);
