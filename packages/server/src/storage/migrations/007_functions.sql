-- Deployed scripts ("functions"): one row per (integration, type, name). The bundle is kept as text; it is
-- code the operator deployed, not a secret, so it is not in the vault.
CREATE TABLE functions (
    id serial PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    integration_id integer NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('sync', 'action', 'on-event')),
    name text NOT NULL,
    version text,
    js text NOT NULL,
    ts text,
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    sdk_version text,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, type, name)
);

-- One schedule per (sync function, connection, variant). `next_run_at` is on the grid that starts at
-- `starts_at`; `running_job_id` is set while a run is queued or running, so a sync never overlaps itself.
CREATE TABLE syncs (
    id uuid PRIMARY KEY,
    function_id integer NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    connection_id integer NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    variant text NOT NULL DEFAULT 'base',
    status text NOT NULL CHECK (status IN ('STARTED', 'PAUSED')),
    frequency_override text,
    starts_at timestamptz NOT NULL DEFAULT now(),
    next_run_at timestamptz,
    running_job_id bigint,
    -- POST /sync/trigger: run at the next tick even when paused; reset and empty_cache apply to that run.
    trigger_requested boolean NOT NULL DEFAULT false,
    pending_reset boolean NOT NULL DEFAULT false,
    pending_empty_cache boolean NOT NULL DEFAULT false,
    last_sync_date timestamptz,
    last_job_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (function_id, connection_id, variant)
);
CREATE INDEX syncs_due ON syncs (next_run_at) WHERE running_job_id IS NULL;
CREATE INDEX syncs_connection ON syncs (connection_id);

-- One row per run. Job ids only grow, which is what record "seen since job N" tracking relies on.
CREATE TABLE sync_jobs (
    id bigserial PRIMARY KEY,
    sync_id uuid NOT NULL REFERENCES syncs(id) ON DELETE CASCADE,
    type text NOT NULL,
    status text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'ERROR', 'STOPPED')),
    reset boolean NOT NULL DEFAULT false,
    empty_cache boolean NOT NULL DEFAULT false,
    queued_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    heartbeat_at timestamptz,
    result jsonb NOT NULL DEFAULT '{}'::jsonb,
    error jsonb,
    checkpoints jsonb
);
CREATE INDEX sync_jobs_sync ON sync_jobs (sync_id, id DESC);
CREATE INDEX sync_jobs_live ON sync_jobs (status, heartbeat_at) WHERE status IN ('QUEUED', 'RUNNING');

-- Script checkpoints, per connection and key (`sync:<name>[:variant]`, `action:<name>`, trackDeletes keys).
CREATE TABLE checkpoints (
    connection_id integer NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    key text NOT NULL,
    data jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (connection_id, key)
);

-- Asynchronous action runs (X-Async), read back by GET /action/:id.
CREATE TABLE action_runs (
    id uuid PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    connection_id integer NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    function_id integer NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    status text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'ERROR')),
    input jsonb,
    output jsonb,
    error jsonb,
    attempts integer NOT NULL DEFAULT 0,
    max_retries integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
