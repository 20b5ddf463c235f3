DROP TRIGGER outbox_heads_deleted ON outbox;
DROP TRIGGER outbox_heads_updated ON outbox;
DROP TRIGGER outbox_heads_inserted ON outbox;
DROP FUNCTION outbox_heads_deleted();
DROP FUNCTION outbox_heads_updated();
DROP FUNCTION outbox_heads_inserted();
DROP FUNCTION outbox_heads_refresh(bigint[]);
DROP TABLE outbox_heads;
