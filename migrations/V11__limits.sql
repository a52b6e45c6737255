-- Limits and costs. A user's tier (free or premium, set by an operator) and an optional
-- monthly AI budget overriding the tier's.
ALTER TABLE users
    ADD COLUMN tier text NOT NULL DEFAULT 'free'
        CONSTRAINT users_tier_check CHECK (tier IN ('free', 'premium')),
    ADD COLUMN monthly_budget_usd numeric(12, 2)
        CONSTRAINT users_budget_nonnegative CHECK (monthly_budget_usd >= 0);

-- Requests per minute by route class: one row per user, class and minute, counted and
-- checked in one statement. Unlogged: a crash forgets at most the current minute, and no
-- request waits on a WAL flush for it. The sweep removes old minutes.
CREATE UNLOGGED TABLE rate_windows (
    user_id      uuid NOT NULL,
    class        text NOT NULL,
    window_start timestamptz NOT NULL,
    used         integer NOT NULL CONSTRAINT rate_windows_used_nonnegative CHECK (used >= 0),
    PRIMARY KEY (user_id, class, window_start)
);
CREATE INDEX rate_windows_start_idx ON rate_windows (window_start);

-- Daily quotas (photos organised, pictures made): taken in one statement that cannot take
-- more than is left, so two requests cannot both take the last unit.
CREATE TABLE quota_usage (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT quota_usage_name_check CHECK (name IN ('photos_organised', 'generations')),
    period_start timestamptz NOT NULL,
    used         bigint NOT NULL CONSTRAINT quota_usage_used_nonnegative CHECK (used >= 0),
    PRIMARY KEY (user_id, name, period_start)
);

-- What a person is told: the budget at 80 % and at 100 %, once a month each.
CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL CONSTRAINT notifications_kind_check CHECK (kind IN ('budget_warning', 'budget_exhausted')),
    period     text NOT NULL,
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_once UNIQUE (user_id, kind, period)
);
