-- Announcements: audiences, language variants and albums, drafts, schedules (once, daily, weekly), quiet hours,
-- pause and resume, a delivery record per recipient (for edit and withdraw), paid broadcasts with a budget.
-- Expand only: the previous release keeps working on this schema. Its broadcasts are 'running' (every active
-- subscriber, counted from the outbox); this release's are 'sending', a state the previous release's runner never
-- picks, so a previous leader during a rollout cannot send an aimed broadcast to everyone.

-- draft: being prepared in Telegram; sending: going out, with a delivery row per recipient; scheduled: waits for scheduled_at (a recurring one is a template that starts
-- a run of its own at each time); paused: by an admin or at the budget; skipped: a missed time the admin chose to skip.
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_state_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_state_check
    CHECK (state IN ('draft', 'scheduled', 'sending', 'running', 'paused', 'done', 'cancelled', 'skipped'));

-- {} is every active subscriber; otherwise any of: languages [..], sources [..], subscribedAfter, subscribedBefore
-- (timestamps), activeWithinDays (int), member (true: approved by the join gate), list (a name in audience_lists).
ALTER TABLE broadcasts ADD COLUMN audience        jsonb       NOT NULL DEFAULT '{}';
ALTER TABLE broadcasts ADD COLUMN scheduled_at    timestamptz;
ALTER TABLE broadcasts ADD COLUMN started_at      timestamptz;
-- A recurring template: daily or weekly (weekday 0 = Sunday … 6) at recur_at in time_zone.
ALTER TABLE broadcasts ADD COLUMN recurrence      text
                      CONSTRAINT broadcasts_recurrence_check CHECK (recurrence IN ('daily', 'weekly'));
ALTER TABLE broadcasts ADD COLUMN recur_at        time;
ALTER TABLE broadcasts ADD COLUMN recur_weekday   smallint
                      CONSTRAINT broadcasts_recur_weekday_check CHECK (recur_weekday BETWEEN 0 AND 6);
ALTER TABLE broadcasts ADD COLUMN time_zone       text        NOT NULL DEFAULT 'UTC';
-- A time that passed while no leader ran: send at once, or skip that time.
ALTER TABLE broadcasts ADD COLUMN if_missed       text        NOT NULL DEFAULT 'send'
                      CONSTRAINT broadcasts_if_missed_check CHECK (if_missed IN ('send', 'skip'));
-- The recurring template a run was started by; one run per template and time.
ALTER TABLE broadcasts ADD COLUMN parent_id       bigint      REFERENCES broadcasts (id) ON DELETE SET NULL;
-- No deliveries between quiet_start and quiet_end in the recipient's time zone (else the broadcast's).
ALTER TABLE broadcasts ADD COLUMN quiet_start     time;
ALTER TABLE broadcasts ADD COLUMN quiet_end       time;
-- Paid broadcast (allow_paid_broadcast on every copy, Telegram's fee per message): at most budget recipients.
ALTER TABLE broadcasts ADD COLUMN allow_paid      boolean     NOT NULL DEFAULT false;
ALTER TABLE broadcasts ADD COLUMN budget          integer     CONSTRAINT broadcasts_budget_check CHECK (budget > 0);
-- admin or budget, while paused.
ALTER TABLE broadcasts ADD COLUMN paused_reason   text;
-- A bulk job over the delivered copies: edit (editMessageText to job_text) or withdraw (deleteMessages).
ALTER TABLE broadcasts ADD COLUMN job             text        CONSTRAINT broadcasts_job_check CHECK (job IN ('edit', 'withdraw'));
ALTER TABLE broadcasts ADD COLUMN job_text        text;
ALTER TABLE broadcasts ADD COLUMN job_state       text        CONSTRAINT broadcasts_job_state_check CHECK (job_state IN ('running', 'done'));
ALTER TABLE broadcasts ADD COLUMN job_cursor      bigint      NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN job_expanded    boolean     NOT NULL DEFAULT false;
ALTER TABLE broadcasts ADD COLUMN job_done        integer     NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN job_failed      integer     NOT NULL DEFAULT 0;

CREATE INDEX broadcasts_due ON broadcasts (scheduled_at) WHERE state = 'scheduled';
CREATE UNIQUE INDEX broadcasts_one_run_per_time ON broadcasts (parent_id, scheduled_at) WHERE parent_id IS NOT NULL;
CREATE INDEX broadcasts_draft_by ON broadcasts (requested_by, id) WHERE state = 'draft';

-- What is sent: one variant per language ('' is for every language without its own), a single message or an album.
CREATE TABLE broadcast_variants (
    broadcast_id  bigint     NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    language      text       NOT NULL,
    from_chat_id  bigint     NOT NULL,
    message_ids   integer[]  NOT NULL CONSTRAINT broadcast_variants_ids_check CHECK (cardinality(message_ids) BETWEEN 1 AND 10),
    -- A text message (it can be edited with editMessageText once sent).
    is_text       boolean    NOT NULL DEFAULT false,
    PRIMARY KEY (broadcast_id, language)
);

-- One row per recipient and broadcast: the key keeps a recipient from getting a broadcast twice (expansion, a
-- resume and a crash alike). outbox_id is the queued copy (NULL while paused); message_ids what Telegram answered.
CREATE TABLE broadcast_deliveries (
    broadcast_id   bigint      NOT NULL,
    user_id        bigint      NOT NULL,
    language       text        NOT NULL,
    outbox_id      bigint,
    outcome        text        NOT NULL DEFAULT 'queued'
                   CONSTRAINT broadcast_deliveries_outcome_check CHECK (outcome IN ('queued', 'sent', 'failed', 'blocked', 'cancelled')),
    message_ids    integer[],
    error          text,
    sent_at        timestamptz,
    -- The edit or withdraw job's call for this copy and how it ended (done, failed).
    job_outbox_id  bigint,
    job_outcome    text,
    PRIMARY KEY (broadcast_id, user_id)
);

CREATE INDEX broadcast_deliveries_queued ON broadcast_deliveries (broadcast_id, user_id) WHERE outcome = 'queued';
CREATE INDEX broadcast_deliveries_sent ON broadcast_deliveries (broadcast_id, user_id) WHERE outcome = 'sent';
CREATE INDEX broadcast_deliveries_job ON broadcast_deliveries (broadcast_id) WHERE job_outbox_id IS NOT NULL AND job_outcome IS NULL;

-- Saved audiences: a name and its user ids.
CREATE TABLE audience_lists (
    name        text        NOT NULL,
    user_id     bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, user_id)
);

-- The messages of albums the admins sent the bot in private (Telegram delivers an album as one message per item).
CREATE TABLE broadcast_album_items (
    chat_id         bigint      NOT NULL,
    media_group_id  text        NOT NULL,
    message_id      integer     NOT NULL,
    is_text         boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, media_group_id, message_id)
);

CREATE INDEX broadcast_album_items_created ON broadcast_album_items (created_at);

-- A user's time zone (/timezone), for schedules and quiet hours; when the user last talked to the bot (kept to the hour).
ALTER TABLE users ADD COLUMN time_zone     text;
ALTER TABLE users ADD COLUMN last_seen_at  timestamptz;

-- The join gate's approvals by user, for the audience "member".
CREATE INDEX join_requests_approved_user ON join_requests (user_id) WHERE state = 'approved';

-- The first time after `after` that is at_time on a day (weekday: that day of the week only) in zone. Computed on
-- local dates and converted back, so a daylight-saving change moves the UTC instant and not the local time.
CREATE FUNCTION broadcast_next_run(after timestamptz, at_time time, weekday smallint, zone text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT min(t) FROM (
        SELECT (d::date + at_time) AT TIME ZONE zone AS t
        FROM generate_series((after AT TIME ZONE zone)::date::timestamp, (after AT TIME ZONE zone)::date::timestamp + interval '8 days', interval '1 day') AS d
        WHERE weekday IS NULL OR extract(dow FROM d) = weekday
    ) candidates
    WHERE t > after
$$;

-- When a delivery at `at` may go out given quiet hours [quiet_start, quiet_end) in zone: at itself outside them,
-- else the end of the quiet period (a period may span midnight, e.g. 23:00-08:00).
CREATE FUNCTION broadcast_quiet_until(at timestamptz, zone text, quiet_start time, quiet_end time) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN quiet_start IS NULL OR quiet_end IS NULL OR quiet_start = quiet_end THEN at
        WHEN quiet_start < quiet_end THEN
            CASE WHEN (at AT TIME ZONE zone)::time >= quiet_start AND (at AT TIME ZONE zone)::time < quiet_end
                 THEN ((at AT TIME ZONE zone)::date + quiet_end) AT TIME ZONE zone ELSE at END
        ELSE
            CASE WHEN (at AT TIME ZONE zone)::time >= quiet_start
                 THEN ((at AT TIME ZONE zone)::date + 1 + quiet_end) AT TIME ZONE zone
                 WHEN (at AT TIME ZONE zone)::time < quiet_end
                 THEN ((at AT TIME ZONE zone)::date + quiet_end) AT TIME ZONE zone
                 ELSE at END
    END
$$;
