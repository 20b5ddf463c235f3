-- The heads' functions as 0009 wrote them and 0012 pinned them, then the columns go.
CREATE OR REPLACE FUNCTION outbox_heads_refresh(chats bigint[]) RETURNS void LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
BEGIN
    PERFORM 1 FROM outbox_heads WHERE chat_id = ANY (chats) ORDER BY chat_id FOR UPDATE;
    WITH wanted AS (
        SELECT k.chat_id, n.id, n.priority, n.not_before
        FROM (SELECT DISTINCT unnest(chats) AS chat_id) k
        LEFT JOIN LATERAL (
            SELECT o.id, o.priority, o.not_before FROM outbox o
            WHERE o.chat_id = k.chat_id AND o.state <> 'sent' AND o.state <> 'dead' AND o.state <> 'sending'
            ORDER BY o.priority, o.id LIMIT 1) n ON true
    ), gone AS (
        DELETE FROM outbox_heads h USING wanted w WHERE h.chat_id = w.chat_id AND w.id IS NULL
    )
    INSERT INTO outbox_heads AS h (chat_id, id, priority, not_before)
    SELECT chat_id, id, priority, not_before FROM wanted WHERE id IS NOT NULL ORDER BY chat_id
    ON CONFLICT (chat_id) DO UPDATE SET id = excluded.id, priority = excluded.priority, not_before = excluded.not_before
        WHERE (h.id, h.priority, h.not_before) IS DISTINCT FROM (excluded.id, excluded.priority, excluded.not_before);
END
$$;

CREATE OR REPLACE FUNCTION outbox_heads_inserted() RETURNS trigger LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
BEGIN
    INSERT INTO outbox_heads AS h (chat_id, id, priority, not_before)
    SELECT DISTINCT ON (chat_id) chat_id, id, priority, not_before FROM new_rows WHERE state = 'pending'
    ORDER BY chat_id, priority, id
    ON CONFLICT (chat_id) DO UPDATE SET id = excluded.id, priority = excluded.priority, not_before = excluded.not_before
        WHERE (excluded.priority, excluded.id) < (h.priority, h.id);
    RETURN NULL;
END
$$;

DROP INDEX outbox_heads_paid_order;
ALTER TABLE outbox_heads DROP COLUMN paid;
ALTER TABLE outbox DROP COLUMN paid;
