-- Webhook deliveries are claimed by the dispatcher that sends them, for a
-- lease: several nodes on one database never send the same delivery at
-- once, and a node that dies holding a claim loses it when the lease ends.

ALTER TABLE deliveries ADD COLUMN claimed_by text CHECK (claimed_by <> '');
ALTER TABLE deliveries ADD COLUMN claimed_until timestamptz;
