-- Deliveries about one connection reach each target in the order they were queued: a row waits while an older
-- pending row with the same ordering key and target exists (a receiver that is down holds back that
-- connection's later events, not everyone's).
ALTER TABLE webhook_deliveries ADD COLUMN ordering_key text;
CREATE INDEX webhook_deliveries_ordering ON webhook_deliveries (ordering_key, target_url, id) WHERE status = 'pending';
