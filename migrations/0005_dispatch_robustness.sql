-- How an attempt's response_body is stored. 'utf8': the body as received (it was valid UTF-8 with
-- no NUL). 'base64': the exact bytes, base64-encoded, because Postgres text cannot hold them (a NUL,
-- invalid UTF-8, binary, gzip or UTF-16 answer). Either way the bytes are kept, never rewritten.
ALTER TABLE attempts
  ADD COLUMN response_body_encoding text NOT NULL DEFAULT 'utf8'
    CHECK (response_body_encoding IN ('utf8', 'base64'));
