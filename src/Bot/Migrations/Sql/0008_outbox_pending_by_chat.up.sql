-- migrate:no-transaction
-- Each chat's pending messages in send order, under a predicate that only the outbox heads' queries (0009)
-- imply: with the statistics of an empty outbox the planner would otherwise walk outbox_due, thinking it empty,
-- to find one chat's next message. Built concurrently; expand only.
CREATE INDEX CONCURRENTLY outbox_pending_by_chat ON outbox (chat_id, priority, id)
    WHERE state <> 'sent' AND state <> 'dead' AND state <> 'sending';
