-- migrate:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS inbox_open_by_chat;
