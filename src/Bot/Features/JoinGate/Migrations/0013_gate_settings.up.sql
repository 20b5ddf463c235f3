-- The join gate run by each chat's own admins: per-chat settings changed from Telegram (/settings) and who changed
-- what; checks with single-use button tokens and several attempts; members who join without a request (direct
-- joins, restricted until they pass); a log chat per gated chat. Expand only: the previous release keeps working
-- on this schema (its join requests get the defaults below and its buttons keep their own format).

-- A chat's gate settings. A column left NULL takes the environment's default (Bot__GatedChatIds, Bot__JoinCheckKind,
-- Bot__JoinAttempts, Bot__JoinCheckSeconds), so a chat starts with what the platform team configured.
CREATE TABLE gate_settings (
    chat_id          bigint      PRIMARY KEY,
    enabled          boolean,
    -- arithmetic, emoji or questions.
    check_kind       text        CONSTRAINT gate_settings_check_kind CHECK (check_kind IN ('arithmetic', 'emoji', 'questions')),
    attempts         integer     CONSTRAINT gate_settings_attempts CHECK (attempts BETWEEN 1 AND 10),
    deadline_seconds integer     CONSTRAINT gate_settings_deadline CHECK (deadline_seconds BETWEEN 30 AND 86400),
    -- Where every decision and settings change of this chat is posted (NULL: nowhere).
    log_chat_id      bigint,
    -- The admins' questions: [{"q": "...", "right": "...", "wrong": ["...", ...]}, ...].
    questions        jsonb       NOT NULL DEFAULT '[]',
    -- The welcome text per language code: {"en": "...", "ru": "..."}.
    welcome          jsonb       NOT NULL DEFAULT '{}',
    -- Set when the bot was removed from the chat or lost its rights there: the gate pauses until it is back.
    paused_reason    text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Every change of a chat's settings: who, what, from and to, when. Purged with the join decisions' audit period.
CREATE TABLE gate_settings_audit (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id     bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    setting     text        NOT NULL,
    old_value   text,
    new_value   text,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gate_settings_audit_chat ON gate_settings_audit (chat_id, id);
CREATE INDEX gate_settings_audit_changed ON gate_settings_audit (changed_at);

-- How the user came: 'request' (chat_join_request) or 'direct' (joined without one, restricted until decided).
-- Columns only, no constraint or index on this table: adding them takes no scan of the audit rows and no lock
-- held while writes wait. The check in progress: its kind, the attempts left, when the next answer is accepted (a
-- short cooldown after a wrong one), the chat title and the language its messages are worded in; the admin who
-- decided by hand (Approve anyway from the log chat), if any.
ALTER TABLE join_requests
    ADD COLUMN entry text NOT NULL DEFAULT 'request',
    ADD COLUMN check_kind text,
    ADD COLUMN attempts_left integer,
    ADD COLUMN retry_at timestamptz,
    ADD COLUMN chat_title text,
    ADD COLUMN language text,
    ADD COLUMN decided_by bigint,
    -- Arrived during a raid: no check was sent; declined once the raid is over unless an admin lets it in first.
    ADD COLUMN held boolean NOT NULL DEFAULT false;

-- The buttons of the checks in progress. A button carries only its opaque token, never the answer; a token is
-- used once (a press deletes every token of its check), so a replayed or forwarded button changes nothing.
CREATE TABLE join_check_tokens (
    token       text    PRIMARY KEY,
    request_id  bigint  NOT NULL REFERENCES join_requests (id) ON DELETE CASCADE,
    correct     boolean NOT NULL
);
CREATE INDEX join_check_tokens_request ON join_check_tokens (request_id);

-- Check messages shown in a group (to a user who never started the bot): the outbox row that sends it, so the
-- message can be deleted once the request is decided. A row lives until its message is deleted.
CREATE TABLE join_check_messages (
    request_id  bigint      PRIMARY KEY REFERENCES join_requests (id) ON DELETE CASCADE,
    chat_id     bigint      NOT NULL,
    outbox_id   bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- What applies to a user's next request or join for a while: 'block' after their last wrong answer (declined without
-- a check until then), 'allow' after an admin's Approve anyway (let in without a check until then).
CREATE TABLE join_verdicts (
    chat_id  bigint      NOT NULL,
    user_id  bigint      NOT NULL,
    verdict  text        NOT NULL CONSTRAINT join_verdicts_verdict CHECK (verdict IN ('block', 'allow')),
    until    timestamptz NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX join_verdicts_until ON join_verdicts (until);

-- Raid mode: joins (requests and direct joins) counted per chat in fixed one-minute windows; past the limit
-- (Bot:RaidJoinsPerMinute) the chat is in raid mode until "until", and new joins are held without a check.
CREATE TABLE gate_raids (
    chat_id       bigint      PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    joins         integer     NOT NULL,
    until         timestamptz,
    started_at    timestamptz
);
