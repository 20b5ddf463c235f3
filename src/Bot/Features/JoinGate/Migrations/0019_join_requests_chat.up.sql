-- migrate:no-transaction
-- A chat's join requests by time: what the admin Mini App's overview and queue read (counts per day, the funnel of
-- 30 days). Built concurrently, so the table stays writable; expand only.
CREATE INDEX CONCURRENTLY join_requests_chat_requested ON join_requests (chat_id, requested_at);
