-- Update processing: workers are woken by NOTIFY (one per ingest batch), handlers write outgoing calls to the outbox in the same
-- transaction as their state, and the leader's sender drains the outbox. Expand only: release 1 keeps working.

-- Every unfinished row in update_id order: where a worker's claim starts.
CREATE INDEX inbox_unfinished ON inbox (update_id) WHERE state IN ('pending', 'processing');

-- One notification per insert statement (a whole group-commit batch), sent when it commits.
CREATE FUNCTION bot_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_inserted AFTER INSERT ON inbox FOR EACH STATEMENT EXECUTE FUNCTION bot_notify('bot_inbox');

CREATE TABLE outbox (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id          bigint      NOT NULL,
    -- The Bot API method and its request as Telegram.Bot serializes it.
    method           text        NOT NULL,
    payload          text        NOT NULL,
    -- 0 interactive replies, 1 bulk (broadcasts): interactive traffic goes first.
    priority         smallint    NOT NULL DEFAULT 0,
    state            text        NOT NULL DEFAULT 'pending'
                     CONSTRAINT outbox_state_check CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    not_before       timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    -- The Bot API result (JSON), e.g. the sent message's id.
    result           text,
    source_update_id bigint,
    trace_context    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);

CREATE INDEX outbox_due ON outbox (priority, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_finished_at ON outbox (sent_at) WHERE state IN ('sent', 'dead');

-- No NOTIFY trigger on outbox: a notifying transaction takes a global lock through its commit, which
-- would serialize every handler's commit (and its WAL flush). Workers nudge the sender instead (OutboxNudge).

-- Chats that refused the bot (blocked it, deactivated, kicked it): sends to them stop.
CREATE TABLE unreachable_chats (
    chat_id    bigint      PRIMARY KEY,
    reason     text        NOT NULL,
    since      timestamptz NOT NULL DEFAULT now()
);

-- Small durable values shared by the replicas (the getUpdates offset in polling mode).
CREATE TABLE bot_state (
    key        text        PRIMARY KEY,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
