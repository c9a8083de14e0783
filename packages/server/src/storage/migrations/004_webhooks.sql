-- Where an environment's webhooks go and the secret they are signed with (a vault ciphertext bound to the
-- environment's uuid).
CREATE TABLE webhook_settings (
    environment_id integer PRIMARY KEY REFERENCES environments(id) ON DELETE CASCADE,
    url text,
    secondary_url text,
    signing_secret text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per (event, target URL), inserted in the same transaction as the event it announces.
-- A worker claims due rows with FOR UPDATE SKIP LOCKED and pushes next_attempt_at forward as a lease, so
-- several instances never send one row at the same time.
CREATE TABLE webhook_deliveries (
    id bigserial PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    event_id text NOT NULL,
    target_url text NOT NULL,
    body text NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_env ON webhook_deliveries (environment_id, id);
CREATE INDEX webhook_deliveries_env_status ON webhook_deliveries (environment_id, status, id);
