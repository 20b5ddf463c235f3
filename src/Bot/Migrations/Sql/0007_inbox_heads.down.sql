ALTER TABLE outbox DROP COLUMN epoch;
DROP TABLE leader_epochs;
DROP TRIGGER inbox_heads_updated ON inbox;
DROP TRIGGER inbox_heads_inserted ON inbox;
DROP FUNCTION inbox_heads_updated();
DROP FUNCTION inbox_heads_inserted();
DROP FUNCTION inbox_heads_refresh(bigint[]);
DROP FUNCTION inbox_chat_key(bigint, bigint);
DROP TABLE inbox_heads;
