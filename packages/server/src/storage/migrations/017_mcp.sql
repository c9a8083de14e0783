-- The MCP server (issue #17, docs/mcp.md). Agent tokens: scoped, expiring credentials an app issues for one end
-- user, so an agent never holds the environment's secret key. Only SHA-256 hashes are stored.
CREATE TABLE mcp_agent_tokens (
    id serial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    end_user_id text NOT NULL,
    -- Optional narrowing to some of the end user's connections: [{"provider_config_key", "connection_id"}]; NULL = all of them.
    connections jsonb,
    label text,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mcp_agent_tokens_env ON mcp_agent_tokens (environment_id, id);

-- Two-call confirmation of destructive tools for clients without elicitation: single use, bound to the caller,
-- the connection, the tool and the exact arguments, short-lived.
CREATE TABLE mcp_confirmations (
    token_hash text PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    principal text NOT NULL,
    connection_db_id integer NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    tool text NOT NULL,
    arguments_hash text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX mcp_confirmations_expiry ON mcp_confirmations (expires_at);

-- Every tool call, whatever its outcome. Connection names are copied so the trail outlives a deleted connection.
CREATE TABLE mcp_tool_calls (
    id bigserial PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    agent_token_uuid uuid,
    connection_uuid uuid,
    provider_config_key text NOT NULL,
    connection_id text NOT NULL,
    tool text NOT NULL,
    input_bytes integer NOT NULL,
    outcome text NOT NULL,
    error_type text,
    duration_ms integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mcp_tool_calls_env ON mcp_tool_calls (environment_id, id);
