-- The bot's features: users and their subscriptions, per-user conversation state, flood-control windows,
-- join requests and their decisions, broadcasts. Expand only: release 2 keeps working on this schema.

-- Everyone who has talked to the bot in private. user_id is also their private chat's id.
CREATE TABLE users (
    user_id        bigint      PRIMARY KEY,
    -- Telegram's language_code of the last update seen; language is what the user chose with /lang.
    language_code  text,
    language       text,
    -- none: never subscribed; active: receives broadcasts; stopped: /stop; blocked: the bot cannot reach them.
    status         text        NOT NULL DEFAULT 'none'
                   CONSTRAINT users_status_check CHECK (status IN ('none', 'active', 'stopped', 'blocked')),
    -- The deep-link payload of the first /start (t.me/bot?start=PAYLOAD).
    source         text,
    subscribed_at  timestamptz,
    status_at      timestamptz NOT NULL DEFAULT now(),
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Broadcast expansion walks the active users in user_id order from a cursor.
CREATE INDEX users_active ON users (user_id) WHERE status = 'active';

-- Conversation state shared by all replicas: what a chat's user is in the middle of (a pending check, a
-- question asked). Written in the handler's transaction; expired rows are purged by the leader.
CREATE TABLE conversation_state (
    chat_id     bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    key         text        NOT NULL,
    value       text        NOT NULL,
    expires_at  timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, user_id, key)
);

CREATE INDEX conversation_state_expires ON conversation_state (expires_at) WHERE expires_at IS NOT NULL;

-- Flood control: one fixed window per user, counted in the handler's transaction (the row lock makes the
-- count exact across replicas).
CREATE TABLE flood_windows (
    user_id       bigint      PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    updates       integer     NOT NULL,
    warned        boolean     NOT NULL DEFAULT false
);

-- Join requests to gated chats and what was decided, for audit.
CREATE TABLE join_requests (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id       bigint      NOT NULL,
    user_id       bigint      NOT NULL,
    -- The private chat Telegram opened with the requester for this request (user_chat_id).
    user_chat_id  bigint      NOT NULL,
    update_id     bigint      NOT NULL UNIQUE,
    requested_at  timestamptz NOT NULL,
    -- pending: challenged and waiting for an answer; approved or declined once decided.
    state         text        NOT NULL DEFAULT 'pending'
                  CONSTRAINT join_requests_state_check CHECK (state IN ('pending', 'approved', 'declined')),
    -- member, correct_answer, wrong_answer, timeout, bot_lacks_rights, unreachable, duplicate, ...
    reason        text,
    deadline      timestamptz,
    decided_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- At most one open request per user and chat: a repeated request while one is open is not challenged twice.
CREATE UNIQUE INDEX join_requests_open ON join_requests (chat_id, user_id) WHERE state = 'pending';
CREATE INDEX join_requests_deadline ON join_requests (deadline) WHERE state = 'pending';

-- Broadcasts: a message copied to every active user, expanded into the outbox a chunk at a time from a
-- persisted cursor, so a crash or a deploy resumes without resending.
CREATE TABLE broadcasts (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The admin who asked (NULL when it came through the admin API).
    requested_by      bigint,
    from_chat_id      bigint      NOT NULL,
    message_id        integer     NOT NULL,
    state             text        NOT NULL DEFAULT 'running'
                      CONSTRAINT broadcasts_state_check CHECK (state IN ('running', 'done', 'cancelled')),
    -- The last user_id expanded into the outbox; expanded is true once every recipient has a row.
    cursor            bigint      NOT NULL DEFAULT 0,
    expanded          boolean     NOT NULL DEFAULT false,
    recipients        integer     NOT NULL DEFAULT 0,
    -- Progress as last counted from the outbox (the outbox rows are purged in time; these stay).
    sent              integer     NOT NULL DEFAULT 0,
    failed            integer     NOT NULL DEFAULT 0,
    blocked           integer     NOT NULL DEFAULT 0,
    -- Where progress is shown: the chat, the outbox row that sent the status message, its message id.
    status_chat_id    bigint,
    status_outbox_id  bigint,
    status_message_id integer,
    status_text       text,
    language          text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);

CREATE INDEX broadcasts_running ON broadcasts (id) WHERE state = 'running';

-- Which broadcast an outgoing message belongs to: progress is counted from the outbox itself.
ALTER TABLE outbox ADD COLUMN broadcast_id bigint;
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state) WHERE broadcast_id IS NOT NULL;
