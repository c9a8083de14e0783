-- Environments: each has its own secret key (stored as a SHA-256 hash) and name.
CREATE TABLE environments (
    id serial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    name text NOT NULL UNIQUE,
    secret_key_hash text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Integrations: an environment's configured providers. `credentials` is a vault ciphertext bound to `uuid`.
CREATE TABLE integrations (
    id serial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    unique_key text NOT NULL,
    provider text NOT NULL,
    display_name text,
    credentials text,
    forward_webhooks boolean NOT NULL DEFAULT true,
    integration_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    custom jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (environment_id, unique_key)
);

-- Connections: `credentials` is a vault ciphertext bound to `uuid`; `credentials_version` is the compare-and-swap counter.
CREATE TABLE connections (
    id serial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    integration_id integer NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    connection_id text NOT NULL,
    auth_type text NOT NULL,
    credentials text NOT NULL,
    credentials_version integer NOT NULL DEFAULT 1,
    expires_at timestamptz,
    connection_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    metadata jsonb,
    end_user_id text,
    end_user jsonb,
    tags jsonb NOT NULL DEFAULT '{}'::jsonb,
    webhook_url_override text,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'revoked')),
    last_fetched_at timestamptz,
    refreshed_at timestamptz,
    refresh_failed_at timestamptz,
    refresh_error jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (integration_id, connection_id)
);
CREATE INDEX connections_env_created ON connections (environment_id, id);
CREATE INDEX connections_env_connection_id ON connections (environment_id, connection_id);
CREATE INDEX connections_end_user ON connections (environment_id, end_user_id);
CREATE INDEX connections_expiring ON connections (expires_at) WHERE expires_at IS NOT NULL;

-- What happened to a connection that an operator may need to audit after it is gone (revocation outcomes, refresh failures).
CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    environment_id integer NOT NULL,
    connection_uuid uuid,
    provider_config_key text,
    connection_id text,
    kind text NOT NULL,
    outcome text NOT NULL,
    detail jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_connection ON audit_events (connection_uuid, id);
