-- Sharing: links that show a gallery or one album to anyone who has them, and albums
-- shared with people who have accounts.

-- A share link. The token itself is never stored: only its SHA-256, so a copy of the
-- database opens nothing. A link dies with what it shares (the composite foreign keys
-- cascade), and revoking a link deletes its row.
CREATE TABLE share_links (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gallery_id     uuid NOT NULL,
    -- NULL: the whole gallery.
    album_id       uuid,
    token_sha256   bytea NOT NULL CONSTRAINT share_links_token_key UNIQUE
                   CONSTRAINT share_links_token_length CHECK (length(token_sha256) = 32),
    -- An argon2id PHC string, when the link has a password.
    password_hash  text CONSTRAINT share_links_password_hash_format CHECK (password_hash LIKE '$argon2id$%'),
    allow_download boolean NOT NULL,
    show_location  boolean NOT NULL,
    expires_at     timestamptz,
    view_count     bigint NOT NULL DEFAULT 0,
    last_viewed_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT share_links_gallery_fk FOREIGN KEY (gallery_id, user_id)
        REFERENCES galleries (id, user_id) ON DELETE CASCADE,
    CONSTRAINT share_links_album_fk FOREIGN KEY (album_id, gallery_id, user_id)
        REFERENCES albums (id, gallery_id, user_id) ON DELETE CASCADE
);
-- GET /api/shares: the owner's links, newest first.
CREATE INDEX share_links_user_created_idx ON share_links (user_id, created_at DESC, id DESC);

-- Password attempts per link: one row for the link as a whole (scope '*') and one per
-- client address, each counting attempts in a fixed window. An attempt is counted before
-- its password is checked (so attempts that arrive together cannot all pass the limit)
-- and taken back when the password was right: what stays counted are the wrong ones.
CREATE TABLE share_password_failures (
    share_id          uuid NOT NULL REFERENCES share_links (id) ON DELETE CASCADE,
    scope             text NOT NULL CONSTRAINT share_password_failures_scope_length
                      CHECK (length(scope) BETWEEN 1 AND 64),
    window_started_at timestamptz NOT NULL,
    failures          integer NOT NULL CONSTRAINT share_password_failures_nonnegative CHECK (failures >= 0),
    PRIMARY KEY (share_id, scope)
);

-- An album shared with someone who has (or will have) an account, named by the identity
-- provider's subject: a viewer sees the album and nothing else of the owner's.
CREATE TABLE album_members (
    album_id   uuid NOT NULL,
    gallery_id uuid NOT NULL,
    user_id    uuid NOT NULL,
    subject    text NOT NULL CONSTRAINT album_members_subject_length CHECK (length(subject) BETWEEN 1 AND 255),
    role       text NOT NULL CONSTRAINT album_members_role_check CHECK (role IN ('viewer')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (album_id, subject),
    CONSTRAINT album_members_album_fk FOREIGN KEY (album_id, gallery_id, user_id)
        REFERENCES albums (id, gallery_id, user_id) ON DELETE CASCADE
);
-- GET /api/shared-with-me: a subject's albums, newest first.
CREATE INDEX album_members_subject_idx ON album_members (subject, added_at DESC, album_id DESC);
