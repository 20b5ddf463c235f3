-- migrate:no-transaction
-- Decided join requests by decision time: what the leader's purge reads to delete decisions past their audit period
-- (Bot:JoinDecisionRetentionDays). Open requests are not in it: they are never purged. Built concurrently, so the
-- table stays writable; expand only.
CREATE INDEX CONCURRENTLY join_requests_decided ON join_requests (decided_at) WHERE state <> 'pending';
