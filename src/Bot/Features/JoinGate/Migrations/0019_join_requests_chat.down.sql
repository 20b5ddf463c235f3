-- migrate:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS join_requests_chat_requested;
