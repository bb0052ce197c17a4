-- herald.emit: emit an event from inside the application's own transaction (the transactional
-- outbox). Version 1 of the SQL interface: its name, arguments and result stay as they are; a change
-- that breaks callers comes as herald.emit_v2 beside it. See docs/outbox.md.
--
-- It does what POST /v1/merchants/:mid/events does, byte for byte: the event body is
-- JSON.stringify({id, type, created_at, data}), because `data` is re-serialised here the way
-- JSON.stringify(JSON.parse(data)) would; ids are TypeIDs; one delivery per matching enabled endpoint
-- of the mode, each with its first attempt as a pg-boss job; idempotency per merchant with the same
-- request hash as the API, so a key used by one is replayed (or refused) by the other.
CREATE SCHEMA herald;
REVOKE ALL ON SCHEMA herald FROM PUBLIC;

-- What the API process knows from its environment and herald.emit cannot: written by every API
-- process when it starts (apps/api/src/routes/event-types.ts), one row.
CREATE TABLE herald.settings (
  one                  boolean PRIMARY KEY DEFAULT true CHECK (one),
  max_data_bytes       integer NOT NULL DEFAULT 262144,
  require_known_types  boolean NOT NULL DEFAULT false
);
INSERT INTO herald.settings DEFAULT VALUES;

-- A JSON number as JavaScript writes it (Number.prototype.toString): the shortest digits that read
-- back as the same double, in plain notation for exponents up to 21 and down to -6.
CREATE FUNCTION herald.json_number(n numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
-- 1 (the default since PostgreSQL 12) asks float8out for the shortest round-trip digits.
SET extra_float_digits = 1
AS $$
DECLARE
  v float8;
  parts text[];
  digits text;
  point integer;
  k integer;
  shorter numeric;
  shorter_digits text;
  shorter_point integer;
  candidate text;
  out text;
BEGIN
  BEGIN
    v := n::float8;
  EXCEPTION WHEN numeric_value_out_of_range THEN
    -- JSON.parse makes Infinity of a huge number (written null) and 0 of a tiny one.
    RETURN CASE WHEN abs(n) < 1 THEN '0' ELSE 'null' END;
  END;
  IF v = 0 THEN
    RETURN '0';
  END IF;
  parts := regexp_match(abs(v)::text, '^([0-9]+)(?:\.([0-9]+))?(?:e([-+][0-9]+))?$');
  digits := parts[1] || coalesce(parts[2], '');
  -- The value is 0.<digits> × 10^point.
  point := length(parts[1]) + coalesce(parts[3]::integer, 0);
  WHILE left(digits, 1) = '0' LOOP
    digits := substr(digits, 2);
    point := point - 1;
  END LOOP;
  digits := rtrim(digits, '0');
  k := length(digits);
  -- float8out and JavaScript both print the shortest digits that read back as v, but where a shorter
  -- number lies exactly halfway between two doubles float8out leaves it out and JavaScript takes it
  -- (4.7237931592500384e+16 is 47237931592500380 there). So try one digit fewer, rounded, for as long
  -- as it still reads back as v.
  WHILE k > 1 LOOP
    shorter := round(('0.' || digits)::numeric, k - 1);
    IF shorter >= 1 THEN
      shorter_digits := '1';
      shorter_point := point + 1;
    ELSE
      shorter_digits := rtrim(substr(shorter::text, 3), '0');
      shorter_point := point;
    END IF;
    candidate := '0.' || shorter_digits || 'e' || shorter_point;
    -- Past the largest double float8in would refuse the text rather than read infinity.
    EXIT WHEN candidate::numeric > 1.7976931348623157e308 OR candidate::float8 <> abs(v);
    digits := shorter_digits;
    point := shorter_point;
    k := length(digits);
  END LOOP;
  IF k <= point AND point <= 21 THEN
    out := digits || repeat('0', point - k);
  ELSIF 0 < point AND point <= 21 THEN
    out := left(digits, point) || '.' || substr(digits, point + 1);
  ELSIF -6 < point AND point <= 0 THEN
    out := '0.' || repeat('0', -point) || digits;
  ELSE
    out := left(digits, 1) || CASE WHEN k > 1 THEN '.' || substr(digits, 2) ELSE '' END
      || 'e' || CASE WHEN point - 1 >= 0 THEN '+' ELSE '-' END || abs(point - 1)::text;
  END IF;
  RETURN CASE WHEN v < 0 THEN '-' || out ELSE out END;
END
$$;

-- JSON.stringify(JSON.parse(j)): no whitespace, a repeated key kept at its first place with its
-- last value, integer-like keys first in numeric order (JavaScript's own property order), strings
-- escaped as JSON.stringify escapes them (to_json escapes exactly ", \ and control characters).
CREATE FUNCTION herald.json_compact(j json) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
AS $$
DECLARE
  out text;
BEGIN
  CASE json_typeof(j)
  WHEN 'object' THEN
    SELECT '{' || coalesce(string_agg(to_json(s.k)::text || ':' || herald.json_leaf(s.v), ','
        ORDER BY s.array_index NULLS LAST, s.first_at), '') || '}'
      INTO out
      FROM (
        SELECT e.key AS k,
          min(e.pos) AS first_at,
          (array_agg(e.value ORDER BY e.pos DESC))[1] AS v,
          CASE WHEN e.key ~ '^(0|[1-9][0-9]{0,9})$' AND e.key::bigint <= 4294967294 THEN e.key::bigint END
            AS array_index
        FROM json_each(j) WITH ORDINALITY AS e(key, value, pos)
        GROUP BY e.key
      ) s;
  WHEN 'array' THEN
    SELECT '[' || coalesce(string_agg(herald.json_leaf(e.value), ',' ORDER BY e.pos), '') || ']'
      INTO out
      FROM json_array_elements(j) WITH ORDINALITY AS e(value, pos);
  WHEN 'string' THEN
    out := to_json(j #>> '{}')::text;
  WHEN 'number' THEN
    out := herald.json_number((j #>> '{}')::numeric);
  WHEN 'boolean' THEN
    out := j #>> '{}';
  ELSE
    out := 'null';
  END CASE;
  RETURN out;
END
$$;

-- herald.json_compact of a value inside an object or array. The common leaves are done here in SQL,
-- which the planner inlines, instead of a PL/pgSQL call each (measured on a busy 2-core machine: an
-- emit of 27 KB of order lines took 38 ms with a call per leaf, 16 ms so). An integer of up to 15 digits is below 2^53
-- and JavaScript prints it as written (but -0 as 0, which the pattern leaves to json_number).
CREATE FUNCTION herald.json_leaf(j json) RETURNS text
-- Neither STRICT nor IMMUTABLE (to_json is STABLE), or the planner would not inline it.
LANGUAGE sql STABLE
AS $$
  SELECT CASE json_typeof(j)
    WHEN 'string' THEN to_json(j #>> '{}')::text
    WHEN 'boolean' THEN j #>> '{}'
    WHEN 'null' THEN 'null'
    WHEN 'number' THEN CASE WHEN (j #>> '{}') ~ '^(0|-?[1-9][0-9]{0,14})$' THEN j #>> '{}'
      ELSE herald.json_number((j #>> '{}')::numeric) END
    ELSE herald.json_compact(j)
  END
$$;

-- A TypeID as packages/core/src/ids.ts makes it: prefix, then a UUIDv7 (48-bit milliseconds first)
-- in 26 Crockford base32 characters.
CREATE FUNCTION herald.new_id(prefix text, at timestamptz) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
  b bytea := uuid_send(gen_random_uuid());
  ms bigint := floor(extract(epoch FROM at) * 1000);
  bits varbit;
  out text := '';
BEGIN
  FOR i IN 0..5 LOOP
    b := set_byte(b, i, ((ms >> (8 * (5 - i))) & 255)::integer);
  END LOOP;
  b := set_byte(b, 6, (get_byte(b, 6) & 15) | 112);
  b := set_byte(b, 8, (get_byte(b, 8) & 63) | 128);
  -- 130 bits, the first two zero, read five at a time.
  bits := B'00' || ('x' || encode(b, 'hex'))::bit(128);
  FOR i IN 0..25 LOOP
    out := out || substr('0123456789abcdefghjkmnpqrstvwxyz', substring(bits FROM i * 5 + 1 FOR 5)::bit(5)::integer + 1, 1);
  END LOOP;
  RETURN prefix || '_' || out;
END
$$;

-- packages/core/src/matching.ts matchesEventType.
CREATE FUNCTION herald.matches_event_type(filters text[], type text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT
AS $$
  SELECT cardinality(filters) = 0 OR EXISTS (
    SELECT FROM unnest(filters) AS f
    WHERE f = '*' OR f = type OR (right(f, 2) = '.*' AND starts_with(type, left(f, -1)))
  )
$$;

-- Errors are SQLSTATE 22023 (invalid_parameter_value) with the argument at fault in DETAIL as
-- `field: <name>`, 23505 for an idempotency key reused with another request, 40001 when a concurrent
-- transaction holds the key but this snapshot cannot see it (retry the transaction).
CREATE FUNCTION herald.emit(
  merchant_id text,
  mode text,
  type text,
  data json,
  idempotency_key text DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
AS $$
#variable_conflict use_column
DECLARE
  settings herald.settings;
  emitted_at timestamptz := date_trunc('milliseconds', clock_timestamp());
  at_text text;
  event_id text;
  data_text text;
  hash bytea;
  existing record;
  scheduled integer;
BEGIN
  IF emit.mode IS NULL OR emit.mode NOT IN ('live', 'test') THEN
    RAISE EXCEPTION 'herald.emit: mode must be live or test' USING ERRCODE = '22023', DETAIL = 'field: mode';
  END IF;
  IF emit.type IS NULL OR length(emit.type) > 128 OR emit.type !~ '^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$' THEN
    RAISE EXCEPTION 'herald.emit: type must be a dotted name of [a-zA-Z0-9_-] parts, at most 128 characters'
      USING ERRCODE = '22023', DETAIL = 'field: type';
  END IF;
  IF emit.data IS NULL OR json_typeof(emit.data) <> 'object' THEN
    RAISE EXCEPTION 'herald.emit: data must be a JSON object' USING ERRCODE = '22023', DETAIL = 'field: data';
  END IF;
  IF emit.idempotency_key IS NOT NULL AND (length(emit.idempotency_key) > 255 OR emit.idempotency_key !~ '^[ -~]+$') THEN
    RAISE EXCEPTION 'herald.emit: idempotency_key must be 1 to 255 printable ASCII characters'
      USING ERRCODE = '22023', DETAIL = 'field: idempotency_key';
  END IF;
  PERFORM FROM merchants m WHERE m.id = emit.merchant_id AND m.deleted_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'herald.emit: no merchant %', emit.merchant_id USING ERRCODE = '22023', DETAIL = 'field: merchant_id';
  END IF;
  SELECT * INTO settings FROM herald.settings;
  IF settings.require_known_types AND NOT EXISTS (SELECT FROM event_types t WHERE t.name = emit.type) THEN
    RAISE EXCEPTION 'herald.emit: % is not in the event-type catalog', emit.type USING ERRCODE = '22023', DETAIL = 'field: type';
  END IF;
  data_text := herald.json_compact(emit.data);
  IF octet_length(data_text) > settings.max_data_bytes THEN
    RAISE EXCEPTION 'herald.emit: data is larger than % bytes', settings.max_data_bytes
      USING ERRCODE = '22023', DETAIL = 'field: data';
  END IF;
  -- packages/db/src/queries/events.ts requestHash: SHA-256 of JSON.stringify([mode, type, data]).
  hash := CASE WHEN emit.idempotency_key IS NOT NULL THEN sha256(convert_to(
    '[' || to_json(emit.mode)::text || ',' || to_json(emit.type)::text || ',' || data_text || ']', 'UTF8')) END;

  event_id := herald.new_id('evt', emitted_at);
  at_text := to_char(emitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
  -- Keys are per merchant and mode (migration 0008).
  INSERT INTO events (id, merchant_id, mode, type, body, idempotency_key, request_hash, created_at)
  VALUES (event_id, emit.merchant_id, emit.mode, emit.type,
    '{"id":' || to_json(event_id)::text || ',"type":' || to_json(emit.type)::text
      || ',"created_at":"' || at_text || '","data":' || data_text || '}',
    emit.idempotency_key, hash, emitted_at)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    SELECT e.id, e.request_hash INTO existing
      FROM events e
      WHERE e.merchant_id = emit.merchant_id AND e.mode = emit.mode
        AND e.idempotency_key = emit.idempotency_key;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'herald.emit: idempotency key % is held by a transaction this snapshot cannot see', emit.idempotency_key
        USING ERRCODE = '40001', DETAIL = 'field: idempotency_key', HINT = 'Retry the transaction.';
    END IF;
    IF existing.request_hash IS DISTINCT FROM hash THEN
      RAISE EXCEPTION 'herald.emit: idempotency key % was used with a different type, mode or data', emit.idempotency_key
        USING ERRCODE = '23505', DETAIL = 'field: idempotency_key';
    END IF;
    RETURN existing.id;
  END IF;

  -- pg-boss creates its queue when Herald first starts; without it the jobs would have nowhere to go.
  PERFORM FROM pgboss.queue q WHERE q.name = 'attempts';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'herald.emit: Herald has not started yet (no attempts queue)' USING ERRCODE = '55000';
  END IF;
  -- The first attempt of each delivery as packages/db/src/queue.ts attemptJob describes it, with the
  -- queue's settings filled in the way pg-boss's own insert fills them.
  WITH targets AS (
    SELECT ep.id, ep.timeout_ms
    FROM endpoints ep
    WHERE ep.merchant_id = emit.merchant_id AND ep.mode = emit.mode AND ep.enabled AND ep.deleted_at IS NULL
      AND herald.matches_event_type(ep.event_types, emit.type)
  ), new_deliveries AS (
    INSERT INTO deliveries (id, merchant_id, mode, event_id, endpoint_id, event_type, next_attempt_at, created_at)
    SELECT herald.new_id('dlv', emitted_at), emit.merchant_id, emit.mode, event_id, t.id, emit.type, emitted_at, emitted_at
    FROM targets t
    RETURNING id, endpoint_id
  ), jobs AS (
    INSERT INTO pgboss.job (id, name, data, priority, start_after, created_on, group_id, expire_seconds,
      deletion_seconds, keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max, policy,
      dead_letter, heartbeat_seconds)
    SELECT gen_random_uuid(), q.name,
      jsonb_build_object('delivery_id', d.id, 'trigger', 'scheduled', 'scheduled_at', at_text),
      0, emitted_at, pgboss.job_now(), d.endpoint_id, ceil(t.timeout_ms / 1000.0)::integer + 30,
      q.deletion_seconds, emitted_at + q.retention_seconds * interval '1 second', q.retry_limit, q.retry_delay,
      q.retry_backoff, q.retry_delay_max, q.policy, q.dead_letter, q.heartbeat_seconds
    FROM new_deliveries d
    JOIN targets t ON t.id = d.endpoint_id
    JOIN pgboss.queue q ON q.name = 'attempts'
    RETURNING 1
  )
  SELECT count(*) INTO scheduled FROM jobs;
  -- Delivered when the caller commits, dropped if it rolls back: dispatchers wake as the event
  -- becomes visible, not before.
  IF scheduled > 0 THEN
    PERFORM pg_notify('herald_attempts', '');
  END IF;
  RETURN event_id;
END
$$;

-- The caller's search_path must not decide which `events` table this writes: pin it to the schema
-- Herald's tables live in, with pg_temp last so a temporary table cannot stand in.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION herald.emit(text, text, text, json, text) SET search_path = pg_catalog, %I, pg_temp',
    current_schema());
END
$$;

COMMENT ON SCHEMA herald IS 'Herald''s SQL interface: herald.emit (docs/outbox.md).';
COMMENT ON FUNCTION herald.emit(text, text, text, json, text) IS
  'Version 1. Emits an event in the calling transaction, as POST /v1/merchants/{mid}/events does; returns its id. See docs/outbox.md.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA herald FROM PUBLIC;
-- Functions added here later are not callable by everyone either, until granted.
ALTER DEFAULT PRIVILEGES IN SCHEMA herald REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
