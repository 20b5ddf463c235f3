DROP INDEX IF EXISTS outbox_broadcast;
ALTER TABLE outbox DROP COLUMN IF EXISTS broadcast_id;
DROP TABLE IF EXISTS broadcasts;
DROP TABLE IF EXISTS join_requests;
DROP TABLE IF EXISTS flood_windows;
DROP TABLE IF EXISTS conversation_state;
DROP TABLE IF EXISTS users;
