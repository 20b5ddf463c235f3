-- migrate:no-transaction
-- Each chat's oldest unsent message, found by an index probe instead of a DISTINCT ON over the whole backlog:
-- the sender's pick stays cheap with a hundred thousand replies queued. Built concurrently, so the table stays
-- writable while it builds. Expand only: the previous release works unchanged with it. No IF NOT EXISTS: a build
-- that failed leaves an invalid index behind, which must be dropped (docs/runbook.md), not silently kept.
CREATE INDEX CONCURRENTLY outbox_chat_heads ON outbox (chat_id, priority, id) WHERE state = 'pending';
