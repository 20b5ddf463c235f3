-- The admin API's safe writes. Expand only: the previous release neither reads nor writes these.
-- Which admin API caller started a broadcast (its token's name, never its value); Telegram admins stay in
-- requested_by.
ALTER TABLE broadcasts ADD COLUMN requested_via text;

-- Idempotency-Key of POST /admin/broadcasts: the first request's broadcast, returned again for the same key
-- within 24 hours. request_hash tells a retry from a different request reusing the key.
CREATE TABLE admin_idempotency_keys (
    key          text        PRIMARY KEY,
    request_hash bytea       NOT NULL,
    broadcast_id bigint      NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_idempotency_keys_created ON admin_idempotency_keys (created_at);
