using Bot.Coordination;
using Bot.Features.Subscriptions;
using Bot.Outbox;
using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>A broadcast's state (broadcasts.state).</summary>
public static class BroadcastState
{
    /// <summary>Being prepared (audience, variants, schedule) in Telegram or through the API.</summary>
    public const string Draft = "draft";

    /// <summary>Waits for its time; a recurring one is a template that starts a run of its own at each time.</summary>
    public const string Scheduled = "scheduled";

    /// <summary>Going out, with a delivery record per recipient.</summary>
    public const string Sending = "sending";

    /// <summary>A broadcast of the previous release: every active subscriber, counted from the outbox.</summary>
    public const string Running = "running";

    public const string Paused = "paused";
    public const string Done = "done";
    public const string Cancelled = "cancelled";

    /// <summary>Its time passed while no leader ran, and the admin chose to skip a missed time.</summary>
    public const string Skipped = "skipped";

    public static bool IsGoingOut(string state) => state is Sending or Running;
}

/// <summary>A broadcast as the admin sees it. Counts are as of the runner's last count (every few seconds).</summary>
public sealed record BroadcastView(
    long Id, string State, long FromChatId, int MessageId, long? RequestedBy, int Recipients, bool Expanded,
    int Sent, int Failed, int Blocked, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, string? RequestedVia)
{
    public Audience Audience { get; init; } = Audience.Everyone;

    /// <summary>The languages of its variants ('' is the variant for every other language).</summary>
    public string[] Languages { get; init; } = [];

    public DateTimeOffset? ScheduledAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>daily or weekly for a recurring template (at RecurAt on RecurWeekday, 0 = Sunday, in TimeZone).</summary>
    public string? Recurrence { get; init; }

    public string? RecurAt { get; init; }

    public int? RecurWeekday { get; init; }

    public string TimeZone { get; init; } = "UTC";

    /// <summary>send or skip: what happens to a time that passed while no leader ran.</summary>
    public string IfMissed { get; init; } = "send";

    /// <summary>The recurring template that started this run.</summary>
    public long? ParentId { get; init; }

    public string? QuietStart { get; init; }

    public string? QuietEnd { get; init; }

    public bool AllowPaid { get; init; }

    public int? Budget { get; init; }

    /// <summary>admin or budget, while paused.</summary>
    public string? PausedReason { get; init; }

    /// <summary>edit or withdraw: the last bulk job over the delivered copies, its state and counts.</summary>
    public string? Job { get; init; }

    public string? JobState { get; init; }

    public int JobDone { get; init; }

    public int JobFailed { get; init; }
}

/// <summary>A broadcast the runner steps: running, or ended recently with a status message that may still show the end.</summary>
public sealed record ActiveBroadcast(
    long Id, string State, bool Expanded, long? StatusChatId, long? StatusOutboxId, int? StatusMessageId, string? StatusText, string? Language)
{
    public string? Job { get; init; }

    public string? JobState { get; init; }

    public int JobDone { get; init; }

    public int JobFailed { get; init; }

    public string? PausedReason { get; init; }
}

/// <summary>A broadcast of this release to create: its variants (at least one), audience, and how it starts.</summary>
public sealed record NewBroadcast(IReadOnlyList<Variant> Variants, Audience Audience, long? RequestedBy, long? StatusChatId, string? Language, string? RequestedVia)
{
    /// <summary>Start at once (else it stays a draft, unless <see cref="Plan"/> schedules it).</summary>
    public bool Start { get; init; }

    public SchedulePlan? Plan { get; init; }

    public TimeOnly? QuietStart { get; init; }

    public TimeOnly? QuietEnd { get; init; }

    public bool AllowPaid { get; init; }

    public int? Budget { get; init; }

    /// <summary>The broadcast's time zone (quiet hours of recipients without their own) when no <see cref="Plan"/> names one.</summary>
    public string? TimeZone { get; init; }
}

/// <summary>
/// When a broadcast goes out: once (At, an instant; or Local, a wall-clock time in TimeZone; or Delay from now by the
/// database's clock), or daily / weekly (RecurWeekday, 0 = Sunday) at RecurAt in TimeZone.
/// </summary>
public sealed record SchedulePlan(DateTimeOffset? At, string? Recurrence, TimeOnly? RecurAt, short? RecurWeekday, string TimeZone, string IfMissed)
{
    public DateTime? Local { get; init; }

    public TimeSpan? Delay { get; init; }
}

/// <summary>A broadcast the schedule started (or skipped): for a recurring template's run, the template is ParentId.</summary>
public sealed record FiredBroadcast(long Id, long? ParentId, string State, DateTimeOffset At);

/// <summary>What a count found: the state after it, the progress, how long the broadcast has run and what is new since the last count.</summary>
public sealed record BroadcastCount(string State, BroadcastStatus.Progress Progress, TimeSpan Elapsed, int NewSent, int NewFailed, int NewBlocked);

/// <summary>Where an expansion continues: the cursor (the last user id expanded), the message to copy, and how many rows are still unsent.</summary>
public sealed record ExpansionPoint(long Cursor, long FromChatId, int MessageId, int Unsent);

/// <summary>
/// The broadcasts table and the broadcast's outbox rows: create, cancel, read, and what the runner does (expand from
/// the persisted cursor, count the outcomes, keep the status message). Each call runs where its <see cref="Db"/> says.
/// </summary>
public static class BroadcastStore
{
    private const string Columns =
        """
        id, state, from_chat_id, message_id, requested_by, recipients, expanded, sent, failed, blocked, created_at, finished_at, requested_via,
        audience::text, ARRAY(SELECT v.language FROM broadcast_variants v WHERE v.broadcast_id = broadcasts.id ORDER BY v.language),
        scheduled_at, started_at, recurrence, to_char(recur_at, 'HH24:MI'), recur_weekday, time_zone, if_missed, parent_id,
        to_char(quiet_start, 'HH24:MI'), to_char(quiet_end, 'HH24:MI'), allow_paid, budget, paused_reason, job, job_state, job_done, job_failed
        """;

    /// <summary>Creates a running broadcast; <paramref name="requestedVia"/> names an admin API caller (its token's name, never its value).</summary>
    public static async Task<long> CreateAsync(
        Db db, long fromChatId, int messageId, long? requestedBy, long? statusChatId, string? language, CancellationToken cancellationToken,
        string? requestedVia = null) =>
        await db.ScalarAsync<long>(
            """
            INSERT INTO broadcasts (from_chat_id, message_id, requested_by, status_chat_id, language, requested_via)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """,
            cancellationToken, Arg(fromChatId), Arg(messageId), Arg(requestedBy), Arg(statusChatId), Arg(language), Arg(requestedVia));

    /// <summary>Links the status message's outbox row, so the runner can learn its message id once it is sent.</summary>
    public static Task SetStatusOutboxAsync(Db db, long id, long outboxId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE broadcasts SET status_outbox_id = $2 WHERE id = $1", cancellationToken, Arg(id), Arg(outboxId));

    /// <summary>
    /// Cancels a broadcast that has not ended (the newest going out when no id is given): its copies not yet sent leave
    /// the outbox and their records are marked cancelled; a call already in flight still completes. A recurring
    /// template starts no more runs. Returns the cancelled broadcast's id, or null if none could be.
    /// </summary>
    public static Task<long?> CancelAsync(Db db, long? id, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>(
            """
            WITH target AS (
                SELECT id FROM broadcasts
                WHERE CASE WHEN $1::bigint IS NULL THEN state IN ('running', 'sending', 'paused') ELSE id = $1 AND state IN ('draft', 'scheduled', 'running', 'sending', 'paused') END
                ORDER BY id DESC LIMIT 1 FOR UPDATE),
            cancelled AS (
                UPDATE broadcasts b SET state = 'cancelled', finished_at = now() FROM target WHERE b.id = target.id RETURNING b.id),
            withdrawn AS (
                DELETE FROM outbox o USING cancelled WHERE o.broadcast_id = cancelled.id AND o.state = 'pending'),
            unsent AS (
                UPDATE broadcast_deliveries d SET outcome = 'cancelled' FROM cancelled
                WHERE d.broadcast_id = cancelled.id AND d.outcome = 'queued'
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = d.outbox_id AND o.state IN ('sending', 'sent', 'dead')))
            SELECT id FROM cancelled
            """,
            cancellationToken, Arg(id));

    /// <summary>The newest broadcast going out, or null when none is.</summary>
    public static Task<long?> RunningAsync(Db db, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT max(id) FROM broadcasts WHERE state IN ('running', 'sending')", cancellationToken);

    /// <summary>Creates a broadcast of this release with its variants; returns its id.</summary>
    public static async Task<long> CreateAsync(Db db, NewBroadcast broadcast, CancellationToken cancellationToken)
    {
        var first = broadcast.Variants[0];
        var plan = broadcast.Plan;
        var id = await db.ScalarAsync<long>(
            """
            INSERT INTO broadcasts (from_chat_id, message_id, requested_by, status_chat_id, language, requested_via, state, audience,
                                    allow_paid, budget, quiet_start, quiet_end, time_zone, started_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, CASE WHEN $7 = 'sending' THEN now() END) RETURNING id
            """,
            cancellationToken, Arg(first.FromChatId), Arg(first.MessageIds[0]), Arg(broadcast.RequestedBy), Arg(broadcast.StatusChatId),
            Arg(broadcast.Language), Arg(broadcast.RequestedVia), Arg(BroadcastState.Draft), Arg(broadcast.Audience.ToJson()),
            Arg(broadcast.AllowPaid), Arg(broadcast.Budget), Arg(broadcast.QuietStart), Arg(broadcast.QuietEnd), Arg(plan?.TimeZone ?? broadcast.TimeZone ?? "UTC"));
        foreach (var variant in broadcast.Variants)
        {
            await SetVariantAsync(db, id, variant, cancellationToken);
        }

        if (plan is not null)
        {
            await ScheduleAsync(db, id, plan, cancellationToken);
        }
        else if (broadcast.Start)
        {
            await StartAsync(db, id, cancellationToken);
        }

        return id;
    }

    /// <summary>Adds or replaces the variant of a language on a draft.</summary>
    public static Task SetVariantAsync(Db db, long id, Variant variant, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            """
            INSERT INTO broadcast_variants (broadcast_id, language, from_chat_id, message_ids, is_text) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (broadcast_id, language) DO UPDATE SET from_chat_id = excluded.from_chat_id, message_ids = excluded.message_ids, is_text = excluded.is_text
            """,
            cancellationToken, Arg(id), Arg(variant.Language), Arg(variant.FromChatId), Arg(variant.MessageIds), Arg(variant.IsText));

    /// <summary>The admin's newest draft of the last day, to add a language variant to.</summary>
    public static Task<long?> DraftOfAsync(Db db, long adminId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>(
            "SELECT max(id) FROM broadcasts WHERE requested_by = $1 AND state = 'draft' AND created_at > now() - interval '1 day'",
            cancellationToken, Arg(adminId));

    /// <summary>Sets the audience of a draft or scheduled broadcast; false when it is past that.</summary>
    public static async Task<bool> SetAudienceAsync(Db db, long id, Audience audience, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE broadcasts SET audience = $2::jsonb WHERE id = $1 AND state IN ('draft', 'scheduled')",
            cancellationToken, Arg(id), Arg(audience.ToJson())) > 0;

    /// <summary>Sets the quiet hours of a broadcast not yet ended (null, null: none); false when it has ended.</summary>
    public static async Task<bool> SetQuietHoursAsync(Db db, long id, TimeOnly? start, TimeOnly? end, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE broadcasts SET quiet_start = $2, quiet_end = $3 WHERE id = $1 AND state IN ('draft', 'scheduled', 'sending', 'paused')",
            cancellationToken, Arg(id), Arg(start), Arg(end)) > 0;

    /// <summary>Makes a draft or scheduled broadcast paid with a budget (recipients at most), or unpaid (null); false when past that.</summary>
    public static async Task<bool> SetPaidAsync(Db db, long id, int? budget, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE broadcasts SET allow_paid = $2 IS NOT NULL, budget = $2 WHERE id = $1 AND state IN ('draft', 'scheduled')",
            cancellationToken, Arg(id), Arg(budget)) > 0;

    /// <summary>The chat (and language) a broadcast shows its status in, when its status message is not queued yet.</summary>
    public static Task<Tuple<long, string>?> StatusChatToShowAsync(Db db, long id, CancellationToken cancellationToken) =>
        db.FirstAsync(
            "SELECT status_chat_id, coalesce(language, 'en') FROM broadcasts WHERE id = $1 AND status_chat_id IS NOT NULL AND status_outbox_id IS NULL",
            reader => Tuple.Create(reader.GetInt64(0), reader.GetString(1)), cancellationToken, Arg(id));

    /// <summary>Broadcasts not yet ended whose audience is the saved list <paramref name="list"/> (the newest first, a few).</summary>
    public static Task<List<long>> UsingListAsync(Db db, string list, CancellationToken cancellationToken) =>
        db.ListAsync(
            "SELECT id FROM broadcasts WHERE audience ->> 'list' = $1 AND state IN ('draft', 'scheduled', 'sending', 'paused') ORDER BY id DESC LIMIT 5",
            reader => reader.GetInt64(0), cancellationToken, Arg(list));

    /// <summary>Starts a draft at once; false when it is not a draft.</summary>
    public static async Task<bool> StartAsync(Db db, long id, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE broadcasts SET state = 'sending', started_at = now() WHERE id = $1 AND state = 'draft'", cancellationToken, Arg(id)) > 0;

    /// <summary>
    /// Schedules a draft: once at a time, or a recurring template whose first time is the next one after now in its
    /// zone. Returns the first time, or null when it is not a draft.
    /// </summary>
    public static async Task<DateTimeOffset?> ScheduleAsync(Db db, long id, SchedulePlan plan, CancellationToken cancellationToken) =>
        (await db.FirstAsync(
            """
            UPDATE broadcasts b SET state = 'scheduled', recurrence = $3, recur_at = $4, recur_weekday = $5, time_zone = $6, if_missed = $7,
                scheduled_at = t.at
            FROM (SELECT CASE WHEN $3::text IS NOT NULL THEN broadcast_next_run(now(), $4, $5, $6)
                              WHEN $8::timestamp IS NOT NULL THEN $8::timestamp AT TIME ZONE $6
                              WHEN $9::float8 IS NOT NULL THEN now() + make_interval(secs => $9)
                              ELSE $2 END AS at) t
            WHERE b.id = $1 AND b.state = 'draft' AND t.at > now()
            RETURNING b.scheduled_at
            """,
            reader => Tuple.Create(reader.GetFieldValue<DateTimeOffset>(0)),
            cancellationToken, Arg(id), Arg(plan.At), Arg(plan.Recurrence), Arg(plan.RecurAt), Arg(plan.RecurWeekday), Arg(plan.TimeZone),
            Arg(plan.IfMissed), Arg(plan.Local), Arg(plan.Delay?.TotalSeconds)))?.Item1;

    /// <summary>
    /// Starts what is due (scheduled_at passed), each exactly once: the row is locked and changed in one transaction,
    /// fenced by <paramref name="epoch"/>. A one-off broadcast starts itself; a recurring template starts a run of its
    /// own for this time (one per template and time, by a unique index) and moves to its next time. A time older than
    /// <paramref name="missedAfter"/> is skipped when the admin chose so. Returns the broadcasts started or skipped.
    /// </summary>
    public static async Task<List<FiredBroadcast>> FireDueAsync(Db db, long epoch, TimeSpan missedAfter, CancellationToken cancellationToken)
    {
        var due = await db.ListAsync(
            $"""
            SELECT id, recurrence IS NOT NULL, if_missed = 'skip' AND scheduled_at < now() - make_interval(secs => $2), scheduled_at
            FROM broadcasts WHERE state = 'scheduled' AND scheduled_at <= now() AND {LeaderEpochs.IsCurrent(1)}
            ORDER BY scheduled_at LIMIT 20 FOR UPDATE SKIP LOCKED
            """,
            reader => (Id: reader.GetInt64(0), Recurring: reader.GetBoolean(1), Skip: reader.GetBoolean(2), At: reader.GetFieldValue<DateTimeOffset>(3)),
            cancellationToken, Arg(epoch), Arg(missedAfter.TotalSeconds));
        var fired = new List<FiredBroadcast>();
        foreach (var (id, recurring, skip, at) in due)
        {
            var state = skip ? BroadcastState.Skipped : BroadcastState.Sending;
            if (!recurring)
            {
                await db.ExecuteAsync(
                    "UPDATE broadcasts SET state = $2, started_at = now(), finished_at = CASE WHEN $2 = 'skipped' THEN now() END WHERE id = $1",
                    cancellationToken, Arg(id), Arg(state));
                fired.Add(new FiredBroadcast(id, null, state, at));
                continue;
            }

            var run = await db.ScalarAsync<long?>(
                """
                INSERT INTO broadcasts (from_chat_id, message_id, requested_by, status_chat_id, language, requested_via, state, audience,
                                        allow_paid, budget, quiet_start, quiet_end, time_zone, if_missed, parent_id, scheduled_at, started_at, finished_at)
                SELECT from_chat_id, message_id, requested_by, status_chat_id, language, requested_via, $2, audience,
                       allow_paid, budget, quiet_start, quiet_end, time_zone, if_missed, id, scheduled_at, now(), CASE WHEN $2 = 'skipped' THEN now() END
                FROM broadcasts WHERE id = $1
                ON CONFLICT (parent_id, scheduled_at) WHERE parent_id IS NOT NULL DO NOTHING
                RETURNING id
                """,
                cancellationToken, Arg(id), Arg(state));
            if (run is { } child)
            {
                await db.ExecuteAsync(
                    """
                    INSERT INTO broadcast_variants (broadcast_id, language, from_chat_id, message_ids, is_text)
                    SELECT $2, language, from_chat_id, message_ids, is_text FROM broadcast_variants WHERE broadcast_id = $1
                    """,
                    cancellationToken, Arg(id), Arg(child));
                fired.Add(new FiredBroadcast(child, id, state, at));
            }

            await db.ExecuteAsync(
                "UPDATE broadcasts SET scheduled_at = broadcast_next_run(greatest(now(), scheduled_at), recur_at, recur_weekday, time_zone) WHERE id = $1",
                cancellationToken, Arg(id));
        }

        return fired;
    }

    /// <summary>Sets a user's time zone (an IANA name PostgreSQL knows); false when it does not know the name.</summary>
    public static async Task<bool> SetTimeZoneAsync(Db db, long userId, string zone, CancellationToken cancellationToken) =>
        await db.ExecuteAsync(
            """
            INSERT INTO users (user_id, time_zone) SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2)
            ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone
            """,
            cancellationToken, Arg(userId), Arg(zone)) > 0;

    /// <summary>A user's time zone, UTC when they set none.</summary>
    public static async Task<string> TimeZoneOfAsync(Db db, long userId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<string?>("SELECT time_zone FROM users WHERE user_id = $1", cancellationToken, Arg(userId)) ?? "UTC";

    /// <summary>Whether PostgreSQL knows the time zone name.</summary>
    public static async Task<bool> IsTimeZoneAsync(Db db, string zone, CancellationToken cancellationToken) =>
        await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", cancellationToken, Arg(zone));

    public static Task<BroadcastView?> GetAsync(Db db, long id, CancellationToken cancellationToken) =>
        db.FirstAsync($"SELECT {Columns} FROM broadcasts WHERE id = $1", Read, cancellationToken, Arg(id));

    public static Task<List<BroadcastView>> ListAsync(Db db, int limit, CancellationToken cancellationToken) =>
        db.ListAsync($"SELECT {Columns} FROM broadcasts ORDER BY id DESC LIMIT $1", Read, cancellationToken, Arg(limit));

    /// <summary>
    /// Broadcasts going out or paused, those with an edit or withdraw job running, and those ended in the last 10
    /// minutes whose status message may not show the end yet.
    /// </summary>
    public static Task<List<ActiveBroadcast>> ActiveAsync(Db db, CancellationToken cancellationToken, long? id = null) =>
        db.ListAsync(
            """
            SELECT id, state, expanded, status_chat_id, status_outbox_id, status_message_id, status_text, language, job, job_state, job_done, job_failed,
                   paused_reason
            FROM broadcasts b
            WHERE ($1::bigint IS NULL OR id = $1)
              AND (state IN ('running', 'sending', 'paused') OR job_state = 'running'
                   OR (finished_at > now() - interval '10 minutes' AND status_outbox_id IS NOT NULL))
            ORDER BY id
            """,
            reader => new ActiveBroadcast(
                reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), reader.Int64OrNull(3), reader.Int64OrNull(4), reader.Int32OrNull(5),
                reader.StringOrNull(6), reader.StringOrNull(7))
            {
                Job = reader.StringOrNull(8),
                JobState = reader.StringOrNull(9),
                JobDone = reader.GetInt32(10),
                JobFailed = reader.GetInt32(11),
                PausedReason = reader.StringOrNull(12),
            },
            cancellationToken, Arg(id));

    /// <summary>
    /// The progress of a broadcast of this release as last synced: its state, counts and how long it has run; the
    /// recipients still to expand are counted through its audience only while <paramref name="countRemaining"/>.
    /// </summary>
    public static Task<BroadcastCount?> ProgressAsync(Db db, long id, bool countRemaining, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            SELECT b.state, b.sent, b.failed, b.blocked, b.recipients,
                   (CASE WHEN b.expanded OR NOT $2 THEN 0 ELSE (SELECT count(*) FROM users u WHERE u.user_id > b.cursor AND {Audience.Filter("b.audience")}) END)::int,
                   extract(epoch FROM coalesce(b.finished_at, now()) - coalesce(b.started_at, b.created_at))
            FROM broadcasts b WHERE b.id = $1
            """,
            reader => new BroadcastCount(
                reader.GetString(0),
                new BroadcastStatus.Progress(reader.GetInt32(4) + reader.GetInt32(5), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)),
                TimeSpan.FromSeconds((double)reader.GetDecimal(6)), 0, 0, 0),
            cancellationToken, Arg(id), Arg(countRemaining));

    /// <summary>
    /// Counts the outcomes of the broadcast's messages, stores the counts, and ends a fully expanded broadcast with
    /// nothing left to send. The counts since the last stored ones are returned too, so each outcome is reported once
    /// whichever replica leads.
    /// </summary>
    public static Task<BroadcastCount?> CountAsync(Db db, long id, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            WITH counts AS (
                SELECT count(*) FILTER (WHERE o.state = 'sent') AS sent,
                       count(*) FILTER (WHERE o.state = 'dead' AND NOT {UnreachableChats.Contains("o.chat_id")}) AS failed,
                       count(*) FILTER (WHERE o.state = 'dead' AND {UnreachableChats.Contains("o.chat_id")}) AS blocked,
                       count(*) FILTER (WHERE o.state IN ('pending', 'sending')) AS unfinished
                FROM outbox o
                WHERE o.broadcast_id = $1)
            UPDATE broadcasts b SET
                sent = counts.sent, failed = counts.failed, blocked = counts.blocked,
                state = CASE WHEN b.state = 'running' AND b.expanded AND counts.unfinished = 0 THEN 'done' ELSE b.state END,
                finished_at = CASE WHEN b.state = 'running' AND b.expanded AND counts.unfinished = 0 THEN now() ELSE b.finished_at END
            FROM counts, (SELECT sent, failed, blocked FROM broadcasts WHERE id = $1) previous
            WHERE b.id = $1
            RETURNING b.state, b.sent, b.failed, b.blocked, b.recipients, b.expanded,
                (CASE WHEN b.expanded THEN 0 ELSE {Subscribers.CountActiveAfter("b.cursor")} END)::int,
                extract(epoch FROM coalesce(b.finished_at, now()) - b.created_at),
                b.sent - previous.sent, b.failed - previous.failed, b.blocked - previous.blocked
            """,
            reader => new BroadcastCount(
                reader.GetString(0),
                new BroadcastStatus.Progress(reader.GetInt32(4) + reader.GetInt32(6), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)),
                TimeSpan.FromSeconds((double)reader.GetDecimal(7)), reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10)),
            cancellationToken, Arg(id));

    /// <summary>
    /// Locks a running broadcast that is not fully expanded, for the next chunk; null when there is none to expand or
    /// <paramref name="epoch"/> is not the current leadership term (the row lock serializes two leaders' expansions;
    /// the fence stops a stale one from expanding at all).
    /// </summary>
    public static Task<ExpansionPoint?> LockForExpansionAsync(Db db, long id, long epoch, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            SELECT cursor, from_chat_id, message_id,
                   (SELECT count(*) FROM outbox WHERE broadcast_id = b.id AND state IN ('pending', 'sending'))::int
            FROM broadcasts b WHERE id = $1 AND state = 'running' AND NOT expanded AND {LeaderEpochs.IsCurrent(2)} FOR UPDATE
            """,
            reader => new ExpansionPoint(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2), reader.GetInt32(3)),
            cancellationToken, Arg(id), Arg(epoch));

    /// <summary>Queues one copyMessage per recipient at bulk priority, and moves the cursor past them; the last chunk (short) ends the expansion.</summary>
    public static async Task AddChunkAsync(
        Db db, long id, ExpansionPoint point, IReadOnlyList<long> recipients, bool last, CancellationToken cancellationToken)
    {
        var payloads = recipients
            .Select(chat => OutboxCodec.Encode(new global::Telegram.Bot.Requests.CopyMessageRequest { ChatId = chat, FromChatId = point.FromChatId, MessageId = point.MessageId }).Payload)
            .ToArray();
        await db.ExecuteAsync(
            """
            INSERT INTO outbox (chat_id, method, payload, priority, broadcast_id)
            SELECT r.chat_id, 'copyMessage', r.payload, $3, $4 FROM unnest($1::bigint[], $2::text[]) AS r(chat_id, payload)
            """,
            cancellationToken, Arg(recipients.ToArray()), Arg(payloads), Arg((short)OutboxPriority.Bulk), Arg(id));
        await db.ExecuteAsync(
            "UPDATE broadcasts SET cursor = $2, recipients = recipients + $3, expanded = $4 WHERE id = $1",
            cancellationToken, Arg(id), Arg(recipients.Count > 0 ? recipients[^1] : point.Cursor), Arg(recipients.Count), Arg(last));
    }

    /// <summary>
    /// The status message's Bot API result once it is sent (null before), whether the previous edit
    /// (<paramref name="lastEditOutboxId"/>) still waits to go out, and whether <paramref name="epoch"/> is still the
    /// current term.
    /// </summary>
    public static Task<Tuple<string?, bool, bool>?> StatusAsync(Db db, long statusOutboxId, long lastEditOutboxId, long epoch, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            SELECT (SELECT result FROM outbox WHERE id = $1 AND state = 'sent'),
                   EXISTS (SELECT 1 FROM outbox WHERE id = $2 AND state IN ('pending', 'sending')),
                   coalesce({LeaderEpochs.IsCurrent(3)}, false)
            """,
            reader => new Tuple<string?, bool, bool>(reader.StringOrNull(0), reader.GetBoolean(1), reader.GetBoolean(2)),
            cancellationToken, Arg(statusOutboxId), Arg(lastEditOutboxId), Arg(epoch));

    /// <summary>Records the text the status message was last edited to, and its message id.</summary>
    public static Task SaveStatusAsync(Db db, long id, string text, int messageId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE broadcasts SET status_text = $2, status_message_id = $3 WHERE id = $1", cancellationToken, Arg(id), Arg(text), Arg(messageId));

    private static BroadcastView Read(Npgsql.NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3), reader.Int64OrNull(4),
        reader.GetInt32(5), reader.GetBoolean(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9),
        reader.GetFieldValue<DateTimeOffset>(10), reader.TimeOrNull(11), reader.StringOrNull(12))
    {
        Audience = Audience.FromJson(reader.GetString(13)),
        Languages = reader.GetFieldValue<string[]>(14),
        ScheduledAt = reader.TimeOrNull(15),
        StartedAt = reader.TimeOrNull(16),
        Recurrence = reader.StringOrNull(17),
        RecurAt = reader.StringOrNull(18),
        RecurWeekday = reader.IsDBNull(19) ? null : reader.GetInt16(19),
        TimeZone = reader.GetString(20),
        IfMissed = reader.GetString(21),
        ParentId = reader.Int64OrNull(22),
        QuietStart = reader.StringOrNull(23),
        QuietEnd = reader.StringOrNull(24),
        AllowPaid = reader.GetBoolean(25),
        Budget = reader.Int32OrNull(26),
        PausedReason = reader.StringOrNull(27),
        Job = reader.StringOrNull(28),
        JobState = reader.StringOrNull(29),
        JobDone = reader.GetInt32(30),
        JobFailed = reader.GetInt32(31),
    };
}
