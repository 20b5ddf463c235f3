using System.Collections.Concurrent;
using System.Threading.Channels;
using Bot.Coordination;
using Bot.Hosting;
using Bot.Processing;
using Bot.Storage;
using Bot.Telegram;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Outbox;

/// <summary>
/// Drains the outbox on the leader: each chat's oldest unfinished message, interactive before bulk, within
/// Telegram's limits (<see cref="SendLimiter"/>). A row is marked 'sending' before its call and settled after
/// it, so a crash can repeat only the one call that was in flight (delivery is at least once).
/// </summary>
public sealed partial class OutboxSender(
    NpgsqlDataSource dataSource, TelegramClients telegram, WorkSignals signals, IOptions<SenderOptions> options,
    SecretRedactor redactor, BotMetrics metrics, LeadershipState term, TimeProvider time, ILogger<OutboxSender> logger) : ILeaderSingleton
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    // Finished calls arrive in bursts; reading the heads once per burst, not once per call, keeps the
    // sender's queries from growing with its throughput.
    private static readonly TimeSpan MinFetchInterval = TimeSpan.FromMilliseconds(5);
    private readonly SenderOptions options = options.Value;

    public string Name => "sender";

    public async Task RunAsync(CancellationToken leadership)
    {
        // Every row this term takes is stamped with its epoch, and settled only while the epoch is still current.
        var epoch = term.Epoch;
        var limiter = new SendLimiter(options, time);
        // Before anything is reset: the groups' calls of the last minute count against their 20 a minute here too.
        await SeedGroupWindowsAsync(limiter, leadership);
        // Calls the previous leader had in flight have an unknown outcome: send them again. Its settles of them,
        // should it still be running, are refused from here on (their epoch is no longer current).
        await using (var reset = dataSource.CreateCommand($"UPDATE outbox SET state = 'pending', epoch = NULL WHERE state = 'sending' AND {LeaderEpochs.IsCurrent(1)}"))
        {
            reset.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
            await reset.ExecuteNonQueryAsync(leadership);
        }
        var lastFetch = DateTimeOffset.MinValue;
        var inFlight = new Dictionary<long, Task>();
        var outcomes = new ConcurrentQueue<SendOutcome>();
        // One wake-up for new rows and finished calls alike: waiting on two at once would leave a stale waiter
        // that swallows the next wake-up.
        var completed = signals.Outbox;
        var sent = new SentRecorder(dataSource, epoch, time, logger);
        var recording = sent.RunAsync(leadership);
        try
        {
            // The previous leader's last calls (this replica's own, after leadership was lost and regained) may
            // have reached Telegram within the last second, and this limiter has no record of them: resending
            // at once broke the per-chat limit in the chaos drill (tests/Load/chaos). One window passes first.
            // A group's 60 s window is seeded from the outbox instead (SeedGroupWindowsAsync).
            await Task.Delay(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(options.SafetyMarginMilliseconds), time, leadership);
            while (!leadership.IsCancellationRequested)
            {
                foreach (var chat in inFlight.Where(f => f.Value.IsCompleted).Select(f => f.Key).ToList())
                {
                    inFlight.Remove(chat);
                }

                while (outcomes.TryDequeue(out var outcome))
                {
                    SendLimiter.Complete(outcome.Ticket, outcome.CompletedAt);
                    if (outcome.Pause is { } retryAfter)
                    {
                        limiter.Pause(outcome.Ticket.ChatId, retryAfter);
                    }
                }

                var wake = Poll;
                var capacity = Math.Min(options.MaxInFlight - inFlight.Count, limiter.Capacity());
                if (capacity > 0 && time.GetUtcNow() - lastFetch >= MinFetchInterval)
                {
                    lastFetch = time.GetUtcNow();
                    // Chats with a call in flight or a full window are left out and the round is cut to what the
                    // overall limit allows, so what is taken can (almost always) be sent at once.
                    var waiting = limiter.Waiting(out var earliestFree);
                    wake = Earliest(wake, earliestFree);
                    waiting.AddRange(inFlight.Keys);
                    var taken = await TakeHeadsAsync(waiting.ToArray(), capacity, epoch, leadership);
                    var released = new List<long>();
                    foreach (var row in taken)
                    {
                        if (limiter.TryAcquire(row.ChatId) is { } ticket)
                        {
                            inFlight[row.ChatId] = SendAsync(row, ticket, epoch, outcomes, completed, sent, leadership);
                        }
                        else
                        {
                            released.Add(row.Id);
                            wake = Earliest(wake, limiter.NextAllowed(row.ChatId));
                        }
                    }

                    if (released.Count > 0)
                    {
                        await ReleaseAsync(released.ToArray(), epoch, leadership);
                    }
                }
                else if (capacity > 0)
                {
                    wake = MinFetchInterval - (time.GetUtcNow() - lastFetch);
                }
                else if (inFlight.Count < options.MaxInFlight)
                {
                    // The overall limit is full: it frees when a completed call leaves its window.
                    wake = Earliest(wake, limiter.NextAllowedOverall());
                }

                await completed.WaitAsync(wake < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wake, leadership);
            }
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested)
        {
        }
        finally
        {
            // At a graceful stop calls under way finish and are settled; when leadership was lost they were
            // cancelled. Whatever is not settled is sent again by the next leader (at least once).
            await Task.WhenAll(inFlight.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            sent.Complete();
            await recording.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>How long to wait at most: <paramref name="wake"/>, or less if <paramref name="moment"/> (when known) comes sooner.</summary>
    private TimeSpan Earliest(TimeSpan wake, DateTimeOffset moment)
    {
        if (moment == DateTimeOffset.MaxValue)
        {
            return wake;
        }

        var wait = moment - time.GetUtcNow();
        return wait < wake ? wait : wake;
    }

    private async Task SendAsync(
        OutboxRow row, SendTicket ticket, long epoch, ConcurrentQueue<SendOutcome> outcomes, Signal completed, SentRecorder sent, CancellationToken leadership)
    {
        var reported = false;
        var lost = term.TermLost;
        using var activity = BotActivities.StartSend(row.Id, row.Method, row.ChatId, row.Attempts + 1, row.TraceContext);
        try
        {
            Settlement settlement;
            try
            {
                // A leader resuming from a stall must not send before it knows it still leads: its successor may be
                // sending the same rows under a new epoch. The row stays 'sending' for whoever leads.
                if (!term.IsConfirmed)
                {
                    await ReleaseAsync([row.Id], epoch, CancellationToken.None);
                    return;
                }

                var result = await OutboxCodec.SendAsync(telegram.Sender, row.Method, row.Payload, lost);
                settlement = Settlement.Sent(result);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                // Leadership lost: this call's outcome is unknown and the row stays 'sending' for the next leader,
                // whose epoch now refuses whatever this one would record.
                throw;
            }
            catch (Exception exception)
            {
                BotActivities.RecordException(activity, exception, redactor);
                settlement = Classify(exception, row.Method, row.Attempts + 1);
            }

            activity?.SetTag("bot.outcome", settlement.Kind.ToString().ToLowerInvariant());
            Count(row.Method, settlement.Kind);

            // The call has reached Telegram, if it ever will, by now: its window can start to run out.
            outcomes.Enqueue(new SendOutcome(ticket, time.GetUtcNow(), settlement.PausesSending ? settlement.RetryAfter : null));
            reported = true;
            // The chat's next message waits for this record (its row stays 'sending' until then), so order holds.
            await (settlement.Kind == SettlementKind.Sent
                ? sent.RecordAsync(row.Id, settlement.Result)
                : SettleWithRetryAsync(row, settlement, epoch, leadership));
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested || lost.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogSendLoopError(logger, row.Id, exception.GetType().Name, redactor.Redact(exception.Message));
        }
        finally
        {
            if (!reported)
            {
                outcomes.Enqueue(new SendOutcome(ticket, time.GetUtcNow(), null));
            }

            completed.Set();
        }
    }

    private void Count(string method, SettlementKind kind)
    {
        switch (kind)
        {
            case SettlementKind.Sent:
                metrics.MessageSent(method);
                break;
            case SettlementKind.Dead:
                metrics.MessageFailed(method, "dead");
                break;
            case SettlementKind.Unreachable:
                metrics.MessageFailed(method, "unreachable");
                break;
            default:
                // Retries are visible in bot.telegram.api.calls; the message is neither sent nor lost yet.
                break;
        }
    }

    private Settlement Classify(Exception exception, string method, int attempt)
    {
        var error = redactor.Redact($"{exception.GetType().Name}: {exception.Message}");
        var settlement = SendOutcomes.Classify(
            exception, error, method, attempt, options.MaxAttempts, RefusalIsNotTheChats, Random.Shared.NextDouble());
        if (settlement.PausesSending)
        {
            LogRateLimited(logger, (int)settlement.RetryAfter!.Value.TotalSeconds);
        }
        else if (settlement.IsConfigurationProblem)
        {
            LogConfigurationProblem(logger, error);
        }

        return settlement;
    }

    // A join decision is queued under the requester's chat, but its refusal is the group's (the bot was removed from
    // it or lost its rights): the requester is not unreachable.
    private static bool RefusalIsNotTheChats(string method) => method is "approveChatJoinRequest" or "declineChatJoinRequest";

    private Task SettleWithRetryAsync(OutboxRow row, Settlement settlement, long epoch, CancellationToken leadership) =>
        RetryWhileLeadingAsync(() => SettleAsync(row, settlement, epoch), row.Id, time, logger, leadership);

    /// <summary>
    /// Writes a call's outcome, retrying through a database blip for as long as this replica leads: the call
    /// happened, and an outcome not recorded means the call is repeated (by the next leader, at the latest).
    /// </summary>
    private static async Task RetryWhileLeadingAsync(Func<Task> write, long rowId, TimeProvider time, ILogger logger, CancellationToken leadership)
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

    /// <summary>
    /// Records a call's outcome, only while the row is still this term's (the fence): a leader that stalled past its
    /// lease and woke up changes nothing its successor has taken over. Returns false when the fence refused it.
    /// </summary>
    private async Task<bool> SettleAsync(OutboxRow row, Settlement settlement, long epoch)
    {
        var fence = $"id = $1 AND state = 'sending' AND epoch = $2 AND {LeaderEpochs.IsCurrent(2)}";
        await using var batch = dataSource.CreateBatch();
        var update = new NpgsqlBatchCommand(settlement.Kind switch
        {
            SettlementKind.Sent => $"UPDATE outbox SET state = 'sent', sent_at = now(), result = $3, last_error = NULL WHERE {fence}",
            SettlementKind.Retry => $"UPDATE outbox SET state = 'pending', not_before = now() + make_interval(secs => $3), last_error = $4, attempts = attempts - $5 WHERE {fence}",
            _ => $"UPDATE outbox SET state = 'dead', sent_at = now(), last_error = $3 WHERE {fence}",
        });
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Id });
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        switch (settlement.Kind)
        {
            case SettlementKind.Sent:
                update.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = settlement.Result });
                break;
            case SettlementKind.Retry:
                update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = settlement.RetryAfter!.Value.TotalSeconds });
                update.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = settlement.Error });
                update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = settlement.CountsAsAttempt ? 0 : 1 });
                break;
            default:
                update.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = settlement.Error });
                break;
        }

        batch.BatchCommands.Add(update);
        if (settlement.Kind == SettlementKind.Unreachable)
        {
            // Only when the fence let the settle through (the same transaction: the batch is one).
            var unreachable = new NpgsqlBatchCommand(
                $"""
                INSERT INTO unreachable_chats (chat_id, reason)
                SELECT $1, $2 FROM outbox WHERE id = $3 AND state = 'dead' AND epoch = $4
                ON CONFLICT (chat_id) DO UPDATE SET reason = excluded.reason, since = now()
                """);
            unreachable.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.ChatId });
            unreachable.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = settlement.Error });
            unreachable.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Id });
            unreachable.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
            batch.BatchCommands.Add(unreachable);
            // A private chat's id is its user's: a user who blocked the bot is no longer an active subscriber.
            var deactivate = new NpgsqlBatchCommand(
                "UPDATE users SET status = 'blocked', status_at = now() WHERE user_id = $1 AND status = 'active' AND EXISTS (SELECT 1 FROM outbox WHERE id = $2 AND state = 'dead' AND epoch = $3)");
            deactivate.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.ChatId });
            deactivate.Parameters.Add(new NpgsqlParameter<long> { TypedValue = row.Id });
            deactivate.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
            batch.BatchCommands.Add(deactivate);
        }

        await batch.ExecuteNonQueryAsync(CancellationToken.None);
        if (update.RecordsAffected == 0)
        {
            LogFenced(logger, row.Id, epoch);
            return false;
        }

        return true;
    }

    /// <summary>
    /// A new leader's limiter knows nothing of what its predecessor sent. A group's window is a minute, too long to
    /// wait out, so its calls of the last window are read back from the outbox (settled ones at their settle time,
    /// those still marked in flight as of now) and counted as if this limiter had made them. Ages come from the
    /// database's clock, so the replicas' clocks need not agree.
    /// </summary>
    private async Task SeedGroupWindowsAsync(SendLimiter limiter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT chat_id, extract(epoch FROM now() - sent_at)::float8 FROM outbox
            WHERE chat_id < 0 AND state IN ('sent', 'dead') AND sent_at > now() - make_interval(secs => $1)
            UNION ALL
            SELECT chat_id, 0 FROM outbox WHERE chat_id < 0 AND state = 'sending'
            """);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = SendLimiter.GroupWindow(options).TotalSeconds });
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

    /// <summary>The take of <see cref="TakeHeadsAsync"/>: $1 chats to leave out, $2 how many, $3 this term's epoch.</summary>
    internal static readonly string TakeSql =
        $$"""
        WITH heads AS (
            SELECT h.id
            FROM outbox_heads h
            WHERE h.not_before <= now() AND h.chat_id <> ALL($1)
            ORDER BY h.priority, h.id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
        ), locked AS (
            SELECT o.id
            FROM outbox o
            WHERE o.id = ANY (ARRAY(SELECT id FROM heads)) AND CASE WHEN o.state = 'pending' THEN true ELSE false END
            FOR UPDATE SKIP LOCKED
        )
        UPDATE outbox AS o SET state = 'sending', attempts = o.attempts + 1, epoch = $3
        WHERE o.id = ANY (ARRAY(SELECT id FROM locked)) AND {{LeaderEpochs.IsCurrent(3)}}
        RETURNING o.id, o.chat_id, o.method, o.payload, o.attempts - 1, o.trace_context, o.priority
        """;

    /// <summary>
    /// Takes up to <paramref name="limit"/> messages to send now, marking them as being sent in the same statement:
    /// each chat's next pending message, if it is due, interactive first, chats in <paramref name="skipChats"/>
    /// (a call in flight or a full window) left out. It reads outbox_heads (one row per chat with pending messages,
    /// kept by triggers) and reaches the outbox by primary key only, so its cost follows what is taken, not the
    /// backlog or the planner's statistics. Committed without waiting for the WAL flush: a mark lost in a database
    /// crash only means the row is sent again, the same at-least-once window as a call in flight. A row another
    /// sender marked meanwhile is not taken (its state is checked again on the row itself, as a CASE so that no
    /// partial index's predicate matches it).
    /// </summary>
    private async Task<List<OutboxRow>> TakeHeadsAsync(long[] skipChats, int limit, long epoch, CancellationToken cancellationToken)
    {
        var take = new NpgsqlBatchCommand(TakeSql);
        take.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = skipChats });
        take.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        var rows = await dataSource.ReadWithoutFlushAsync(take, reader => (Priority: reader.GetInt16(6), Row: new OutboxRow(
            reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5))), cancellationToken);
        // RETURNING keeps no order: interactive first, then the order they were queued in.
        rows.Sort((a, b) => a.Priority != b.Priority ? a.Priority.CompareTo(b.Priority) : a.Row.Id.CompareTo(b.Row.Id));
        return rows.ConvertAll(r => r.Row);
    }

    /// <summary>Puts back taken rows the limiter would not let go now (rare: the round is sized to the limits).</summary>
    private async Task ReleaseAsync(long[] ids, long epoch, CancellationToken cancellationToken)
    {
        var release = new NpgsqlBatchCommand(
            $"UPDATE outbox SET state = 'pending', attempts = attempts - 1, epoch = NULL WHERE id = ANY($1) AND state = 'sending' AND epoch = $2 AND {LeaderEpochs.IsCurrent(2)}");
        release.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        release.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        await dataSource.ReadWithoutFlushAsync(release, _ => 0, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram answered 429: pausing sends for {Seconds} s")]
    private static partial void LogRateLimited(ILogger logger, int seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Bot API refuses the bot's credentials or address: {Error}")]
    private static partial void LogConfigurationProblem(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the outcome of outbox row {Id} failed ({Error}); retrying")]
    private static partial void LogSettleRetry(ILogger logger, long id, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Counted {Calls} group calls of the previous leader's last minute against Telegram's group limit")]
    private static partial void LogSeeded(ILogger logger, int calls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outcome of outbox row {Id} not recorded: epoch {Epoch} is no longer the current leadership term")]
    private static partial void LogFenced(ILogger logger, long id, long epoch);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending outbox row {Id} failed unexpectedly: {ErrorType}: {Error}")]
    private static partial void LogSendLoopError(ILogger logger, long id, string errorType, string error);

    /// <summary>
    /// Records successful calls in groups, one statement and one commit per group: calls that finish while a group
    /// is being written form the next one, so under load a commit records many sends, and alone a send is recorded
    /// at once. Each caller waits until its own record is durable. A database blip is retried as long as this
    /// replica leads; the next leader resends whatever was not recorded (at least once, as for a call in flight).
    /// </summary>
    private sealed class SentRecorder(NpgsqlDataSource dataSource, long epoch, TimeProvider time, ILogger logger)
    {
        private const int MaxGroup = 512;

        private readonly Channel<(long Id, string? Result, TaskCompletionSource Done)> queue =
            Channel.CreateUnbounded<(long, string?, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

        public Task RecordAsync(long id, string? result)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!queue.Writer.TryWrite((id, result, done)))
            {
                done.SetException(new InvalidOperationException("the sender has stopped"));
            }

            return done.Task;
        }

        /// <summary>No more records come (every call has finished); <see cref="RunAsync"/> ends once they are written.</summary>
        public void Complete() => queue.Writer.TryComplete();

        public async Task RunAsync(CancellationToken leadership)
        {
            var group = new List<(long Id, string? Result, TaskCompletionSource Done)>(MaxGroup);
            while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
            {
                while (group.Count < MaxGroup && queue.Reader.TryRead(out var item))
                {
                    group.Add(item);
                }

                try
                {
                    await WriteWithRetryAsync(group, leadership);
                    group.ForEach(g => g.Done.TrySetResult());
                }
                catch (Exception exception)
                {
                    group.ForEach(g => g.Done.TrySetException(exception));
                }

                group.Clear();
            }
        }

        private Task WriteWithRetryAsync(List<(long Id, string? Result, TaskCompletionSource Done)> group, CancellationToken leadership) =>
            RetryWhileLeadingAsync(async () =>
            {
                // Fenced like every settle: only this term's rows, only while its epoch is current.
                await using var command = dataSource.CreateCommand(
                    $"""
                    UPDATE outbox AS o SET state = 'sent', sent_at = now(), result = r.result, last_error = NULL
                    FROM unnest($1::bigint[], $2::text[]) AS r(id, result)
                    WHERE o.id = r.id AND o.state = 'sending' AND o.epoch = $3 AND {LeaderEpochs.IsCurrent(3)}
                    """);
                command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = group.Select(g => g.Id).ToArray() });
                command.Parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = group.Select(g => g.Result).ToArray() });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
                var recorded = await command.ExecuteNonQueryAsync(CancellationToken.None);
                if (recorded < group.Count)
                {
                    LogFenced(logger, group[0].Id, epoch);
                }
            }, group[0].Id, time, logger, leadership);
    }

    private sealed record SendOutcome(SendTicket Ticket, DateTimeOffset CompletedAt, TimeSpan? Pause);

    private sealed record OutboxRow(long Id, long ChatId, string Method, string Payload, int Attempts, string? TraceContext);
}
