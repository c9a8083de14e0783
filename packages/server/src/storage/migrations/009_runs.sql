-- One run model for every script run (issue #10 item 9): scheduled syncs, onWebhook runs, actions (with or
-- without X-Async) and on-event scripts share one table, so one heartbeat and one reaper end every kind in a
-- terminal state when its server instance dies. `sync_jobs` becomes `runs` (its ids keep growing, which the
-- records' "seen since run N" tracking relies on); `action_runs` rows move in, keeping their public uuid.
ALTER TABLE sync_jobs RENAME TO runs;
ALTER SEQUENCE sync_jobs_id_seq RENAME TO runs_id_seq;
ALTER INDEX sync_jobs_sync RENAME TO runs_sync;
ALTER INDEX sync_jobs_live RENAME TO runs_live;
ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'webhook', 'action', 'on-event'));
UPDATE runs SET kind = 'webhook' WHERE type = 'WEBHOOK';
ALTER TABLE runs ALTER COLUMN kind DROP DEFAULT;
-- Only sync and webhook runs belong to a schedule and have a sync job type.
ALTER TABLE runs ALTER COLUMN sync_id DROP NOT NULL;
ALTER TABLE runs ALTER COLUMN type DROP NOT NULL;
-- The public id of an asynchronous action (GET /action/:id); null for every other run.
ALTER TABLE runs ADD COLUMN uuid uuid UNIQUE;
-- Who ran what, for runs without a schedule (actions, on-event scripts). A validate-connection run checks a
-- connection not stored yet, so it has no connection row.
ALTER TABLE runs ADD COLUMN environment_id integer REFERENCES environments(id) ON DELETE CASCADE;
ALTER TABLE runs ADD COLUMN connection_id integer REFERENCES connections(id) ON DELETE CASCADE;
ALTER TABLE runs ADD COLUMN function_id integer REFERENCES functions(id) ON DELETE CASCADE;
ALTER TABLE runs ADD COLUMN input jsonb;
ALTER TABLE runs ADD COLUMN output jsonb;
ALTER TABLE runs ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN max_retries integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD CONSTRAINT runs_owner CHECK (sync_id IS NOT NULL OR environment_id IS NOT NULL);
INSERT INTO runs (kind, uuid, environment_id, connection_id, function_id, status, input, output, error, attempts, max_retries, queued_at, started_at, finished_at, heartbeat_at)
    SELECT 'action', id, environment_id, connection_id, function_id, status, input, output, error, attempts, max_retries, created_at,
           CASE WHEN status <> 'QUEUED' THEN created_at END, finished_at, CASE WHEN status = 'RUNNING' THEN created_at END
    FROM action_runs;
DROP TABLE action_runs;
-- Synchronous actions and on-event scripts are answered or audited elsewhere; their rows are purged a day after they end.
CREATE INDEX runs_answered ON runs (finished_at) WHERE uuid IS NULL AND kind IN ('action', 'on-event');
