-- Sync runs are queued in `runs` itself (issue #13 item 4): a worker claims a batch of due ones with one
-- statement (FOR UPDATE SKIP LOCKED) through this index, which holds only the runs waiting to start.
-- Runs queued before 015 have no due_at: they are due since they were queued.
UPDATE runs SET due_at = queued_at WHERE kind = 'sync' AND status = 'QUEUED' AND due_at IS NULL;
CREATE INDEX runs_sync_queue ON runs (due_at) WHERE status = 'QUEUED' AND kind = 'sync';
