-- Delivery profiles: a provider's webhook dialect (envelope shape, hex signature header, success
-- rule, defaults for new endpoints). The built-in `default` profile is not stored: it comes from the
-- deployment's environment, so a merchant or endpoint without a profile delivers as before.

CREATE TABLE profiles (
  name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$' AND name <> 'default'),
  -- Everything but the name, as the API shows it: {description, envelope, signature_scheme, ...}.
  settings    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- NULL: the deployment's default profile. An endpoint's own profile overrides its merchant's.
ALTER TABLE merchants ADD COLUMN profile text REFERENCES profiles (name);
ALTER TABLE endpoints ADD COLUMN profile text REFERENCES profiles (name);

-- The bytes an attempt sent, when they differ from its event's stored body (a profile with another
-- envelope shape); NULL means exactly `events.body`, so the default profile stores nothing twice.
ALTER TABLE attempts ADD COLUMN request_body text;
