-- The event-type catalog: what a provider's services emit, and what merchants choose from when they
-- subscribe. One catalog for the whole installation, written only by the admin key.
CREATE TABLE event_types (
  name         text PRIMARY KEY CHECK (length(name) <= 128 AND name ~ '^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*$'),
  description  text NOT NULL DEFAULT '',
  -- A JSON Schema (draft 2020-12) for the event's `data`; NULL accepts any object.
  schema       jsonb,
  -- An example `data`, valid against the schema.
  example      jsonb,
  deprecated   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Also the key of every API process's compiled-schema cache: a change here invalidates them all.
  updated_at   timestamptz NOT NULL DEFAULT now()
);
