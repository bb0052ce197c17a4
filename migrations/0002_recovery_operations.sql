-- Background operations (recovering an endpoint's failed deliveries) and the pending-deliveries
-- index that metrics count on. docs/indexes.md says which index serves which read.

CREATE TABLE operations (
  id           text PRIMARY KEY,
  merchant_id  text NOT NULL REFERENCES merchants (id),
  mode         text NOT NULL CHECK (mode IN ('live', 'test')),
  kind         text NOT NULL CHECK (kind IN ('endpoint.recover')),
  endpoint_id  text NOT NULL REFERENCES endpoints (id),
  -- The window asked for: deliveries created in [since, until).
  since        timestamptz NOT NULL,
  until        timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- The deliveries an operation re-sends, fixed when it starts. Progress is read from the deliveries
-- themselves: a delivery is done once it succeeded, or once an attempt numbered past
-- `attempts_before` (its count when the operation began) was made.
CREATE TABLE operation_deliveries (
  operation_id     text NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
  delivery_id      text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempts_before  integer NOT NULL,
  PRIMARY KEY (operation_id, delivery_id)
);
-- Deleting a delivery (retention) looks its operation rows up by delivery.
CREATE INDEX operation_deliveries_delivery ON operation_deliveries (delivery_id);

-- Pending deliveries are few next to the whole table: counting them (metrics, stats) reads this
-- small index instead of every delivery. endpoint_id never changes, so retries that only move
-- next_attempt_at stay HOT updates.
CREATE INDEX deliveries_pending ON deliveries (endpoint_id) WHERE status = 'pending';
