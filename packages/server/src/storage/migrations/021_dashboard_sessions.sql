-- Issue #16 item 1: the operator dashboard's sign-in sessions. The browser holds an opaque random id in an
-- HttpOnly cookie; only its SHA-256 is stored, as is the hash of the session's CSRF token, so a read of this table
-- yields nothing a browser could present. Expired rows are refused on read and purged by the background pass.
CREATE TABLE dashboard_sessions (
    id_hash text PRIMARY KEY,
    csrf_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
