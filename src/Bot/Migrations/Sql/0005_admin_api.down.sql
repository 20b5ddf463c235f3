DROP TABLE admin_idempotency_keys;
ALTER TABLE broadcasts DROP COLUMN requested_via;
