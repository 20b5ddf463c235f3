using System.Text.Json;
using Bot.Coordination;
using Bot.Outbox;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.Broadcasts;

/// <summary>
/// The leader's broadcast expander. For each running broadcast it puts the next chunk of active subscribers into the
/// outbox (bulk priority) and moves the persisted cursor in the same transaction, only when the previous chunk is
/// nearly sent, so a crash or a deploy resumes where it stopped and no recipient gets two rows. It counts the
/// outcomes from the outbox, edits the status message every few seconds, and ends the broadcast when every row
/// has been settled.
/// </summary>
public sealed partial class BroadcastRunner(
    NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, IOptions<BroadcastOptions> options, LeadershipState term, BotMetrics metrics,
    TimeProvider time, ILogger<BroadcastRunner> logger) : ILeaderSingleton
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly BroadcastOptions options = options.Value;
    private readonly Dictionary<long, (DateTimeOffset At, long OutboxId)> lastEdits = [];

    public string Name => "broadcasts";

    public async Task RunAsync(CancellationToken leadership)
    {
        var running = 0;
        try
        {
            await LoopAsync(count => metrics.BroadcastActive(count - Interlocked.Exchange(ref running, count)), leadership);
        }
        finally
        {
            // Off the leader nothing is sent: this replica reports none.
            metrics.BroadcastActive(-Interlocked.Exchange(ref running, 0));
        }
    }

    private async Task LoopAsync(Action<int> reportRunning, CancellationToken leadership)
    {
        // What this term writes (a chunk, a status edit) is fenced by its epoch: a leader that stalled and woke up
        // after its successor began writes nothing.
        var epoch = term.Epoch;
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                var active = await ActiveAsync(leadership);
                reportRunning(active.Count(b => b.State == "running"));
                foreach (var broadcast in active)
                {
                    await StepAsync(broadcast, epoch, leadership);
                }
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !leadership.IsCancellationRequested)
            {
                LogStepFailed(logger, exception.Message);
            }

            await Task.Delay(Tick, time, leadership).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task StepAsync(Row broadcast, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.State == "running" && !broadcast.Expanded && await ExpandAsync(broadcast.Id, epoch, cancellationToken) > 0)
        {
            nudge.Nudge();
        }

        // Count, store the counts, and finish the broadcast once it is fully expanded and nothing is left to send.
        await using var count = dataSource.CreateCommand(
            """
            WITH counts AS (
                SELECT count(*) FILTER (WHERE o.state = 'sent') AS sent,
                       count(*) FILTER (WHERE o.state = 'dead' AND u.chat_id IS NULL) AS failed,
                       count(*) FILTER (WHERE o.state = 'dead' AND u.chat_id IS NOT NULL) AS blocked,
                       count(*) FILTER (WHERE o.state IN ('pending', 'sending')) AS unfinished
                FROM outbox o LEFT JOIN unreachable_chats u ON u.chat_id = o.chat_id
                WHERE o.broadcast_id = $1)
            UPDATE broadcasts b SET
                sent = counts.sent, failed = counts.failed, blocked = counts.blocked,
                state = CASE WHEN b.state = 'running' AND b.expanded AND counts.unfinished = 0 THEN 'done' ELSE b.state END,
                finished_at = CASE WHEN b.state = 'running' AND b.expanded AND counts.unfinished = 0 THEN now() ELSE b.finished_at END
            FROM counts, (SELECT sent, failed, blocked FROM broadcasts WHERE id = $1) previous
            WHERE b.id = $1
            RETURNING b.state, b.sent, b.failed, b.blocked, b.recipients, b.expanded,
                (SELECT count(*) FROM users WHERE status = 'active' AND user_id > b.cursor AND NOT b.expanded)::int,
                extract(epoch FROM coalesce(b.finished_at, now()) - b.created_at),
                b.sent - previous.sent, b.failed - previous.failed, b.blocked - previous.blocked
            """);
        count.Parameters.Add(new NpgsqlParameter<long> { TypedValue = broadcast.Id });
        string state;
        BroadcastStatus.Progress progress;
        TimeSpan elapsed;
        await using (var reader = await count.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return;
            }

            state = reader.GetString(0);
            progress = new BroadcastStatus.Progress(reader.GetInt32(4) + reader.GetInt32(6), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
            elapsed = TimeSpan.FromSeconds((double)reader.GetDecimal(7));
            // Counted against the stored figures, so each outcome is reported once whichever replica leads.
            ReportProgress("sent", reader.GetInt32(8));
            ReportProgress("failed", reader.GetInt32(9));
            ReportProgress("blocked", reader.GetInt32(10));
        }

        if (state != "running" && broadcast.State == "running")
        {
            LogFinished(logger, broadcast.Id, state, progress.Sent, progress.Failed, progress.Blocked);
        }

        await ShowStatusAsync(broadcast, state, progress, elapsed, epoch, cancellationToken);
    }

    private void ReportProgress(string outcome, int delta)
    {
        if (delta > 0)
        {
            metrics.BroadcastMessages(outcome, delta);
        }
    }

    /// <summary>The next chunk of recipients: $1 the cursor (the last user id expanded), $2 how many.</summary>
    internal const string ChunkSql = "SELECT user_id FROM users WHERE status = 'active' AND user_id > $1 ORDER BY user_id LIMIT $2";

    /// <summary>
    /// Puts the next chunk of recipients into the outbox if the last one is nearly sent; returns how many. Nothing
    /// happens unless <paramref name="epoch"/> is the current term (the broadcast's row lock serializes two leaders'
    /// expansions; the fence stops a stale one from expanding at all).
    /// </summary>
    internal async Task<int> ExpandAsync(long id, long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long cursor, fromChatId;
        int messageId;
        await using (var lockRow = new NpgsqlCommand(
            $"""
            SELECT cursor, from_chat_id, message_id,
                   (SELECT count(*) FROM outbox WHERE broadcast_id = b.id AND state IN ('pending', 'sending'))::int
            FROM broadcasts b WHERE id = $1 AND state = 'running' AND NOT expanded AND {LeaderEpochs.IsCurrent(2)} FOR UPDATE
            """, connection, transaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            lockRow.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
            await using var reader = await lockRow.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || reader.GetInt32(3) >= options.ChunkSize / 2)
            {
                return 0;
            }

            (cursor, fromChatId, messageId) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2));
        }

        var recipients = new List<long>(options.ChunkSize);
        await using (var chunk = new NpgsqlCommand(ChunkSql, connection, transaction))
        {
            chunk.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor });
            chunk.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.ChunkSize });
            await using var reader = await chunk.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                recipients.Add(reader.GetInt64(0));
            }
        }

        var payloads = recipients.Select(chat => OutboxCodec.Encode(new CopyMessageRequest { ChatId = chat, FromChatId = fromChatId, MessageId = messageId }).Payload).ToArray();
        await using (var insert = new NpgsqlCommand(
            """
            INSERT INTO outbox (chat_id, method, payload, priority, broadcast_id)
            SELECT r.chat_id, 'copyMessage', r.payload, $3, $4 FROM unnest($1::bigint[], $2::text[]) AS r(chat_id, payload)
            """, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. recipients] });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = payloads });
            insert.Parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)OutboxPriority.Bulk });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var advance = new NpgsqlCommand(
            "UPDATE broadcasts SET cursor = $2, recipients = recipients + $3, expanded = $4 WHERE id = $1", connection, transaction))
        {
            advance.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            advance.Parameters.Add(new NpgsqlParameter<long> { TypedValue = recipients.Count > 0 ? recipients[^1] : cursor });
            advance.Parameters.Add(new NpgsqlParameter<int> { TypedValue = recipients.Count });
            advance.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = recipients.Count < options.ChunkSize });
            await advance.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return recipients.Count;
    }

    /// <summary>Edits the status message when its text changed, at most every few seconds, one edit in flight at a time.</summary>
    private async Task ShowStatusAsync(Row broadcast, string state, BroadcastStatus.Progress progress, TimeSpan elapsed, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.StatusChatId is not { } chatId || broadcast.StatusOutboxId is not { } statusOutboxId)
        {
            return;
        }

        var language = broadcast.Language ?? Texts.English;
        var text = BroadcastStatus.Format(texts, language, broadcast.Id, state, progress, elapsed);
        var final = state != "running";
        if (text == broadcast.StatusText
            || (!final && lastEdits.TryGetValue(broadcast.Id, out var last) && time.GetUtcNow() - last.At < TimeSpan.FromSeconds(options.StatusIntervalSeconds)))
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var pending = new NpgsqlCommand(
            $"""
            SELECT (SELECT result FROM outbox WHERE id = $1 AND state = 'sent'),
                   EXISTS (SELECT 1 FROM outbox WHERE id = $2 AND state IN ('pending', 'sending')),
                   {LeaderEpochs.IsCurrent(3)}
            """, connection, transaction))
        {
            pending.Parameters.Add(new NpgsqlParameter<long> { TypedValue = statusOutboxId });
            pending.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lastEdits.TryGetValue(broadcast.Id, out var previous) ? previous.OutboxId : 0 });
            pending.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
            await using var reader = await pending.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            // Not sent yet (no message to edit), the last edit still waiting to go out, or this term is over.
            if (reader.IsDBNull(0) || reader.GetBoolean(1) || reader.IsDBNull(2) || !reader.GetBoolean(2))
            {
                return;
            }

            broadcast = broadcast with { StatusMessageId = MessageIdOf(reader.GetString(0)) };
        }

        if (broadcast.StatusMessageId is not { } messageId)
        {
            return;
        }

        var outbox = new OutboxWriter(connection, transaction, null);
        var edit = await outbox.EnqueueAsync(new EditMessageTextRequest { ChatId = chatId, MessageId = messageId, Text = text }, chatId, cancellationToken: cancellationToken);
        await using (var save = new NpgsqlCommand("UPDATE broadcasts SET status_text = $2, status_message_id = $3 WHERE id = $1", connection, transaction))
        {
            save.Parameters.Add(new NpgsqlParameter<long> { TypedValue = broadcast.Id });
            save.Parameters.Add(new NpgsqlParameter<string> { TypedValue = text });
            save.Parameters.Add(new NpgsqlParameter<int> { TypedValue = messageId });
            await save.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        lastEdits[broadcast.Id] = (time.GetUtcNow(), edit);
        nudge.Nudge();
        if (final)
        {
            lastEdits.Remove(broadcast.Id);
        }
    }

    private static int? MessageIdOf(string result)
    {
        using var document = JsonDocument.Parse(result);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("message_id", out var id) && id.TryGetInt32(out var value)
            ? value
            : null;
    }

    /// <summary>Running broadcasts, and finished ones whose status message does not yet show the end.</summary>
    private async Task<List<Row>> ActiveAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT id, state, expanded, status_chat_id, status_outbox_id, status_message_id, status_text, language
            FROM broadcasts
            WHERE state = 'running' OR (finished_at > now() - interval '10 minutes' AND status_outbox_id IS NOT NULL)
            ORDER BY id
            """);
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new Row(
                reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }

        return rows;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcast step failed ({Error}); retrying")]
    private static partial void LogStepFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id} {State}: {Sent} sent, {Failed} failed, {Blocked} blocked")]
    private static partial void LogFinished(ILogger logger, long id, string state, int sent, int failed, int blocked);

    private sealed record Row(
        long Id, string State, bool Expanded, long? StatusChatId, long? StatusOutboxId, int? StatusMessageId, string? StatusText, string? Language);
}
