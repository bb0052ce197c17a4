-- `herald listen`: a developer's CLI holds a stream open to the API, and the attempts of its relay
-- endpoint travel through it instead of over the network. Postgres is the meeting point, so any API
-- process may hold the stream and any dispatcher may make the attempt.

CREATE TABLE relay_sessions (
  id            text PRIMARY KEY,
  merchant_id   text NOT NULL REFERENCES merchants (id),
  -- The test-mode endpoint whose attempts this session carries; its url is relay://<id>.
  endpoint_id   text NOT NULL UNIQUE REFERENCES endpoints (id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- Set while a stream is open and refreshed by its heartbeat; a session not seen for a while is
  -- gone even if the API process holding the stream died without saying so.
  connected_at  timestamptz,
  last_seen_at  timestamptz
);

-- One attempt waiting for, or answered by, the CLI. The dispatcher that made it deletes it once
-- read, so the table holds only attempts in flight.
CREATE TABLE relay_requests (
  id                text PRIMARY KEY,
  session_id        text NOT NULL REFERENCES relay_sessions (id) ON DELETE CASCADE,
  delivery_id       text NOT NULL,
  headers           jsonb NOT NULL,
  body              text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL,
  taken_at          timestamptz,
  answered_at       timestamptz,
  response_status   integer,
  response_headers  jsonb,
  response_body     text,
  duration_ms       integer,
  error             text,
  error_detail      text
);
-- The stream looks for the session's attempts nobody took yet.
CREATE INDEX relay_requests_waiting ON relay_requests (session_id, created_at) WHERE taken_at IS NULL;
