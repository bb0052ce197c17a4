-- Herald's tables. Ids are TypeIDs (prefix + UUIDv7 in base32): they sort by creation time, so
-- every list paginates on the primary key or on an index ending with the id.

CREATE TABLE merchants (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  metadata    jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  merchant_id  text NOT NULL REFERENCES merchants (id),
  mode         text NOT NULL CHECK (mode IN ('live', 'test')),
  -- SHA-256 of the key: the key itself is shown once and never stored.
  key_hash     bytea NOT NULL UNIQUE,
  prefix       text NOT NULL,
  last4        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, id);

CREATE TABLE endpoints (
  id                text PRIMARY KEY,
  merchant_id       text NOT NULL REFERENCES merchants (id),
  mode              text NOT NULL CHECK (mode IN ('live', 'test')),
  url               text NOT NULL,
  description       text NOT NULL DEFAULT '',
  event_types       text[] NOT NULL DEFAULT '{}',
  enabled           boolean NOT NULL DEFAULT true,
  disabled_reason   text,
  retry_policy      jsonb NOT NULL,
  signature_scheme  text NOT NULL,
  headers           jsonb NOT NULL DEFAULT '{}',
  timeout_ms        integer NOT NULL DEFAULT 15000,
  metadata          jsonb NOT NULL DEFAULT '{}',
  -- Signing secrets, newest first, each AES-256-GCM encrypted: [{secret, created_at, expires_at}].
  secrets           jsonb NOT NULL,
  -- Start of the current run of failures; reset by any success. Drives automatic disabling.
  failing_since     timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz
);
CREATE INDEX endpoints_merchant ON endpoints (merchant_id, id) WHERE deleted_at IS NULL;
-- Fan-out reads the enabled endpoints of one merchant and mode on every emit.
CREATE INDEX endpoints_fanout ON endpoints (merchant_id, mode) WHERE enabled AND deleted_at IS NULL;

CREATE TABLE events (
  id               text PRIMARY KEY,
  merchant_id      text NOT NULL REFERENCES merchants (id),
  mode             text NOT NULL CHECK (mode IN ('live', 'test')),
  type             text NOT NULL,
  -- The exact bytes delivered and signed: JSON.stringify({id, type, created_at, data}).
  body             text NOT NULL,
  idempotency_key  text,
  -- SHA-256 of the emit request, so a reused key with another body answers 409.
  request_hash     bytea,
  created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX events_idempotency ON events (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_merchant ON events (merchant_id, mode, id);
CREATE INDEX events_type ON events (merchant_id, mode, type text_pattern_ops, id);

CREATE TABLE deliveries (
  id               text PRIMARY KEY,
  merchant_id      text NOT NULL REFERENCES merchants (id),
  mode             text NOT NULL,
  event_id         text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  endpoint_id      text NOT NULL REFERENCES endpoints (id),
  event_type       text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
  attempt_count    integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_merchant ON deliveries (merchant_id, mode, id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
-- Recovery and the failed-deliveries view read the failed ones of an endpoint by time.
CREATE INDEX deliveries_endpoint_failed ON deliveries (endpoint_id, created_at) WHERE status = 'failed';

CREATE TABLE attempts (
  id                text PRIMARY KEY,
  delivery_id       text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  endpoint_id       text NOT NULL,
  number            integer NOT NULL,
  trigger           text NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'test')),
  scheduled_at      timestamptz NOT NULL,
  started_at        timestamptz NOT NULL,
  duration_ms       integer NOT NULL,
  request_url       text NOT NULL,
  request_headers   jsonb NOT NULL,
  response_status   integer,
  response_headers  jsonb,
  response_body     text,
  error             text,
  error_detail      text
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);
-- "The last 50 attempts of an endpoint" walks this index backwards and stops.
CREATE INDEX attempts_endpoint ON attempts (endpoint_id, id);
