-- Environment variables scripts read with nango.getEnvironmentVariables() (GET /environment-variables). Values
-- are often API keys, so they are vault ciphertexts bound to the row's uuid, like every other secret.
CREATE TABLE environment_variables (
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    name text NOT NULL,
    uuid uuid NOT NULL UNIQUE,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment_id, name)
);
