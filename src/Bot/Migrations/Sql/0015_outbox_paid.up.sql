-- Paid broadcasts: a row sent with allow_paid_broadcast counts against Telegram's paid limit (up to 1000/s), not the
-- 30/s one, so the sender takes paid and unpaid heads separately, each within its own window. The heads carry the
-- flag of the row they point at, and an index per kind keeps a take probing when one kind fills the heads (a paid
-- broadcast to every subscriber) and the take wants the other. Expand only: the previous release never writes the
-- column (its rows are unpaid by default) and its take reads the heads in (priority, id) order as before.
ALTER TABLE outbox ADD COLUMN paid boolean NOT NULL DEFAULT false;
ALTER TABLE outbox_heads ADD COLUMN paid boolean NOT NULL DEFAULT false;
CREATE INDEX outbox_heads_paid_order ON outbox_heads (paid, priority, id);

-- The bodies of 0009 with the head's paid flag; the planner settings 0012 pinned are given again, since CREATE OR
-- REPLACE sets a function's settings to those it names.
CREATE OR REPLACE FUNCTION outbox_heads_refresh(chats bigint[]) RETURNS void LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
BEGIN
    PERFORM 1 FROM outbox_heads WHERE chat_id = ANY (chats) ORDER BY chat_id FOR UPDATE;
    WITH wanted AS (
        SELECT k.chat_id, n.id, n.priority, n.not_before, n.paid
        FROM (SELECT DISTINCT unnest(chats) AS chat_id) k
        LEFT JOIN LATERAL (
            SELECT o.id, o.priority, o.not_before, o.paid FROM outbox o
            WHERE o.chat_id = k.chat_id AND o.state <> 'sent' AND o.state <> 'dead' AND o.state <> 'sending'
            ORDER BY o.priority, o.id LIMIT 1) n ON true
    ), gone AS (
        DELETE FROM outbox_heads h USING wanted w WHERE h.chat_id = w.chat_id AND w.id IS NULL
    )
    INSERT INTO outbox_heads AS h (chat_id, id, priority, not_before, paid)
    SELECT chat_id, id, priority, not_before, paid FROM wanted WHERE id IS NOT NULL ORDER BY chat_id
    ON CONFLICT (chat_id) DO UPDATE SET id = excluded.id, priority = excluded.priority, not_before = excluded.not_before, paid = excluded.paid
        WHERE (h.id, h.priority, h.not_before, h.paid) IS DISTINCT FROM (excluded.id, excluded.priority, excluded.not_before, excluded.paid);
END
$$;

CREATE OR REPLACE FUNCTION outbox_heads_inserted() RETURNS trigger LANGUAGE plpgsql
SET enable_sort = on SET enable_bitmapscan = on SET jit = off AS $$
BEGIN
    INSERT INTO outbox_heads AS h (chat_id, id, priority, not_before, paid)
    SELECT DISTINCT ON (chat_id) chat_id, id, priority, not_before, paid FROM new_rows WHERE state = 'pending'
    ORDER BY chat_id, priority, id
    ON CONFLICT (chat_id) DO UPDATE SET id = excluded.id, priority = excluded.priority, not_before = excluded.not_before, paid = excluded.paid
        WHERE (excluded.priority, excluded.id) < (h.priority, h.id);
    RETURN NULL;
END
$$;
