using Bot.Coordination;
using Bot.Storage;
using Npgsql;

namespace Bot.Outbox;

/// <summary>A message taken from the outbox to be sent.</summary>
/// <param name="Paid">Sent with allow_paid_broadcast: counted against the paid overall window.</param>
internal sealed record OutboxRow(long Id, long ChatId, string Method, string Payload, int Attempts, string? TraceContext, bool Paid = false);

/// <summary>
/// The outbox as one leadership term sees it: every row the term takes is stamped with its epoch, and settled only
/// while the row is still the term's and the epoch is still current (the fence): a leader that stalled past its
/// lease and woke up changes nothing its successor has taken over.
/// </summary>
internal sealed partial class OutboxQueue(
    NpgsqlDataSource dataSource, long epoch, IReadOnlyList<IUnreachableChatHook> unreachableHooks, TimeProvider time, ILogger logger)
{
    /// <summary>The leadership term whose rows these are.</summary>
    public long Epoch => epoch;

    /// <summary>
    /// The take of <see cref="TakeHeadsAsync"/>: $1 chats to leave out, $2 how many unpaid, $3 this term's epoch, $4 how
    /// many paid, $5 how many in all. Each kind is read through its own index (outbox_heads_paid_order), so a take of
    /// one kind probes however many heads the other holds. Interactive first; within a priority the kinds take
    /// turns (the first of each, then the second of each, ...) until the round is full, so that a paid broadcast's
    /// backlog does not fill every round while unpaid rows wait, nor the other way round.
    /// </summary>
    internal static readonly string TakeSql =
        $$"""
        WITH unpaid AS (
            SELECT h.id, h.priority
            FROM outbox_heads h
            WHERE h.paid = false AND h.not_before <= now() AND h.chat_id <> ALL($1)
            ORDER BY h.priority, h.id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), paid AS (
            SELECT h.id, h.priority
            FROM outbox_heads h
            WHERE h.paid = true AND h.not_before <= now() AND h.chat_id <> ALL($1)
            ORDER BY h.priority, h.id
            LIMIT $4
            FOR UPDATE SKIP LOCKED
        ), heads AS (
            SELECT k.id FROM (
                SELECT id, priority, row_number() OVER (PARTITION BY priority ORDER BY id) AS turn FROM unpaid
                UNION ALL
                SELECT id, priority, row_number() OVER (PARTITION BY priority ORDER BY id) AS turn FROM paid) k
            ORDER BY k.priority, k.turn, k.id
            LIMIT $5
        ), locked AS (
            SELECT o.id
            FROM outbox o
            WHERE o.id = ANY (ARRAY(SELECT id FROM heads)) AND CASE WHEN o.state = 'pending' THEN true ELSE false END
            FOR UPDATE SKIP LOCKED
        )
        UPDATE outbox AS o SET state = 'sending', attempts = o.attempts + 1, epoch = $3
        WHERE o.id = ANY (ARRAY(SELECT id FROM locked)) AND {{LeaderEpochs.IsCurrent(3)}}
        RETURNING o.id, o.chat_id, o.method, o.payload, o.attempts - 1, o.trace_context, o.priority, o.paid
        """;

    /// <summary>
    /// Gives the rows a previous leader left 'sending' back to the queue: their calls' outcome is unknown, so they
    /// are sent again.
    /// </summary>
    public async Task ResetInFlightAsync(CancellationToken cancellationToken)
    {
        await using var reset = dataSource.CreateCommand($"UPDATE outbox SET state = 'pending', epoch = NULL WHERE state = 'sending' AND {LeaderEpochs.IsCurrent(1)}");
        reset.Parameters.Add(Sql.Arg<long>(epoch));
        await reset.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A new leader's limiter knows nothing of what its predecessor sent. A group's window is a minute, too long to
    /// wait out, so its calls of the last window are read back from the outbox (settled ones at their settle time,
    /// those still marked in flight as of now) and counted as if this limiter had made them. Ages come from the
    /// database's clock, so the replicas' clocks need not agree.
    /// </summary>
    public async Task SeedGroupWindowsAsync(SendLimiter limiter, TimeSpan groupWindow, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT chat_id, extract(epoch FROM now() - sent_at)::float8 FROM outbox
            WHERE chat_id < 0 AND state IN ('sent', 'dead') AND sent_at > now() - make_interval(secs => $1)
            UNION ALL
            SELECT chat_id, 0 FROM outbox WHERE chat_id < 0 AND state = 'sending'
            """);
        command.Parameters.Add(Sql.Arg<double>(groupWindow.TotalSeconds));
        var now = time.GetUtcNow();
        var seeded = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            limiter.Seed(reader.GetInt64(0), now - TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(1))));
            seeded++;
        }

        if (seeded > 0)
        {
            LogSeeded(logger, seeded);
        }
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> messages to send now, at most <paramref name="unpaid"/> of them unpaid and
    /// <paramref name="paid"/> paid (what each overall window has left), marking them as being sent in the same statement:
    /// each chat's next pending message, if it is due, interactive first, chats in <paramref name="skipChats"/>
    /// (a call in flight or a full window) left out. It reads outbox_heads (one row per chat with pending messages,
    /// kept by triggers) and reaches the outbox by primary key only, so its cost follows what is taken, not the
    /// backlog or the planner's statistics. Committed without waiting for the WAL flush: a mark lost in a database
    /// crash only means the row is sent again, the same at-least-once window as a call in flight. A row another
    /// sender marked meanwhile is not taken (its state is checked again on the row itself, as a CASE so that no
    /// partial index's predicate matches it).
    /// </summary>
    public async Task<List<OutboxRow>> TakeHeadsAsync(long[] skipChats, int unpaid, int paid, int limit, CancellationToken cancellationToken)
    {
        var take = new NpgsqlBatchCommand(TakeSql);
        take.Parameters.Add(Sql.Arg<long[]>(skipChats));
        take.Parameters.Add(Sql.Arg<int>(unpaid));
        take.Parameters.Add(Sql.Arg<long>(epoch));
        take.Parameters.Add(Sql.Arg<int>(paid));
        take.Parameters.Add(Sql.Arg<int>(limit));
        var rows = await dataSource.ReadWithoutFlushAsync(take, reader => (Priority: reader.GetInt16(6), Row: new OutboxRow(
            reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(7))), cancellationToken);
        // RETURNING keeps no order: interactive first, then the order they were queued in.
        rows.Sort((a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : a.Row.Id.CompareTo(b.Row.Id));
        return rows.ConvertAll(r => r.Row);
    }

    /// <summary>
    /// Puts back taken rows that are not sent now, as if they had not been taken: the limiter would not let them go,
    /// or the leader could not confirm that it still leads.
    /// </summary>
    public async Task ReleaseAsync(long[] ids, CancellationToken cancellationToken)
    {
        var release = new NpgsqlBatchCommand(
            $"UPDATE outbox SET state = 'pending', attempts = attempts - 1, epoch = NULL WHERE id = ANY($1) AND state = 'sending' AND epoch = $2 AND {LeaderEpochs.IsCurrent(2)}");
        release.Parameters.Add(Sql.Arg<long[]>(ids));
        release.Parameters.Add(Sql.Arg<long>(epoch));
        await dataSource.ReadWithoutFlushAsync(release, _ => 0, cancellationToken);
    }

    /// <summary>Records a call's outcome (fenced), retrying through a database blip while this replica leads.</summary>
    public Task SettleAsync(OutboxRow row, Settlement settlement, CancellationToken leadership) =>
        RetryWhileLeadingAsync(() => SettleOnceAsync(row, settlement), row.Id, leadership);

    /// <summary>
    /// Records successful calls, all in one statement and one commit (fenced like every settle: only this term's
    /// rows, only while its epoch is current), retrying through a database blip while this replica leads.
    /// </summary>
    public Task SettleSentAsync(IReadOnlyList<(long Id, string? Result)> sent, CancellationToken leadership) =>
        RetryWhileLeadingAsync(async () =>
        {
            await using var command = dataSource.CreateCommand(
                $"""
                UPDATE outbox AS o SET state = 'sent', sent_at = now(), result = r.result, last_error = NULL
                FROM unnest($1::bigint[], $2::text[]) AS r(id, result)
                WHERE o.id = r.id AND o.state = 'sending' AND o.epoch = $3 AND {LeaderEpochs.IsCurrent(3)}
                """);
            command.Parameters.Add(Sql.Arg<long[]>(sent.Select(s => s.Id).ToArray()));
            command.Parameters.Add(Sql.Arg<string?[]>(sent.Select(s => s.Result).ToArray()));
            command.Parameters.Add(Sql.Arg<long>(epoch));
            var recorded = await command.ExecuteNonQueryAsync(CancellationToken.None);
            if (recorded < sent.Count)
            {
                LogFenced(logger, sent[0].Id, epoch);
            }
        }, sent[0].Id, leadership);

    /// <summary>
    /// Writes a call's outcome, retrying through a database blip for as long as this replica leads: the call
    /// happened, and an outcome not recorded means the call is repeated (by the next leader, at the latest).
    /// </summary>
    private async Task RetryWhileLeadingAsync(Func<Task> write, long rowId, CancellationToken leadership)
    {
        for (var delay = 100; ; delay = Math.Min(delay * 2, 5000))
        {
            try
            {
                await write();
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !leadership.IsCancellationRequested)
            {
                LogSettleRetry(logger, rowId, exception.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(delay), time, leadership);
            }
        }
    }

    /// <summary>Records a call's outcome, only while the row is still this term's. Returns false when the fence refused it.</summary>
    private async Task<bool> SettleOnceAsync(OutboxRow row, Settlement settlement)
    {
        var fence = $"id = $1 AND state = 'sending' AND epoch = $2 AND {LeaderEpochs.IsCurrent(2)}";
        var sql = settlement.Kind switch
        {
            SettlementKind.Sent => $"UPDATE outbox SET state = 'sent', sent_at = now(), result = $3, last_error = NULL WHERE {fence}",
            SettlementKind.Retry => $"UPDATE outbox SET state = 'pending', not_before = now() + make_interval(secs => $3), last_error = $4, attempts = attempts - $5 WHERE {fence}",
            _ => $"UPDATE outbox SET state = 'dead', sent_at = now(), last_error = $3 WHERE {fence}",
        };

        if (settlement.Kind != SettlementKind.Unreachable)
        {
            await using var command = dataSource.CreateCommand(sql);
            AddSettleParameters(command.Parameters, row, settlement);
            return Settled(row, await command.ExecuteNonQueryAsync(CancellationToken.None));
        }

        // The chat is recorded as unreachable, and the hooks told, only when the fence let the settle through, in
        // the same transaction.
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await using (var update = new NpgsqlCommand(sql, connection, transaction))
        {
            AddSettleParameters(update.Parameters, row, settlement);
            if (!Settled(row, await update.ExecuteNonQueryAsync(CancellationToken.None)))
            {
                return false;
            }
        }

        await using (var unreachable = new NpgsqlCommand(
            """
            INSERT INTO unreachable_chats (chat_id, reason) VALUES ($1, $2)
            ON CONFLICT (chat_id) DO UPDATE SET reason = excluded.reason, since = now()
            """, connection, transaction))
        {
            unreachable.Parameters.Add(Sql.Arg<long>(row.ChatId));
            unreachable.Parameters.Add(Sql.Arg<string?>(settlement.Error));
            await unreachable.ExecuteNonQueryAsync(CancellationToken.None);
        }

        foreach (var hook in unreachableHooks)
        {
            await hook.ChatUnreachableAsync(connection, transaction, row.ChatId, CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
        return true;
    }

    /// <summary>True when the settle changed the row; false (and logged) when the fence refused it.</summary>
    private bool Settled(OutboxRow row, int recordsAffected)
    {
        if (recordsAffected == 0)
        {
            LogFenced(logger, row.Id, epoch);
            return false;
        }

        return true;
    }

    private void AddSettleParameters(NpgsqlParameterCollection parameters, OutboxRow row, Settlement settlement)
    {
        parameters.Add(Sql.Arg<long>(row.Id));
        parameters.Add(Sql.Arg<long>(epoch));
        switch (settlement.Kind)
        {
            case SettlementKind.Sent:
                parameters.Add(Sql.Arg<string?>(settlement.Result));
                break;
            case SettlementKind.Retry:
                parameters.Add(Sql.Arg<double>(settlement.RetryAfter!.Value.TotalSeconds));
                parameters.Add(Sql.Arg<string?>(settlement.Error));
                parameters.Add(Sql.Arg<int>(settlement.CountsAsAttempt ? 0 : 1));
                break;
            default:
                parameters.Add(Sql.Arg<string?>(settlement.Error));
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the outcome of outbox row {Id} failed ({Error}); retrying")]
    private static partial void LogSettleRetry(ILogger logger, long id, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Counted {Calls} group calls of the previous leader's last minute against Telegram's group limit")]
    private static partial void LogSeeded(ILogger logger, int calls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outcome of outbox row {Id} not recorded: epoch {Epoch} is no longer the current leadership term")]
    private static partial void LogFenced(ILogger logger, long id, long epoch);
}
