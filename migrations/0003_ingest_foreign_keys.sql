-- The emit path checks these references itself (the merchant and its endpoints were just read in
-- the same request), and merchants and endpoints are only ever soft-deleted, so these foreign keys
-- could never fire; they cost a lookup per row on every emit (13 % of Postgres's CPU per event,
-- docs/benchmarks.md). The event → delivery key stays: retention relies on it.
ALTER TABLE events DROP CONSTRAINT events_merchant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_merchant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_endpoint_id_fkey;
