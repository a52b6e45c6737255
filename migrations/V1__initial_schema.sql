-- Momentarium's first schema. Migrations are append-only: never edit this file once it
-- has shipped; add V2__… instead.
--
-- Ownership is enforced by the schema as well as by the queries: every child row carries
-- its user_id, and composite foreign keys (id, user_id) make it impossible to put one
-- user's image into another user's album or gallery.

CREATE TABLE users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The identity provider's `sub` claim.
    subject      text NOT NULL CONSTRAINT users_subject_key UNIQUE
                 CONSTRAINT users_subject_length CHECK (length(subject) BETWEEN 1 AND 255),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE images (
    id                    uuid PRIMARY KEY,
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    storage_key           text NOT NULL CONSTRAINT images_storage_key_key UNIQUE,
    original_filename     text NOT NULL
                          CONSTRAINT images_filename_length CHECK (length(original_filename) BETWEEN 1 AND 255),
    declared_content_type text NOT NULL,
    declared_size         bigint NOT NULL CONSTRAINT images_declared_size_positive CHECK (declared_size > 0),
    -- What the bytes really are, filled in when the upload is inspected.
    detected_content_type text,
    size_bytes            bigint CONSTRAINT images_size_nonnegative CHECK (size_bytes >= 0),
    width                 integer CONSTRAINT images_width_positive CHECK (width > 0),
    height                integer CONSTRAINT images_height_positive CHECK (height > 0),
    -- EXIF: the instant, and the photographer's UTC offset at the time when known.
    taken_at              timestamptz,
    taken_at_offset_minutes smallint
                          CONSTRAINT images_offset_range CHECK (taken_at_offset_minutes BETWEEN -1080 AND 1080),
    latitude              double precision CONSTRAINT images_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    longitude             double precision CONSTRAINT images_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    camera_make           text,
    camera_model          text,
    orientation           smallint CONSTRAINT images_orientation_range CHECK (orientation BETWEEN 1 AND 8),
    status                text NOT NULL DEFAULT 'pending_upload'
                          CONSTRAINT images_status_check CHECK (status IN ('pending_upload', 'uploaded', 'rejected')),
    rejection_reason      text,
    caption               text,
    tags                  text[] NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    uploaded_at           timestamptz,
    CONSTRAINT images_id_user_key UNIQUE (id, user_id),
    CONSTRAINT images_rejected_has_reason CHECK (status <> 'rejected' OR rejection_reason IS NOT NULL),
    CONSTRAINT images_gps_pair CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX images_user_created_idx ON images (user_id, created_at DESC);
-- The sweep that removes uploads never completed.
CREATE INDEX images_pending_idx ON images (created_at) WHERE status = 'pending_upload';

CREATE TABLE galleries (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT galleries_id_user_key UNIQUE (id, user_id)
);
-- GET /api/galleries: the caller's galleries, newest first, keyset-paginated.
CREATE INDEX galleries_user_created_idx ON galleries (user_id, created_at DESC, id DESC);

CREATE TABLE albums (
    id             uuid PRIMARY KEY,
    gallery_id     uuid NOT NULL,
    user_id        uuid NOT NULL,
    title          text NOT NULL CONSTRAINT albums_title_length CHECK (length(title) BETWEEN 1 AND 200),
    description    text NOT NULL DEFAULT ''
                   CONSTRAINT albums_description_length CHECK (length(description) <= 2000),
    cover_image_id uuid,
    position       integer NOT NULL CONSTRAINT albums_position_nonnegative CHECK (position >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT albums_gallery_fk FOREIGN KEY (gallery_id, user_id)
        REFERENCES galleries (id, user_id) ON DELETE CASCADE,
    -- A cover must be one of the owner's images; deleting it just clears the cover.
    CONSTRAINT albums_cover_fk FOREIGN KEY (cover_image_id, user_id)
        REFERENCES images (id, user_id) ON DELETE SET NULL (cover_image_id),
    CONSTRAINT albums_gallery_position_key UNIQUE (gallery_id, position),
    CONSTRAINT albums_id_gallery_user_key UNIQUE (id, gallery_id, user_id)
);

CREATE TABLE album_images (
    album_id   uuid NOT NULL,
    image_id   uuid NOT NULL,
    gallery_id uuid NOT NULL,
    user_id    uuid NOT NULL,
    position   integer NOT NULL CONSTRAINT album_images_position_nonnegative CHECK (position >= 0),
    PRIMARY KEY (album_id, image_id),
    CONSTRAINT album_images_album_fk FOREIGN KEY (album_id, gallery_id, user_id)
        REFERENCES albums (id, gallery_id, user_id) ON DELETE CASCADE,
    -- The image must belong to the album's owner.
    CONSTRAINT album_images_image_fk FOREIGN KEY (image_id, user_id)
        REFERENCES images (id, user_id) ON DELETE CASCADE,
    -- Every photo is in exactly one album of a gallery.
    CONSTRAINT album_images_one_album_per_gallery UNIQUE (gallery_id, image_id),
    CONSTRAINT album_images_album_position_key UNIQUE (album_id, position)
);
CREATE INDEX album_images_image_idx ON album_images (image_id);

CREATE TABLE processing_jobs (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    gallery_id       uuid NOT NULL CONSTRAINT processing_jobs_gallery_key UNIQUE,
    status           text NOT NULL DEFAULT 'pending'
                     CONSTRAINT processing_jobs_status_check
                     CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    image_ids        uuid[] NOT NULL
                     CONSTRAINT processing_jobs_image_count CHECK (cardinality(image_ids) BETWEEN 1 AND 500),
    attempts         integer NOT NULL DEFAULT 0 CONSTRAINT processing_jobs_attempts_nonnegative CHECK (attempts >= 0),
    -- The claim: who holds the job and until when.
    lease_owner      text,
    lease_expires_at timestamptz,
    idempotency_key  text CONSTRAINT processing_jobs_idempotency_key_length
                     CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    -- A hash of the request body, so a reused Idempotency-Key with another body is refused.
    request_hash     text,
    model            text,
    organizer        text CONSTRAINT processing_jobs_organizer_check CHECK (organizer IN ('gemini', 'offline')),
    fallback_reason  text,
    prompt_tokens    integer CONSTRAINT processing_jobs_prompt_tokens_nonnegative CHECK (prompt_tokens >= 0),
    output_tokens    integer CONSTRAINT processing_jobs_output_tokens_nonnegative CHECK (output_tokens >= 0),
    thoughts_tokens  integer CONSTRAINT processing_jobs_thoughts_tokens_nonnegative CHECK (thoughts_tokens >= 0),
    total_tokens     integer CONSTRAINT processing_jobs_total_tokens_nonnegative CHECK (total_tokens >= 0),
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    enqueued_at      timestamptz,
    started_at       timestamptz,
    completed_at     timestamptz,
    CONSTRAINT processing_jobs_gallery_fk FOREIGN KEY (gallery_id, user_id)
        REFERENCES galleries (id, user_id) ON DELETE CASCADE,
    CONSTRAINT processing_jobs_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT processing_jobs_idempotency_key UNIQUE (user_id, idempotency_key),
    CONSTRAINT processing_jobs_processing_has_lease
        CHECK (status <> 'processing' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT processing_jobs_failed_has_error CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT processing_jobs_completed_has_time CHECK (status <> 'completed' OR completed_at IS NOT NULL)
);
CREATE INDEX processing_jobs_user_created_idx ON processing_jobs (user_id, created_at DESC);
-- The sweep: jobs still pending, or claims whose lease ran out.
CREATE INDEX processing_jobs_unfinished_idx ON processing_jobs (updated_at)
    WHERE status IN ('pending', 'processing');
