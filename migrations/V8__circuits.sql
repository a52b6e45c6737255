-- A circuit breaker per AI provider, shared by every instance (one row each): after
-- repeated failures or timeouts it opens and calls stop for a cooldown; then one trial
-- call is let through (half-open), and its outcome closes or reopens it.
CREATE TABLE circuits (
    name        text PRIMARY KEY CONSTRAINT circuits_name_length CHECK (length(name) BETWEEN 1 AND 64),
    state       text NOT NULL DEFAULT 'closed'
                CONSTRAINT circuits_state_check CHECK (state IN ('closed', 'open', 'half_open')),
    failures    integer NOT NULL DEFAULT 0 CONSTRAINT circuits_failures_nonnegative CHECK (failures >= 0),
    opened_at   timestamptz,
    trial_at    timestamptz,
    last_error  text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT circuits_open_has_time CHECK (state = 'closed' OR opened_at IS NOT NULL)
);
