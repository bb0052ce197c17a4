-- The dashboard's sign-ins. Only SHA-256 hashes of the tokens are stored: a copy of the database
-- opens no session.

-- One-time links an operator hands to a merchant (POST /v1/merchants/{mid}/portal-sessions). A link
-- is spent by the first visit (used_at), and dead after expires_at either way.
CREATE TABLE portal_links (
  token_hash       bytea PRIMARY KEY,
  merchant_id      text NOT NULL REFERENCES merchants (id),
  -- Null: the session may switch between live and test.
  mode             text CHECK (mode IN ('live', 'test')),
  read_only        boolean NOT NULL,
  session_seconds  integer NOT NULL CHECK (session_seconds > 0),
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- A signed-in browser: the operator (admin key), a merchant's API key, or a portal link. A key
-- session follows its key: revoking the key ends it.
CREATE TABLE portal_sessions (
  token_hash   bytea PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('operator', 'api_key', 'link')),
  merchant_id  text REFERENCES merchants (id),
  mode         text CHECK (mode IN ('live', 'test')),
  api_key_id   text REFERENCES api_keys (id),
  read_only    boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz,
  CHECK ((kind = 'operator') = (merchant_id IS NULL)),
  CHECK ((kind = 'api_key') = (api_key_id IS NOT NULL))
);
