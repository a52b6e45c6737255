-- Places and search.
--
-- A photo's place, found offline from its GPS when the upload is inspected: the nearest
-- town within 25 km (GeoNames), its region, and the country (ISO 3166-1 alpha-2).
ALTER TABLE images
    ADD COLUMN place text CONSTRAINT images_place_length CHECK (length(place) <= 200),
    ADD COLUMN region text CONSTRAINT images_region_length CHECK (length(region) <= 200),
    ADD COLUMN country_code text CONSTRAINT images_country_code_check CHECK (country_code ~ '^[A-Z]{2}$'),
    -- The words search matches: caption and tags (A), album titles and the place (B),
    -- album descriptions (C), file name and camera (D). Kept by image_search_refresh().
    ADD COLUMN search_doc tsvector;

CREATE INDEX images_search_doc_idx ON images USING gin (search_doc);
-- Date words ("May 2025", "last summer") and the newest-first order without words (the
-- order the queries use: taken_at DESC NULLS LAST, id).
CREATE INDEX images_user_taken_idx ON images (user_id, taken_at DESC NULLS LAST, id)
    WHERE status = 'uploaded';
-- Photos not yet searchable: those uploaded before this migration, which the sweep
-- gives a place and a search document a batch at a time (so this migration does not
-- rewrite every row while it holds the table).
CREATE INDEX images_unsearchable_idx ON images (id) WHERE status = 'uploaded' AND search_doc IS NULL;
-- Place names in a query are recognised among the places of the caller's own photos.
CREATE INDEX images_user_place_idx ON images (user_id, lower(place)) WHERE place IS NOT NULL;
CREATE INDEX images_user_region_idx ON images (user_id, lower(region)) WHERE region IS NOT NULL;

-- One definition of what is searchable, used by the application after every change to
-- an image's words (inspection, organising) and by the backfill below.
CREATE FUNCTION image_search_refresh(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    UPDATE images i SET search_doc =
        setweight(to_tsvector('english', coalesce(i.caption, '')), 'A')
        || setweight(to_tsvector('english', array_to_string(i.tags, ' ')), 'A')
        || setweight(to_tsvector('english', coalesce(a.titles, '')), 'B')
        || setweight(to_tsvector('english', concat_ws(' ', i.place, i.region)), 'B')
        || setweight(to_tsvector('english', coalesce(a.descriptions, '')), 'C')
        || setweight(to_tsvector('english', concat_ws(' ',
               i.original_filename,
               regexp_replace(i.original_filename, '[._-]+', ' ', 'g'),
               i.camera_make, i.camera_model)), 'D')
    FROM images j
    LEFT JOIN LATERAL (
        SELECT string_agg(al.title, ' ') AS titles, string_agg(al.description, ' ') AS descriptions
        FROM album_images ai JOIN albums al ON al.id = ai.album_id
        WHERE ai.image_id = j.id
    ) a ON true
    WHERE i.id = j.id AND j.id = ANY (ids)
$$;

-- The caller's recent queries (GET/DELETE /api/search/history).
CREATE TABLE search_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query        text NOT NULL CONSTRAINT search_history_query_length CHECK (length(query) BETWEEN 1 AND 500),
    result_count integer NOT NULL CONSTRAINT search_history_count_nonnegative CHECK (result_count >= 0),
    searched_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_history_user_idx ON search_history (user_id, searched_at DESC);

-- Semantic search needs pgvector. Where the server has it (RDS, Aurora, the test
-- suite's server), the extension, the embeddings table and its HNSW index are made;
-- where it does not, search answers from keywords and says so. The application calls
-- this after every migration run, so a server that gains pgvector later gets the table.
CREATE FUNCTION ensure_vector_store() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('image_embeddings') IS NOT NULL THEN
        RETURN true;
    END IF;
    -- 0.8 or later: the iterative index scans that filtered searches rely on.
    IF NOT EXISTS (
        SELECT 1 FROM pg_available_extensions
        WHERE name = 'vector'
          AND string_to_array(split_part(coalesce(installed_version, default_version), '-', 1), '.')::int[]
              >= ARRAY[0, 8]
    ) THEN
        RETURN false;
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS vector;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pgvector is there but could not be created: %', SQLERRM;
        RETURN false;
    END;
    -- 768 dimensions: gemini-embedding-001 truncated (Matryoshka) and re-normalised.
    EXECUTE $ddl$
        CREATE TABLE image_embeddings (
            image_id   uuid PRIMARY KEY,
            user_id    uuid NOT NULL,
            model      text NOT NULL,
            -- Which words were embedded: a photo whose words change is embedded again.
            source_sha bytea NOT NULL,
            embedding  vector(768) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT image_embeddings_image_fk FOREIGN KEY (image_id, user_id)
                REFERENCES images (id, user_id) ON DELETE CASCADE
        )
    $ddl$;
    -- Kept in the row (3 KB), not in TOAST: a filtered search fetches thousands of them.
    EXECUTE 'ALTER TABLE image_embeddings ALTER COLUMN embedding SET STORAGE PLAIN';
    EXECUTE 'CREATE INDEX image_embeddings_hnsw_idx ON image_embeddings USING hnsw (embedding vector_cosine_ops)';
    EXECUTE 'CREATE INDEX image_embeddings_user_idx ON image_embeddings (user_id)';
    RETURN true;
END
$$;

SELECT ensure_vector_store();
