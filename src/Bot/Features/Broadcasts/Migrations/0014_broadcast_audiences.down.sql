-- Back to the previous release's broadcasts: what it cannot run (drafts, schedules, paused and skipped ones, and
-- sending ones, whose audience it would not honour) ends as cancelled; the delivery records, variants, lists and
-- albums go.
DROP FUNCTION broadcast_quiet_until(timestamptz, text, time, time);
DROP FUNCTION broadcast_next_run(timestamptz, time, smallint, text);
DROP INDEX join_requests_approved_user;
ALTER TABLE users DROP COLUMN last_seen_at;
ALTER TABLE users DROP COLUMN time_zone;
DROP TABLE broadcast_album_items;
DROP TABLE audience_lists;
DROP TABLE broadcast_deliveries;
DROP TABLE broadcast_variants;
UPDATE broadcasts SET state = 'cancelled', finished_at = coalesce(finished_at, now())
WHERE state IN ('draft', 'scheduled', 'sending', 'paused', 'skipped');
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_state_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_state_check CHECK (state IN ('running', 'done', 'cancelled'));
ALTER TABLE broadcasts
    DROP COLUMN job_failed, DROP COLUMN job_done, DROP COLUMN job_expanded, DROP COLUMN job_cursor, DROP COLUMN job_state,
    DROP COLUMN job_text, DROP COLUMN job, DROP COLUMN paused_reason, DROP COLUMN budget, DROP COLUMN allow_paid,
    DROP COLUMN quiet_end, DROP COLUMN quiet_start, DROP COLUMN parent_id, DROP COLUMN if_missed, DROP COLUMN time_zone,
    DROP COLUMN recur_weekday, DROP COLUMN recur_at, DROP COLUMN recurrence, DROP COLUMN started_at, DROP COLUMN scheduled_at,
    DROP COLUMN audience;
