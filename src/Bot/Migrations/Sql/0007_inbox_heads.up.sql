-- Per-chat heads of the inbox and leadership epochs. Expand only: the previous release neither reads nor
-- writes these; the triggers keep the heads right whichever release changes the inbox.

-- The oldest unfinished update of every chat that has one, and its lease (or retry time). Workers claim from
-- here: the table has one row per busy chat, not one per queued update, so a claim costs the same with a
-- hundred thousand updates queued or ten thousand queued in one chat, and it needs no estimate of how many
-- inbox rows are unfinished (the statistics of a work queue are stale by nature).
-- chat_key is the chat id; an update without a chat is a queue of its own, keyed below every chat id.
CREATE TABLE inbox_heads (
    chat_key    bigint      PRIMARY KEY,
    update_id   bigint      NOT NULL,
    lease_until timestamptz
);
CREATE INDEX inbox_heads_order ON inbox_heads (update_id);

CREATE FUNCTION inbox_chat_key(chat_id bigint, update_id bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(chat_id, -9223372036854775807 + update_id) $$;

-- Sets the heads of the given chats from the inbox. A chat's next update is found through inbox_open_by_chat,
-- the one index whose predicate the query implies; an update without a chat by primary key (its state test is a
-- CASE, which no partial index's predicate matches). It locks them first, which waits for any transaction that
-- is changing them (an ingest, a claim, a completion); its next statement then reads the inbox with a snapshot
-- that includes what those committed, so a concurrent insert into the same chat is never missed.
CREATE FUNCTION inbox_heads_refresh(keys bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM inbox_heads WHERE chat_key = ANY (keys) ORDER BY chat_key FOR UPDATE;
    WITH wanted AS (
        SELECT k.chat_key, coalesce(c.update_id, s.update_id) AS update_id, coalesce(c.lease_until, s.lease_until) AS lease_until
        FROM (SELECT DISTINCT unnest(keys) AS chat_key) k
        LEFT JOIN LATERAL (
            SELECT i.update_id, i.lease_until FROM inbox i
            WHERE i.chat_id = k.chat_key AND i.state <> 'done' AND i.state <> 'dead'
            ORDER BY i.update_id LIMIT 1) c ON k.chat_key > -9000000000000000000
        LEFT JOIN LATERAL (
            SELECT i.update_id, i.lease_until FROM inbox i
            WHERE i.update_id = CASE WHEN k.chat_key <= -9000000000000000000 THEN k.chat_key + 9223372036854775807 END
              AND CASE WHEN i.chat_id IS NULL AND i.state NOT IN ('done', 'dead') THEN true ELSE false END) s
            ON k.chat_key <= -9000000000000000000
    ), gone AS (
        DELETE FROM inbox_heads h USING wanted w WHERE h.chat_key = w.chat_key AND w.update_id IS NULL
    )
    INSERT INTO inbox_heads AS h (chat_key, update_id, lease_until)
    SELECT chat_key, update_id, lease_until FROM wanted WHERE update_id IS NOT NULL ORDER BY chat_key
    ON CONFLICT (chat_key) DO UPDATE SET update_id = excluded.update_id, lease_until = excluded.lease_until
        WHERE (h.update_id, h.lease_until) IS DISTINCT FROM (excluded.update_id, excluded.lease_until);
END
$$;

-- New updates: a chat without a head gets one; an update older than its chat's head becomes the head. The
-- upsert locks an existing head even when it changes nothing (ON CONFLICT ... WHERE locks the row), so a
-- completion of the same chat waits for this insert to commit before it looks for the chat's next update.
CREATE FUNCTION inbox_heads_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbox_heads AS h (chat_key, update_id)
    SELECT inbox_chat_key(chat_id, update_id), min(update_id) FROM new_rows WHERE state <> 'done' AND state <> 'dead' GROUP BY 1 ORDER BY 1
    ON CONFLICT (chat_key) DO UPDATE SET update_id = excluded.update_id, lease_until = NULL
        WHERE excluded.update_id < h.update_id;
    RETURN NULL;
END
$$;

-- Claims, completions, failures, releases, requeues: the changed chats' heads are set again.
CREATE FUNCTION inbox_heads_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_heads_refresh(ARRAY(SELECT DISTINCT inbox_chat_key(chat_id, update_id) FROM new_rows));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_heads_inserted AFTER INSERT ON inbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_heads_inserted();
CREATE TRIGGER inbox_heads_updated AFTER UPDATE ON inbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_heads_updated();
-- Only finished rows are ever deleted (the purge), so deletes need no trigger.

-- The heads of what is queued now (the triggers hold the table's write lock from here to the commit).
INSERT INTO inbox_heads (chat_key, update_id, lease_until)
SELECT DISTINCT ON (inbox_chat_key(chat_id, update_id)) inbox_chat_key(chat_id, update_id), update_id, lease_until
FROM inbox WHERE state IN ('pending', 'processing')
ORDER BY inbox_chat_key(chat_id, update_id), update_id;

-- Leadership terms. Taking the lead increments the epoch; the sender stamps the rows it takes with its term's
-- epoch and settles them only while that epoch is still the current one, so a leader that stalled past its
-- lease and woke up changes nothing its successor owns.
CREATE TABLE leader_epochs (
    name       text        PRIMARY KEY,
    epoch      bigint      NOT NULL,
    holder     text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE outbox ADD COLUMN epoch bigint;
