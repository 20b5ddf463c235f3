-- migrate:no-transaction
-- Dead-lettered updates by when they died: what Bot deadletters lists, requeues and drops, and what the leader's
-- purge reads to delete them after Processing:DeadLetterRetentionDays. Few rows, however large the inbox. Built
-- concurrently; expand only.
CREATE INDEX CONCURRENTLY inbox_dead ON inbox (processed_at) WHERE state = 'dead';
