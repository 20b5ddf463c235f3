-- The heads' trigger functions run inside their callers' transactions and inherited their planner settings: the
-- previous release's outbox take turns enable_sort and enable_bitmapscan off for its transaction, which priced the
-- refresh's sort at the planner's disable cost, past the JIT thresholds, and JIT-compiled it on every take (about
-- 300 ms a take instead of 5). A take that slow outlived a killed leader and committed after its successor had reset
-- the rows left 'sending', and those rows then waited for the next term (the migration drill's crash test). The
-- functions pin what their plans need; no logic changes, so the heads stay right for both releases.
ALTER FUNCTION outbox_heads_refresh(bigint[]) SET enable_sort = on SET enable_bitmapscan = on SET jit = off;
ALTER FUNCTION outbox_heads_inserted() SET enable_sort = on SET enable_bitmapscan = on SET jit = off;
ALTER FUNCTION inbox_heads_refresh(bigint[]) SET enable_sort = on SET enable_bitmapscan = on SET jit = off;
ALTER FUNCTION inbox_heads_inserted() SET enable_sort = on SET enable_bitmapscan = on SET jit = off;
