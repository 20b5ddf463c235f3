using Bot.Coordination;
using Bot.Features.Subscriptions;
using Bot.Outbox;
using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>A broadcast's state (broadcasts.state).</summary>
public static class BroadcastState
{
    public const string Running = "running";
    public const string Done = "done";
    public const string Cancelled = "cancelled";
}

/// <summary>A broadcast as the admin sees it. Counts are as of the runner's last count (every few seconds).</summary>
public sealed record BroadcastView(
    long Id, string State, long FromChatId, int MessageId, long? RequestedBy, int Recipients, bool Expanded,
    int Sent, int Failed, int Blocked, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, string? RequestedVia);

/// <summary>A broadcast the runner steps: running, or ended recently with a status message that may still show the end.</summary>
public sealed record ActiveBroadcast(
    long Id, string State, bool Expanded, long? StatusChatId, long? StatusOutboxId, int? StatusMessageId, string? StatusText, string? Language);

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
        "id, state, from_chat_id, message_id, requested_by, recipients, expanded, sent, failed, blocked, created_at, finished_at, requested_via";

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
    /// Cancels a running broadcast (the newest when no id is given) and withdraws its messages not yet sent; a
    /// call already in flight still completes. Returns the cancelled broadcast's id, or null if none was running.
    /// </summary>
    public static Task<long?> CancelAsync(Db db, long? id, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>(
            """
            WITH target AS (
                SELECT id FROM broadcasts WHERE state = 'running' AND ($1::bigint IS NULL OR id = $1) ORDER BY id DESC LIMIT 1 FOR UPDATE),
            cancelled AS (
                UPDATE broadcasts b SET state = 'cancelled', finished_at = now() FROM target WHERE b.id = target.id RETURNING b.id),
            withdrawn AS (
                DELETE FROM outbox o USING cancelled WHERE o.broadcast_id = cancelled.id AND o.state = 'pending')
            SELECT id FROM cancelled
            """,
            cancellationToken, Arg(id));

    /// <summary>The newest running broadcast's id, or null when none runs.</summary>
    public static Task<long?> RunningAsync(Db db, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT max(id) FROM broadcasts WHERE state = 'running'", cancellationToken);

    public static Task<BroadcastView?> GetAsync(Db db, long id, CancellationToken cancellationToken) =>
        db.FirstAsync($"SELECT {Columns} FROM broadcasts WHERE id = $1", Read, cancellationToken, Arg(id));

    public static Task<List<BroadcastView>> ListAsync(Db db, int limit, CancellationToken cancellationToken) =>
        db.ListAsync($"SELECT {Columns} FROM broadcasts ORDER BY id DESC LIMIT $1", Read, cancellationToken, Arg(limit));

    /// <summary>Running broadcasts, and those ended in the last 10 minutes whose status message may not show the end yet.</summary>
    public static Task<List<ActiveBroadcast>> ActiveAsync(Db db, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT id, state, expanded, status_chat_id, status_outbox_id, status_message_id, status_text, language
            FROM broadcasts
            WHERE state = 'running' OR (finished_at > now() - interval '10 minutes' AND status_outbox_id IS NOT NULL)
            ORDER BY id
            """,
            reader => new ActiveBroadcast(
                reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), reader.Int64OrNull(3), reader.Int64OrNull(4), reader.Int32OrNull(5),
                reader.StringOrNull(6), reader.StringOrNull(7)),
            cancellationToken);

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
        reader.GetFieldValue<DateTimeOffset>(10), reader.TimeOrNull(11), reader.StringOrNull(12));
}
