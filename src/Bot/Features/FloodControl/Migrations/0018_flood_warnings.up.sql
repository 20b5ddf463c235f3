-- Every flood warning the bot gave: who, in which chat, when; the admin Mini App counts a chat's per day and week.
-- Purged after 30 days. A new table only: the previous release does not know it.
CREATE TABLE flood_warnings (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id    bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    warned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flood_warnings_chat ON flood_warnings (chat_id, warned_at);
CREATE INDEX flood_warnings_warned ON flood_warnings (warned_at);
