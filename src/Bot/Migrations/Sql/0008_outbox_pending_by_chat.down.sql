-- migrate:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS outbox_pending_by_chat;
