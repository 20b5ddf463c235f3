-- migrate:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS outbox_chat_heads;
