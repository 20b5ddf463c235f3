-- Discord account links and role sync (the DiscordSync feature). Expand only: new tables, which the previous
-- release never reads.

-- A /link in progress: the SHA-256 of the OAuth2 state handed to Discord (never the state itself), whose Telegram
-- user it is, and until when it may be used. Consumed by the callback, once.
CREATE TABLE discord_link_states (
    state_hash  bytea       PRIMARY KEY,
    user_id     bigint      NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX discord_link_states_expires ON discord_link_states (expires_at);

-- A Telegram user's Discord account. One Discord account per Telegram user and the other way round. The access
-- token is used for the identify call during the callback and never stored.
CREATE TABLE discord_links (
    user_id         bigint      PRIMARY KEY,
    discord_user_id bigint      NOT NULL CONSTRAINT discord_links_discord_user UNIQUE,
    linked_at       timestamptz NOT NULL DEFAULT now()
);

-- Role changes to make at Discord, durable: added by the callback, /unlink, chat_member updates and the reconcile;
-- done by the leader's worker, which honours Discord's rate limits (not_before) and retries with a backoff.
CREATE TABLE discord_role_jobs (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    discord_user_id bigint      NOT NULL,
    action          text        NOT NULL CONSTRAINT discord_role_jobs_action CHECK (action IN ('add', 'remove')),
    state           text        NOT NULL DEFAULT 'pending' CONSTRAINT discord_role_jobs_state CHECK (state IN ('pending', 'done', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz
);
CREATE INDEX discord_role_jobs_due ON discord_role_jobs (not_before, id) WHERE state = 'pending';
CREATE INDEX discord_role_jobs_finished ON discord_role_jobs (done_at) WHERE state IN ('done', 'dead');

-- The reconcile's progress, one row: when the current run started (NULL: none running) and the last Discord member
-- id it settled (it walks the server's members in id order), so that a run the process did not finish is finished
-- by the next leader from there; and when the last run finished.
CREATE TABLE discord_reconcile (
    id           integer     PRIMARY KEY CONSTRAINT discord_reconcile_one CHECK (id = 1),
    started_at   timestamptz,
    cursor_id    bigint      NOT NULL DEFAULT 0,
    finished_at  timestamptz
);
INSERT INTO discord_reconcile (id) VALUES (1);
