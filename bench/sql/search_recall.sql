-- HNSW recall@30: for the first :queries query vectors, the share of the exact 30 nearest
-- (the semantic() statement with index scans off) that the statement finds with its index
-- (iterative scan, ef_search = 100, LIMIT 200, cut-off 0.6), first 30 of each compared.
-- Prints the mean recall, the worst query's, and how many exact neighbours there were.
\set ON_ERROR_STOP 1
CREATE OR REPLACE FUNCTION bench_semantic(q vector, uid uuid, exact boolean) RETURNS uuid[]
LANGUAGE plpgsql AS $$
DECLARE out uuid[];
BEGIN
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
    PERFORM set_config('hnsw.ef_search', '100', true);
    PERFORM set_config('enable_indexscan', CASE WHEN exact THEN 'off' ELSE 'on' END, true);
    EXECUTE 'WITH near AS MATERIALIZED ( SELECT i.id, e.embedding <=> $1 AS distance FROM image_embeddings e '
         || 'JOIN images i ON i.id = e.image_id WHERE e.user_id = $2 AND i.user_id = $2 AND i.status = ''uploaded'' '
         || 'ORDER BY e.embedding <=> $1 LIMIT 200) '
         || 'SELECT array_agg(id ORDER BY distance, id) FROM (SELECT id, distance FROM near WHERE distance <= 0.6 '
         || 'ORDER BY distance, id LIMIT 30) s'
        INTO out USING q, uid;
    PERFORM set_config('enable_indexscan', 'on', true);
    RETURN coalesce(out, '{}');
END
$$;
WITH r AS (
    SELECT n, bench_semantic(v, (SELECT value::uuid FROM bench_meta WHERE key = 'main_user'), false) AS approx,
              bench_semantic(v, (SELECT value::uuid FROM bench_meta WHERE key = 'main_user'), true) AS exact
    FROM bench_qvec WHERE n <= :queries
), s AS (
    SELECT n, cardinality(exact) AS k,
           (SELECT count(*) FROM unnest(exact) x WHERE x = ANY (approx))::numeric / greatest(cardinality(exact), 1) AS recall
    FROM r
)
SELECT round(avg(recall), 3) AS recall_at_30, round(min(recall), 3) AS worst, min(k) AS min_exact, count(*) AS queries FROM s;
