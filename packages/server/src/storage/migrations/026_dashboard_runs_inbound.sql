-- Issue #16 item 1 (dashboard, second round). The sizes of an action run's input and output, in bytes of their
-- JSON: the dashboard shows them without reading the contents (an asynchronous action's are sealed with the vault,
-- a synchronous action's are not kept at all). Null for rows written before and for other kinds.
ALTER TABLE runs ADD COLUMN input_bytes integer;
ALTER TABLE runs ADD COLUMN output_bytes integer;
CREATE INDEX runs_actions ON runs (environment_id, id) WHERE kind = 'action';
-- A summary of each provider webhook received for a known integration: never its payload or headers. Kept for
-- seven days and at most 10,000 per environment: the background pass deletes the rest.
CREATE TABLE inbound_webhooks (
    id bigserial PRIMARY KEY,
    environment_id integer NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    integration_id integer REFERENCES integrations(id) ON DELETE SET NULL,
    provider_config_key text NOT NULL,
    provider text NOT NULL,
    event text,
    outcome text NOT NULL CHECK (outcome IN ('routed', 'answered', 'refused')),
    reason text,
    connections integer NOT NULL DEFAULT 0,
    runs integer NOT NULL DEFAULT 0,
    forwards integer NOT NULL DEFAULT 0,
    body_bytes integer NOT NULL DEFAULT 0,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_webhooks_env ON inbound_webhooks (environment_id, id);
CREATE INDEX inbound_webhooks_age ON inbound_webhooks (received_at);
