-- migrate:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS inbox_dead;
