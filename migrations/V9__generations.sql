-- Image generation and editing. A generation is a job of another kind on the same
-- queue, with the same claim, lease, retries, sweep and dead-letter queue as organising;
-- its prompt and provider sit beside the job in `generations`. Its result is an image of
-- the caller's library (origin generated or edited), written at an id chosen when the
-- request is made, so a job delivered twice, or run again after a crash, writes the same
-- object and row: one image, never two.
ALTER TABLE processing_jobs
    ADD COLUMN kind text NOT NULL DEFAULT 'organise'
        CONSTRAINT processing_jobs_kind_check CHECK (kind IN ('organise', 'generate')),
    ALTER COLUMN gallery_id DROP NOT NULL,
    ADD CONSTRAINT processing_jobs_organise_has_gallery
        CHECK (kind <> 'organise' OR gallery_id IS NOT NULL),
    DROP CONSTRAINT processing_jobs_image_count,
    -- An organising job's batch (1–500 photos), a generation's reference photos (0–3).
    ADD CONSTRAINT processing_jobs_image_count CHECK (
        CASE kind WHEN 'organise' THEN cardinality(image_ids) BETWEEN 1 AND 500
                  ELSE cardinality(image_ids) <= 3 END);

ALTER TABLE images
    ADD COLUMN origin text NOT NULL DEFAULT 'upload'
        CONSTRAINT images_origin_check CHECK (origin IN ('upload', 'generated', 'edited'));
-- Retention of generated and edited images.
CREATE INDEX images_made_created_idx ON images (created_at) WHERE origin <> 'upload';

CREATE TABLE generations (
    job_id          uuid PRIMARY KEY REFERENCES processing_jobs (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt          text NOT NULL CONSTRAINT generations_prompt_length CHECK (length(prompt) BETWEEN 1 AND 4000),
    provider        text NOT NULL CONSTRAINT generations_provider_check CHECK (provider IN ('gemini', 'openai')),
    model           text NOT NULL,
    aspect_ratio    text NOT NULL,
    -- The photo an edit starts from (also the first reference); it is never modified.
    source_image_id uuid,
    -- Where the result is written: chosen up front, an image row only once written.
    image_id        uuid NOT NULL CONSTRAINT generations_image_key UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX generations_user_created_idx ON generations (user_id, created_at DESC, job_id DESC);

-- Every call to an AI provider, answered or not, with its tokens and price.
CREATE TABLE ai_calls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id          uuid REFERENCES processing_jobs (id) ON DELETE SET NULL,
    purpose         text NOT NULL CONSTRAINT ai_calls_purpose_check CHECK (purpose IN ('organise', 'embed', 'generate')),
    provider        text NOT NULL,
    model           text NOT NULL,
    ok              boolean NOT NULL,
    error           text,
    input_tokens    integer NOT NULL DEFAULT 0 CONSTRAINT ai_calls_input_nonnegative CHECK (input_tokens >= 0),
    output_tokens   integer NOT NULL DEFAULT 0 CONSTRAINT ai_calls_output_nonnegative CHECK (output_tokens >= 0),
    images          integer NOT NULL DEFAULT 0 CONSTRAINT ai_calls_images_nonnegative CHECK (images >= 0),
    cost_usd        numeric(12, 6) NOT NULL DEFAULT 0 CONSTRAINT ai_calls_cost_nonnegative CHECK (cost_usd >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ai_calls_user_created_idx ON ai_calls (user_id, created_at);
CREATE INDEX ai_calls_job_idx ON ai_calls (job_id) WHERE job_id IS NOT NULL;
