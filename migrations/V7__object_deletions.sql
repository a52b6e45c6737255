-- Deleting photos: the rows go in one transaction, and the keys of their objects (the
-- original and its renditions) are written here in that same transaction. After it
-- commits the objects are removed and their keys forgotten; when the bucket does not
-- answer, the keys stay and the sweep removes the objects later. Nothing deleted in the
-- database outlives it in the bucket.
CREATE TABLE object_deletions (
    key        text PRIMARY KEY CONSTRAINT object_deletions_key_length CHECK (length(key) BETWEEN 1 AND 1024),
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0 CONSTRAINT object_deletions_attempts_nonnegative CHECK (attempts >= 0)
);
CREATE INDEX object_deletions_created_idx ON object_deletions (created_at);
