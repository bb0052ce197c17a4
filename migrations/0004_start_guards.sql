-- Start-up guards (issue 10).
--
-- 1. The encryption key's check value: an HMAC of a constant under HERALD_ENCRYPTION_KEY, stored by
--    the first process that starts, compared by every later one, so a process given another key
--    refuses to start instead of failing every attempt (or sealing secrets nobody can open).
CREATE TABLE key_checks (
  name        text PRIMARY KEY,
  check_value text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- 2. One delivery per (event, endpoint). A resend re-sends through the existing delivery (a manual
--    attempt) and creates one only for an endpoint that never had one; two racing resends used to
--    create two. Duplicates made by that race before this migration are folded into the oldest
--    delivery of the pair: their attempts move to it (no attempt is lost), then they are removed.
-- A hash aggregate over the table, not a sort: the pairs are few, if any.
CREATE TEMPORARY TABLE duplicate_deliveries ON COMMIT DROP AS
SELECT d.id, pairs.keeper
FROM (
  SELECT event_id, endpoint_id, min(id) AS keeper
  FROM deliveries
  GROUP BY event_id, endpoint_id
  HAVING count(*) > 1
) pairs
JOIN deliveries d USING (event_id, endpoint_id)
WHERE d.id <> pairs.keeper;

UPDATE attempts a SET delivery_id = d.keeper FROM duplicate_deliveries d WHERE a.delivery_id = d.id;
DELETE FROM operation_deliveries o USING duplicate_deliveries d WHERE o.delivery_id = d.id;
DELETE FROM deliveries x USING duplicate_deliveries d WHERE x.id = d.id;
UPDATE deliveries x
SET attempt_count = (SELECT count(*) FROM attempts a WHERE a.delivery_id = x.id)
WHERE x.id IN (SELECT keeper FROM duplicate_deliveries);

-- Replaces deliveries_event (event_id): the same lookups, now also the guard, for no extra write.
CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id);
DROP INDEX deliveries_event;
