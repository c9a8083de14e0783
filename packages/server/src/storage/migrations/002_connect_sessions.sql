-- Connect sessions: a short-lived token (stored as a SHA-256 hash) that lets a browser create or reconnect
-- connections for one end user and a set of integrations.
CREATE TABLE connect_sessions (
    id serial PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    end_user jsonb,
    organization jsonb,
    tags jsonb NOT NULL DEFAULT '{}'::jsonb,
    allowed_integrations text[],
    integrations_config_defaults jsonb,
    webhook_url_override text,
    reconnect_connection_uuid uuid,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connect_sessions_expiry ON connect_sessions (expires_at);
