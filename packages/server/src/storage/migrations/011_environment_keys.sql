-- Secret keys per environment (issue #12 item 3): an environment may hold several at once, so a key can be rotated
-- with an overlap window (the old key keeps working until its expires_at) and revoked at once. Only SHA-256 hashes
-- are stored. `source` tells the key declared by SWITCHBOARD_SECRET_KEY ('config', replaced when the variable
-- changes) from keys made through the API ('api').
CREATE TABLE environment_keys (
    id serial PRIMARY KEY,
    uuid uuid NOT NULL UNIQUE,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    key_hash text NOT NULL UNIQUE,
    source text NOT NULL DEFAULT 'api' CHECK (source IN ('config', 'api')),
    label text,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX environment_keys_env ON environment_keys (environment_id, id);

-- The key each environment had before keys moved here keeps working. environments.secret_key_hash is no longer
-- read or written (left in place: dropping it would not make upgrades safer).
INSERT INTO environment_keys (uuid, environment_id, key_hash, source)
    SELECT gen_random_uuid(), id, secret_key_hash, 'config' FROM environments WHERE secret_key_hash IS NOT NULL;

-- The operator credential for /admin/* and environment management (SWITCHBOARD_ADMIN_KEY), hashed like secret keys.
CREATE TABLE admin_keys (
    id serial PRIMARY KEY,
    key_hash text NOT NULL UNIQUE,
    source text NOT NULL DEFAULT 'config' CHECK (source IN ('config', 'generated')),
    created_at timestamptz NOT NULL DEFAULT now()
);
