-- Operational webhooks, throttling and slow-down, FIFO endpoints (docs/operational-webhooks.md,
-- docs/throttling-and-fifo.md).

-- An endpoint's optional rate (attempts started per second, across every dispatcher) and whether its
-- deliveries go one at a time in event order.
ALTER TABLE endpoints
  ADD COLUMN rate_limit_per_second double precision CHECK (rate_limit_per_second > 0 AND rate_limit_per_second <= 10000),
  ADD COLUMN ordering text NOT NULL DEFAULT 'parallel' CHECK (ordering IN ('parallel', 'fifo'));

-- The next free start slot of each throttled endpoint. Written only by the fetch, under the fetch
-- lock, so that every dispatcher reserves from the same row in turn.
CREATE TABLE endpoint_slots (
  endpoint_id  text PRIMARY KEY,
  next_at      timestamptz NOT NULL
);

-- Endpoints that asked Herald to slow down (429, 502, 504): no attempt to them starts before
-- `paused_until`. Written only by the recorder; read by every fetch, hence the index.
CREATE TABLE endpoint_pauses (
  endpoint_id   text PRIMARY KEY,
  paused_until  timestamptz NOT NULL
);
CREATE INDEX endpoint_pauses_until ON endpoint_pauses (paused_until);

-- FIFO: deliveries whose job was taken while another delivery of the endpoint was ahead of them.
-- They have no job until they reach the head of the line; the recorder then queues one.
CREATE TABLE fifo_parked (
  delivery_id  text PRIMARY KEY,
  endpoint_id  text NOT NULL
);
-- The head of a FIFO endpoint's line: its oldest pending delivery.
CREATE INDEX deliveries_pending_order ON deliveries (endpoint_id, id) WHERE status = 'pending';

-- Operational webhooks are ordinary events, deliveries and attempts of a reserved merchant that no
-- merchant route can reach (its id is not a merchant id) and no list shows (it is marked deleted),
-- so the dispatcher carries them unchanged: signed, retried, logged.
INSERT INTO merchants (id, name, deleted_at) VALUES ('operator', 'Herald operator', now())
  ON CONFLICT (id) DO NOTHING;

-- Notices sent at most once per window (endpoint.failing) or once ever (recovery.finished).
CREATE TABLE operator_notices (
  subject_id  text NOT NULL,
  kind        text NOT NULL,
  sent_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject_id, kind)
);
