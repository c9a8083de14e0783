-- One row per browser authorization in flight (OAuth2 code flow or OAuth 1.0a). Looked up by the SHA-256 of
-- its `state` and deleted on first use, so a state is single-use; the PKCE verifier and OAuth1 request-token
-- secret are vault ciphertexts bound to the row.
CREATE TABLE oauth_transactions (
    id uuid PRIMARY KEY,
    state_hash text NOT NULL UNIQUE,
    browser_hash text NOT NULL,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    integration_id integer NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    connect_session_id integer NOT NULL REFERENCES connect_sessions(id) ON DELETE CASCADE,
    auth_mode text NOT NULL,
    connection_id text NOT NULL,
    connection_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    ws_client_id text,
    redirect_uri text NOT NULL,
    expected_issuer text,
    secrets text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_transactions_expiry ON oauth_transactions (expires_at);
