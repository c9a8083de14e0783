-- Schedules at scale (issue #13 item 4): a scheduler pass reads only the schedules that fall due, in order, and
-- the ones a run was requested for, never every schedule. Paused schedules leave the due index, so any number of
-- them costs nothing per pass.
DROP INDEX IF EXISTS syncs_due;
CREATE INDEX syncs_due ON syncs (next_run_at) WHERE running_job_id IS NULL AND status = 'STARTED';
CREATE INDEX syncs_triggered ON syncs (id) WHERE running_job_id IS NULL AND trigger_requested;
-- The slot a scheduled run was due at (its start minus this is the scheduler's lag); null for runs no schedule queued.
ALTER TABLE runs ADD COLUMN due_at timestamptz;
