using Bot.Coordination;
using Bot.Outbox;
using Bot.Storage;
using Telegram.Bot.Requests;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>What is sent to a recipient whose language is <see cref="Language"/> ('' for every language without its own).</summary>
public sealed record Variant(string Language, long FromChatId, int[] MessageIds, bool IsText)
{
    public bool IsAlbum => MessageIds.Length > 1;
}

/// <summary>Where a sending broadcast's expansion stands (locked for the step).</summary>
public sealed record SendingPoint(
    long Cursor, string AudienceJson, bool AllowPaid, int? Budget, int Recipients, string TimeZone, TimeOnly? QuietStart, TimeOnly? QuietEnd,
    int DueUnsent, bool Expanded);

/// <summary>A bulk job over the delivered copies (edit or withdraw), locked for its next chunk.</summary>
public sealed record JobPoint(string Job, string? Text, long Cursor, int Unsent);

/// <summary>What a sync of the delivery records found since the last one.</summary>
public sealed record SyncCounts(int Sent, int Failed, int Blocked);

/// <summary>A recipient's delivery record, as the admin API lists it.</summary>
public sealed record DeliveryView(long UserId, string Language, string Outcome, int[]? MessageIds, string? Error, DateTimeOffset? SentAt, string? JobOutcome);

/// <summary>
/// The delivery records of this release's broadcasts ('sending'): one row per recipient, written in the same
/// transaction as the recipient's outbox row, keyed by broadcast and user so that nobody gets a broadcast twice
/// (expansion, a resume, a leader change alike). The runner expands from the persisted cursor through the audience
/// filter, re-queues what a pause withdrew, copies the outcomes back from the outbox (counted once, incrementally), and
/// runs edit and withdraw jobs over the delivered copies.
/// </summary>
public static class BroadcastDeliveries
{
    /// <summary>Telegram lets a bot delete its messages for 48 hours; a withdraw leaves out what is older (a margin for the queue).</summary>
    public static readonly TimeSpan DeleteWindow = TimeSpan.FromHours(48) - TimeSpan.FromMinutes(10);

    private const string SettleOutcome = "CASE WHEN s.state = 'sent' THEN 'sent' WHEN s.unreachable THEN 'blocked' ELSE 'failed' END";

    public static Task<List<Variant>> VariantsAsync(Db db, long id, CancellationToken cancellationToken) =>
        db.ListAsync(
            "SELECT language, from_chat_id, message_ids, is_text FROM broadcast_variants WHERE broadcast_id = $1 ORDER BY language",
            reader => new Variant(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<int[]>(2), reader.GetBoolean(3)),
            cancellationToken, Arg(id));

    /// <summary>The variant a user of <paramref name="language"/> gets: theirs, else the untagged one, else the default language's, else the first.</summary>
    public static Variant Pick(IReadOnlyList<Variant> variants, string language, string defaultLanguage) =>
        variants.FirstOrDefault(v => v.Language == language)
        ?? variants.FirstOrDefault(v => v.Language.Length == 0)
        ?? variants.FirstOrDefault(v => v.Language == defaultLanguage)
        ?? variants[0];

    /// <summary>The copy of <paramref name="variant"/> to <paramref name="chatId"/>: copyMessage, or copyMessages for an album.</summary>
    public static (string Method, string Payload) Copy(Variant variant, long chatId, bool paid) => variant.IsAlbum
        ? OutboxCodec.Encode(AlbumCopy(variant, chatId))
        : OutboxCodec.Encode(SingleCopy(variant, chatId, paid));

    /// <summary>
    /// Queues exactly what recipients get to <paramref name="chatId"/>: each variant, after a label naming its language
    /// (in <paramref name="language"/>) when there are several. The preview of Telegram's menu and of the admin API.
    /// </summary>
    public static void QueuePreview(OutboxWriter outbox, Texts texts, string language, IReadOnlyList<Variant> variants, long chatId)
    {
        foreach (var variant in variants)
        {
            if (variants.Count > 1)
            {
                outbox.Queue(new SendMessageRequest
                {
                    ChatId = chatId,
                    Text = texts.Format(language, "Broadcasts.preview_of",
                        ("language", variant.Language.Length == 0 ? texts.Get(language, "Broadcasts.variant_other") : variant.Language)),
                }, chatId);
            }

            if (variant.IsAlbum)
            {
                outbox.Queue(AlbumCopy(variant, chatId), chatId);
            }
            else
            {
                outbox.Queue(SingleCopy(variant, chatId, paid: false), chatId);
            }
        }
    }

    private static CopyMessagesRequest AlbumCopy(Variant variant, long chatId) =>
        new() { ChatId = chatId, FromChatId = variant.FromChatId, MessageIds = variant.MessageIds };

    private static CopyMessageRequest SingleCopy(Variant variant, long chatId, bool paid) =>
        new() { ChatId = chatId, FromChatId = variant.FromChatId, MessageId = variant.MessageIds[0], AllowPaidBroadcast = paid };

    /// <summary>
    /// Locks a sending broadcast for a step of its expansion; null when it is not sending or <paramref name="epoch"/> is
    /// not the current term. DueUnsent counts the copies queued and due now (a copy held by quiet hours is not).
    /// </summary>
    public static Task<SendingPoint?> LockAsync(Db db, long id, long epoch, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            SELECT cursor, audience::text, allow_paid, budget, recipients, time_zone, quiet_start, quiet_end,
                   (SELECT count(*) FROM outbox o WHERE o.broadcast_id = b.id AND o.state IN ('pending', 'sending') AND o.not_before <= now() + interval '1 second')::int,
                   expanded AND NOT EXISTS (SELECT 1 FROM broadcast_deliveries d WHERE d.broadcast_id = b.id AND d.outcome = 'queued' AND d.outbox_id IS NULL)
            FROM broadcasts b WHERE id = $1 AND state = 'sending' AND {LeaderEpochs.IsCurrent(2)} FOR UPDATE
            """,
            reader => new SendingPoint(
                reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), reader.Int32OrNull(3), reader.GetInt32(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<TimeOnly>(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<TimeOnly>(7),
                reader.GetInt32(8), reader.GetBoolean(9)),
            cancellationToken, Arg(id), Arg(epoch));

    /// <summary>
    /// The deliveries a pause withdrew from the outbox, to queue again (user, variant language, when quiet hours let it go).
    /// </summary>
    public static Task<List<(long UserId, string Language, DateTimeOffset NotBefore)>> WithdrawnAsync(
        Db db, long id, SendingPoint point, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT d.user_id, d.language, broadcast_quiet_until(now(), coalesce(u.time_zone, $3), $4, $5)
            FROM broadcast_deliveries d LEFT JOIN users u ON u.user_id = d.user_id
            WHERE d.broadcast_id = $1 AND d.outcome = 'queued' AND d.outbox_id IS NULL
            ORDER BY d.user_id LIMIT $2
            """,
            reader => (reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)),
            cancellationToken, Arg(id), Arg(limit), Arg(point.TimeZone), Arg(point.QuietStart), Arg(point.QuietEnd));

    /// <summary>
    /// The chunk query: $1 the cursor, $2 how many, $3 the audience, $4 the broadcast's time zone, $5 and $6 its quiet
    /// hours. Read in user id order from users_active (the plan test holds it there).
    /// </summary>
    internal static readonly string NextRecipientsSql =
        $"""
        SELECT u.user_id, {Audience.UserLanguage}, broadcast_quiet_until(now(), coalesce(u.time_zone, $4), $5, $6)
        FROM users u WHERE u.user_id > $1 AND {Audience.Filter(3)}
        ORDER BY u.user_id LIMIT $2
        """;

    /// <summary>The next recipients of the audience after the cursor: user, the language they are matched on, when quiet hours let a copy go.</summary>
    public static Task<List<(long UserId, string Language, DateTimeOffset NotBefore)>> NextRecipientsAsync(
        Db db, SendingPoint point, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            NextRecipientsSql,
            reader => (reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)),
            cancellationToken, Arg(point.Cursor), Arg(limit), Arg(point.AudienceJson), Arg(point.TimeZone), Arg(point.QuietStart), Arg(point.QuietEnd));

    /// <summary>Whether the audience has anyone after the cursor (a paid broadcast at its budget pauses only if so).</summary>
    public static async Task<bool> AnyAfterAsync(Db db, SendingPoint point, CancellationToken cancellationToken) =>
        await db.ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM users u WHERE u.user_id > $1 AND {Audience.Filter(2)})",
            cancellationToken, Arg(point.Cursor), Arg(point.AudienceJson));

    /// <summary>Records the recipients (those without a record of this broadcast yet) and returns who was new, in id order.</summary>
    public static async Task<HashSet<long>> RecordAsync(Db db, long id, IReadOnlyList<(long UserId, string Language)> recipients, CancellationToken cancellationToken)
    {
        var added = await db.ListAsync(
            """
            INSERT INTO broadcast_deliveries (broadcast_id, user_id, language)
            SELECT $1, r.user_id, r.language FROM unnest($2::bigint[], $3::text[]) AS r(user_id, language)
            ON CONFLICT DO NOTHING RETURNING user_id
            """,
            reader => reader.GetInt64(0), cancellationToken,
            Arg(id), Arg(recipients.Select(r => r.UserId).ToArray()), Arg(recipients.Select(r => r.Language).ToArray()));
        return [.. added];
    }

    /// <summary>
    /// Queues one call per recipient at bulk priority and links each to its delivery record (outbox_id, or job_outbox_id
    /// for a job). A paid broadcast's copies are marked paid, so the sender counts them against the paid window.
    /// </summary>
    public static Task QueueAsync(
        Db db, long id, IReadOnlyList<(long ChatId, string Method, string Payload, DateTimeOffset NotBefore)> calls, bool paid, bool job, CancellationToken cancellationToken)
    {
        var link = job ? "job_outbox_id" : "outbox_id";
        return db.ExecuteAsync(
            $"""
            WITH o AS (
                INSERT INTO outbox (chat_id, method, payload, priority, broadcast_id, not_before, paid)
                SELECT r.chat_id, r.method, r.payload, $5, $6, r.not_before, $7 AND r.method = 'copyMessage'
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) AS r(chat_id, method, payload, not_before)
                RETURNING id, chat_id)
            UPDATE broadcast_deliveries d SET {link} = o.id FROM o WHERE d.broadcast_id = $6 AND d.user_id = o.chat_id
            """,
            cancellationToken,
            Arg(calls.Select(c => c.ChatId).ToArray()), Arg(calls.Select(c => c.Method).ToArray()), Arg(calls.Select(c => c.Payload).ToArray()),
            Arg(calls.Select(c => c.NotBefore).ToArray()), Arg((short)OutboxPriority.Bulk), Arg(id), Arg(paid && !job));
    }

    /// <summary>Moves the cursor past the chunk and counts its recipients; the expansion ends when the audience has no one left.</summary>
    public static Task AdvanceAsync(Db db, long id, long cursor, int added, bool expanded, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE broadcasts SET cursor = $2, recipients = recipients + $3, expanded = $4 WHERE id = $1",
            cancellationToken, Arg(id), Arg(cursor), Arg(added), Arg(expanded));

    /// <summary>
    /// Copies the outcomes of settled copies into their delivery records (the message ids Telegram gave them, or the
    /// error) and adds them to the broadcast's counts; returns what was new. At most 5,000 records per call.
    /// </summary>
    public static async Task<SyncCounts> SyncAsync(Db db, long id, CancellationToken cancellationToken) =>
        await db.FirstAsync(
            $"""
            WITH settled AS (
                SELECT d.user_id, o.state, o.result, o.last_error, o.sent_at, {UnreachableChats.Contains("o.chat_id")} AS unreachable
                FROM broadcast_deliveries d JOIN outbox o ON o.id = d.outbox_id
                WHERE d.broadcast_id = $1 AND d.outcome = 'queued' AND o.state IN ('sent', 'dead')
                ORDER BY d.user_id LIMIT 5000),
            changed AS (
                UPDATE broadcast_deliveries d SET
                    outcome = {SettleOutcome},
                    message_ids = CASE WHEN s.state = 'sent' THEN
                        CASE jsonb_typeof(s.result::jsonb)
                            WHEN 'array' THEN ARRAY(SELECT (e ->> 'message_id')::int FROM jsonb_array_elements(s.result::jsonb) e)
                            WHEN 'object' THEN ARRAY[(s.result::jsonb ->> 'message_id')::int] END END,
                    error = CASE WHEN s.state = 'dead' THEN s.last_error END,
                    sent_at = coalesce(s.sent_at, now())
                FROM settled s WHERE d.broadcast_id = $1 AND d.user_id = s.user_id AND d.outcome = 'queued'
                RETURNING d.outcome),
            totals AS (
                SELECT count(*) FILTER (WHERE outcome = 'sent')::int AS sent, count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
                       count(*) FILTER (WHERE outcome = 'blocked')::int AS blocked
                FROM changed)
            UPDATE broadcasts b SET sent = b.sent + t.sent, failed = b.failed + t.failed, blocked = b.blocked + t.blocked
            FROM totals t WHERE b.id = $1
            RETURNING t.sent, t.failed, t.blocked
            """,
            reader => new SyncCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2)),
            cancellationToken, Arg(id)) ?? new SyncCounts(0, 0, 0);

    /// <summary>Ends a fully expanded sending broadcast with every record settled; returns whether it ended now.</summary>
    public static async Task<bool> FinishAsync(Db db, long id, CancellationToken cancellationToken) =>
        await db.ExecuteAsync(
            """
            UPDATE broadcasts b SET state = 'done', finished_at = now()
            WHERE id = $1 AND state = 'sending' AND expanded
              AND NOT EXISTS (SELECT 1 FROM broadcast_deliveries d WHERE d.broadcast_id = b.id AND d.outcome = 'queued')
            """,
            cancellationToken, Arg(id)) > 0;

    /// <summary>
    /// Pauses a sending broadcast: its copies not yet taken leave the outbox and their records wait (outbox_id NULL) to
    /// be queued again on resume; a call in flight still completes. False when it was not sending.
    /// </summary>
    public static async Task<bool> PauseAsync(Db db, long id, string reason, CancellationToken cancellationToken)
    {
        if (await db.ExecuteAsync("UPDATE broadcasts SET state = 'paused', paused_reason = $2 WHERE id = $1 AND state = 'sending'",
                cancellationToken, Arg(id), Arg(reason)) == 0)
        {
            return false;
        }

        await db.ExecuteAsync(
            """
            WITH gone AS (
                DELETE FROM outbox o USING broadcast_deliveries d
                WHERE d.broadcast_id = $1 AND d.outcome = 'queued' AND o.id = d.outbox_id AND o.state = 'pending'
                RETURNING o.id)
            UPDATE broadcast_deliveries d SET outbox_id = NULL FROM gone WHERE d.broadcast_id = $1 AND d.outbox_id = gone.id
            """,
            cancellationToken, Arg(id));
        return true;
    }

    /// <summary>
    /// Resumes a paused broadcast (a new budget may be given; one paused at its budget resumes only with a larger one).
    /// False when it was not paused or the budget would still stop it.
    /// </summary>
    public static async Task<bool> ResumeAsync(Db db, long id, int? budget, CancellationToken cancellationToken) =>
        await db.ExecuteAsync(
            """
            UPDATE broadcasts SET state = 'sending', paused_reason = NULL, budget = coalesce($2, budget)
            WHERE id = $1 AND state = 'paused' AND (paused_reason IS DISTINCT FROM 'budget' OR coalesce($2, budget) > recipients)
            """,
            cancellationToken, Arg(id), Arg(budget)) > 0;

    /// <summary>
    /// Starts an edit (new text for every delivered copy) or a withdraw (every delivered copy deleted) over a broadcast
    /// that has ended; null when it may not (not ended, or a job still running), else the job's name.
    /// </summary>
    public static async Task<bool> StartJobAsync(Db db, long id, string job, string? text, CancellationToken cancellationToken)
    {
        if (await db.ExecuteAsync(
                """
                UPDATE broadcasts SET job = $2, job_text = $3, job_state = 'running', job_cursor = 0, job_expanded = false, job_done = 0, job_failed = 0
                WHERE id = $1 AND state IN ('done', 'cancelled') AND job_state IS DISTINCT FROM 'running'
                """,
                cancellationToken, Arg(id), Arg(job), Arg(text)) == 0)
        {
            return false;
        }

        await db.ExecuteAsync(
            "UPDATE broadcast_deliveries SET job_outbox_id = NULL, job_outcome = NULL WHERE broadcast_id = $1 AND job_outbox_id IS NOT NULL",
            cancellationToken, Arg(id));
        return true;
    }

    /// <summary>Locks a running job for its next chunk; null when none runs, it is fully queued, or this term is over.</summary>
    public static Task<JobPoint?> LockJobAsync(Db db, long id, long epoch, CancellationToken cancellationToken) =>
        db.FirstAsync(
            $"""
            SELECT job, job_text, job_cursor,
                   (SELECT count(*) FROM broadcast_deliveries d WHERE d.broadcast_id = b.id AND d.job_outbox_id IS NOT NULL AND d.job_outcome IS NULL)::int
            FROM broadcasts b WHERE id = $1 AND job_state = 'running' AND NOT job_expanded AND {LeaderEpochs.IsCurrent(2)} FOR UPDATE
            """,
            reader => new JobPoint(reader.GetString(0), reader.StringOrNull(1), reader.GetInt64(2), reader.GetInt32(3)),
            cancellationToken, Arg(id), Arg(epoch));

    /// <summary>The next delivered copies after the job's cursor (a withdraw leaves out those past Telegram's 48 hours).</summary>
    public static Task<List<(long UserId, int[] MessageIds)>> DeliveredAfterAsync(Db db, long id, JobPoint job, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT user_id, message_ids FROM broadcast_deliveries
            WHERE broadcast_id = $1 AND outcome = 'sent' AND user_id > $2 AND message_ids IS NOT NULL
              AND ($4 <> 'withdraw' OR sent_at > now() - make_interval(secs => $5))
            ORDER BY user_id LIMIT $3
            """,
            reader => (reader.GetInt64(0), reader.GetFieldValue<int[]>(1)),
            cancellationToken, Arg(id), Arg(job.Cursor), Arg(limit), Arg(job.Job), Arg(DeleteWindow.TotalSeconds));

    /// <summary>The job's call for one delivered copy: the new text for its message, or the deletion of its messages.</summary>
    public static (string Method, string Payload) JobCall(JobPoint job, long chatId, int[] messageIds) => job.Job switch
    {
        "edit" => OutboxCodec.Encode(new EditMessageTextRequest { ChatId = chatId, MessageId = messageIds[0], Text = job.Text! }),
        _ when messageIds.Length == 1 => OutboxCodec.Encode(new DeleteMessageRequest { ChatId = chatId, MessageId = messageIds[0] }),
        _ => OutboxCodec.Encode(new DeleteMessagesRequest { ChatId = chatId, MessageIds = messageIds }),
    };

    public static Task AdvanceJobAsync(Db db, long id, long cursor, bool expanded, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE broadcasts SET job_cursor = $2, job_expanded = $3 WHERE id = $1", cancellationToken, Arg(id), Arg(cursor), Arg(expanded));

    /// <summary>Copies the job's settled calls into the records, counts them, and ends a fully queued job with nothing left; returns whether it ended.</summary>
    public static async Task<bool> SyncJobAsync(Db db, long id, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync(
            """
            WITH settled AS (
                SELECT d.user_id, o.state FROM broadcast_deliveries d JOIN outbox o ON o.id = d.job_outbox_id
                WHERE d.broadcast_id = $1 AND d.job_outbox_id IS NOT NULL AND d.job_outcome IS NULL AND o.state IN ('sent', 'dead')
                LIMIT 5000),
            changed AS (
                UPDATE broadcast_deliveries d SET job_outcome = CASE WHEN s.state = 'sent' THEN 'done' ELSE 'failed' END
                FROM settled s WHERE d.broadcast_id = $1 AND d.user_id = s.user_id AND d.job_outcome IS NULL RETURNING d.job_outcome)
            UPDATE broadcasts SET job_done = job_done + (SELECT count(*) FROM changed WHERE job_outcome = 'done'),
                                  job_failed = job_failed + (SELECT count(*) FROM changed WHERE job_outcome = 'failed')
            WHERE id = $1 AND EXISTS (SELECT 1 FROM changed)
            """,
            cancellationToken, Arg(id));
        return await db.ExecuteAsync(
            """
            UPDATE broadcasts b SET job_state = 'done'
            WHERE id = $1 AND job_state = 'running' AND job_expanded
              AND NOT EXISTS (SELECT 1 FROM broadcast_deliveries d WHERE d.broadcast_id = b.id AND d.job_outbox_id IS NOT NULL AND d.job_outcome IS NULL)
            """,
            cancellationToken, Arg(id)) > 0;
    }

    /// <summary>A page of a broadcast's delivery records in user id order, optionally of one outcome.</summary>
    public static Task<List<DeliveryView>> ListAsync(Db db, long id, string? outcome, long after, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT user_id, language, outcome, message_ids, error, sent_at, job_outcome FROM broadcast_deliveries
            WHERE broadcast_id = $1 AND ($2::text IS NULL OR outcome = $2) AND user_id > $3
            ORDER BY user_id LIMIT $4
            """,
            reader => new DeliveryView(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<int[]>(3),
                reader.StringOrNull(4), reader.TimeOrNull(5), reader.StringOrNull(6)),
            cancellationToken, Arg(id), Arg(outcome), Arg(after), Arg(limit));
}
