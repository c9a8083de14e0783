-- Issue #16 item 4: limits on our own API, shared by every instance through this table. One row per limited
-- subject (a secret key's hash, or a connection); the window starts at the subject's first request and a
-- request past the limit does not count. Rows whose window ended long ago are purged by the background pass.
CREATE TABLE rate_limit_counters (
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    subject text NOT NULL,
    hits integer NOT NULL,
    reset_at timestamptz NOT NULL,
    PRIMARY KEY (environment_id, subject)
);
CREATE INDEX rate_limit_counters_reset ON rate_limit_counters (reset_at);
