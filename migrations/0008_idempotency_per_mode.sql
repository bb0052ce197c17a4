-- Idempotency keys belong to a merchant *and a mode*: a test-mode emit must never answer a live
-- emit's key (409 would tell a test key which keys live traffic used), nor take a key live needs.
-- Built before the old index is dropped, so the guard never lapses within this transaction.
CREATE UNIQUE INDEX events_idempotency_mode ON events (merchant_id, mode, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
DROP INDEX events_idempotency;
