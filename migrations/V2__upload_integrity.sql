-- Upload integrity: what was inspected is what is used, and a replayed signed delivery
-- does nothing.

-- The ETag of the object version that upload inspection read. Every later reader asks
-- for exactly this version (If-Match); NULL for rows inspected before this column
-- existed, which are read as they are.
ALTER TABLE images ADD COLUMN etag text;

-- Signed deliveries (Standard Webhooks `webhook-id`, QStash `Upstash-Message-Id`) that
-- reached a final answer. A replay within the signature's freshness window finds its id
-- here and is answered without running anything; the sweep removes old rows.
CREATE TABLE handled_deliveries (
    delivery_id text PRIMARY KEY
                CONSTRAINT handled_deliveries_id_length CHECK (length(delivery_id) BETWEEN 1 AND 255),
    job_id      uuid NOT NULL,
    status      text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handled_deliveries_age_idx ON handled_deliveries (handled_at);
