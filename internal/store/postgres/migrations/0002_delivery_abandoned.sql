-- Webhook deliveries that failed too often are abandoned: the row stays, with
-- its attempts and last error, for inspection, but is no longer due, and is
-- pruned like a delivered one.

ALTER TABLE deliveries ADD COLUMN abandoned_at timestamptz;

DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX deliveries_abandoned ON deliveries (abandoned_at) WHERE abandoned_at IS NOT NULL;
