-- The durable inbox: one row per Telegram update, keyed by update_id so that Telegram's retries and
-- concurrent replicas store each update once. Workers claim rows per chat in update_id order.
CREATE TABLE inbox (
    update_id     bigint      PRIMARY KEY,
    -- The conversation the update belongs to (see Ingest/UpdateClassifier); NULL for updates without one.
    chat_id       bigint,
    kind          text        NOT NULL,
    -- The update exactly as Telegram sent it. text, not jsonb: jsonb refuses some valid JSON (\u0000)
    -- and a refused row must not fail the batch it came in. Query it with payload::jsonb.
    payload       text        NOT NULL,
    state         text        NOT NULL DEFAULT 'pending'
                  CONSTRAINT inbox_state_check CHECK (state IN ('pending', 'processing', 'done', 'dead')),
    attempts      integer     NOT NULL DEFAULT 0,
    lease_owner   text,
    lease_until   timestamptz,
    last_error    text,
    -- W3C traceparent of the ingest request, so that handling joins the same trace.
    trace_context text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);

-- Unfinished work per chat, oldest first: what a worker's claim reads.
CREATE INDEX inbox_unfinished_by_chat ON inbox (chat_id, update_id) WHERE state IN ('pending', 'processing');

-- Finished rows by age: what the purge reads.
CREATE INDEX inbox_finished_at ON inbox (processed_at) WHERE state IN ('done', 'dead');
