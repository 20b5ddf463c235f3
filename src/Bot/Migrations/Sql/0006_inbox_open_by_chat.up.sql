-- migrate:no-transaction
-- Each chat's unfinished updates in order, under a predicate that only the heads' queries (0007) use. The
-- older partial indexes say state IN ('pending', 'processing'); after a quiet period their statistics hold
-- about zero rows, and the planner then scans them whole for each probe. This index is the only one whose
-- predicate those queries imply, so they can only run as a probe by chat_id. Built concurrently; expand only.
CREATE INDEX CONCURRENTLY inbox_open_by_chat ON inbox (chat_id, update_id) WHERE state <> 'done' AND state <> 'dead';
