-- What the admin Mini App's overview reads of a chat's gate. Expand only: the previous release neither reads nor
-- writes these (its joins leave left_at NULL and write no raid period, which the overview then does not show).

-- When an approved member left the chat (chat_member: in the chat, then not), for "still a member after 7 days".
-- NULL: still in the chat, or left before the bot saw it.
ALTER TABLE join_requests ADD COLUMN left_at timestamptz;
-- Who asked, as Telegram named them when they asked, for the admins' join queue (NULL: asked under the previous
-- release, shown by id). Purged with the request.
ALTER TABLE join_requests ADD COLUMN user_name text, ADD COLUMN username text;

-- Each raid-mode period of a chat: when it began and until when it lasts (extended by every join past the limit,
-- cut short by an admin's Decline all held). gate_raids keeps only the current window; this keeps the history,
-- purged with the join decisions' audit period.
CREATE TABLE gate_raid_periods (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id     bigint      NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    until       timestamptz NOT NULL,
    -- The joins it saw: those of the minute that passed the limit, and every one after it while it lasted.
    joins       integer     NOT NULL DEFAULT 0
);
CREATE INDEX gate_raid_periods_chat ON gate_raid_periods (chat_id, started_at);
CREATE INDEX gate_raid_periods_until ON gate_raid_periods (until);
