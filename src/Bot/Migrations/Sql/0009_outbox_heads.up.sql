-- Per-chat heads of the outbox: each chat's next pending message (by priority, then id) and when it is due. The
-- sender takes from here, so a take costs the same with a hundred thousand messages queued or ten thousand
-- queued for one chat, whatever the statistics say. Kept by triggers for every writer (handlers, broadcasts, the
-- sender, a cancel, the purge), this release or the previous one. Expand only.
CREATE TABLE outbox_heads (
    chat_id    bigint      PRIMARY KEY,
    id         bigint      NOT NULL,
    priority   smallint    NOT NULL,
    not_before timestamptz NOT NULL
);
CREATE INDEX outbox_heads_order ON outbox_heads (priority, id);

-- Locks the chats' heads first (waiting for any transaction changing them), then reads the outbox with a fresh
-- snapshot, as inbox_heads_refresh does.
CREATE FUNCTION outbox_heads_refresh(chats bigint[]) RETURNS void LANGUAGE plpgsql AS $$
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

-- New messages: a chat without a head gets one; a message ahead of its chat's head (by priority, then id)
-- becomes the head. Locks an existing head even when nothing changes (see inbox_heads_inserted).
CREATE FUNCTION outbox_heads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox_heads AS h (chat_id, id, priority, not_before)
    SELECT DISTINCT ON (chat_id) chat_id, id, priority, not_before FROM new_rows WHERE state = 'pending'
    ORDER BY chat_id, priority, id
    ON CONFLICT (chat_id) DO UPDATE SET id = excluded.id, priority = excluded.priority, not_before = excluded.not_before
        WHERE (excluded.priority, excluded.id) < (h.priority, h.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION outbox_heads_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_heads_refresh(ARRAY(SELECT DISTINCT chat_id FROM new_rows));
    RETURN NULL;
END
$$;

-- Deleted pending messages (a cancelled broadcast's) may have been heads; finished ones (the purge) never are.
CREATE FUNCTION outbox_heads_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_heads_refresh(ARRAY(SELECT DISTINCT chat_id FROM old_rows WHERE state = 'pending'));
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_heads_inserted AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_heads_inserted();
CREATE TRIGGER outbox_heads_updated AFTER UPDATE ON outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_heads_updated();
CREATE TRIGGER outbox_heads_deleted AFTER DELETE ON outbox REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_heads_deleted();

INSERT INTO outbox_heads (chat_id, id, priority, not_before)
SELECT DISTINCT ON (chat_id) chat_id, id, priority, not_before FROM outbox WHERE state = 'pending'
ORDER BY chat_id, priority, id;
