-- The heads' update triggers set again only the heads that a change can move. Before, every update of the inbox or
-- the outbox, a claim or a send settle included, ran the full refresh for each chat it touched: locking the heads,
-- looking for the chat's next row through its index and upserting the head: 21,350 refreshes for 11,500 updates, each
-- planned again (docs/performance.md, 2026-12-07 (night)). No logic of the heads changes, and the previous release's
-- statements keep them right through these triggers as before. Expand only.

-- Inbox. A changed row that is still unfinished and is its chat's head stays the head: the chat's oldest unfinished
-- update is the same row, only its lease (a claim, a retry, a release) is new. So the head takes the row's lease, and
-- that is all. The heads are locked first, as the refresh locks them; if a concurrent insert made an older update the
-- head meanwhile, the head no longer names this row after the wait, and the chat gets the full refresh below. Every other
-- row (finished, or not the head) has its chat refreshed in full, as before. An update that changed no rows (a claim
-- that found nothing) does nothing.
CREATE OR REPLACE FUNCTION inbox_heads_updated() RETURNS trigger LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
DECLARE
    kept bigint[];
    rest bigint[];
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows) THEN
        RETURN NULL;
    END IF;
    -- Locked in the chats' order first, as the refresh and the insert trigger lock them, so that no two of these
    -- transactions wait for each other in opposite orders.
    PERFORM 1 FROM inbox_heads h
    WHERE h.chat_key = ANY (ARRAY(SELECT inbox_chat_key(chat_id, update_id) FROM new_rows))
    ORDER BY h.chat_key FOR UPDATE;
    WITH same_head AS (
        UPDATE inbox_heads h SET lease_until = n.lease_until
        FROM new_rows n
        WHERE h.chat_key = inbox_chat_key(n.chat_id, n.update_id) AND h.update_id = n.update_id
          AND n.state <> 'done' AND n.state <> 'dead'
        RETURNING h.chat_key)
    SELECT coalesce(array_agg(chat_key), '{}') INTO kept FROM same_head;
    rest := ARRAY(SELECT DISTINCT inbox_chat_key(chat_id, update_id) FROM new_rows
                  WHERE inbox_chat_key(chat_id, update_id) <> ALL (kept));
    IF cardinality(rest) > 0 THEN
        PERFORM inbox_heads_refresh(rest);
    END IF;
    RETURN NULL;
END
$$;

-- Outbox. Heads name pending rows only, so a row that was not pending before the change and is not pending after it
-- (a send settled: sending to sent or dead) cannot move a head, and its chat is left alone. Every other change (a
-- take, a retry made pending again, a pending row changed or dead-lettered) refreshes its chat in full, as before.
-- The trigger now sees the rows as they were too.
CREATE OR REPLACE FUNCTION outbox_heads_updated() RETURNS trigger LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
DECLARE
    chats bigint[];
BEGIN
    -- The chat a row is pending in now, and the one it was pending in (the same one unless the row moved chats).
    chats := ARRAY(SELECT chat_id FROM new_rows WHERE state = 'pending' UNION SELECT chat_id FROM old_rows WHERE state = 'pending');
    IF cardinality(chats) > 0 THEN
        PERFORM outbox_heads_refresh(chats);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER outbox_heads_updated ON outbox;
CREATE TRIGGER outbox_heads_updated AFTER UPDATE ON outbox REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_heads_updated();

-- The full refreshes plan their statements once per session: with custom plans, PL/pgSQL planned them again at
-- every call (the parameter is an array of chats), which was the largest share of their cost. A generic plan made
-- while a queue was nearly empty must not be a sequential scan that the session then keeps, so sequential scans
-- are priced out for these functions; every statement in them has an index to probe.
ALTER FUNCTION inbox_heads_refresh(bigint[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
ALTER FUNCTION outbox_heads_refresh(bigint[]) SET plan_cache_mode = force_generic_plan SET enable_seqscan = off;
