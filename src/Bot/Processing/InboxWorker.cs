using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Bot.Hosting;
using Bot.Outbox;
using Bot.Storage;
using Bot.Telegram;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// Claims updates from the inbox (every replica runs one) and handles each in one transaction: the
/// handler's state, its outbox rows and the inbox row's completion commit together. Different chats run
/// in parallel up to <see cref="ProcessingOptions.Concurrency"/>; a chat's updates go one at a time, in order.
/// </summary>
public sealed partial class InboxWorker(
    InboxClaims queue, NpgsqlDataSource dataSource, UpdateRouter router, FaultInjection faults, TelegramClients telegram, WorkSignals signals, OutboxNudge nudge,
    IOptions<ProcessingOptions> options, IOptions<ShutdownOptions> shutdown, SecretRedactor redactor, BotMetrics metrics, TimeProvider time,
    ILogger<InboxWorker> logger) : BackgroundService
{
    private const int BackloggedChatsKept = 1024;

    private readonly ProcessingOptions options = options.Value;
    private readonly ConcurrentDictionary<long, Task> running = new();

    // Chats whose update finished since the last claim. A chat whose next update the following claim handed out has
    // a backlog, and while one of those finishes again, the claim does not linger: a backlog is drained at full speed.
    private ConcurrentDictionary<long, byte> finishedChats = new();
    private readonly ConcurrentDictionary<long, byte> backlogged = new();
    private TaskCompletionSource backlogFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Identifies this process's claims in the inbox (host, process, instance).</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            LogDisabled(logger);
            return;
        }

        // Handlers get their own token: at shutdown they may finish within the grace period.
        using var handlers = new CancellationTokenSource();
        using var slots = new SemaphoreSlim(options.Concurrency, options.Concurrency);
        var lease = TimeSpan.FromSeconds(options.LeaseSeconds);
        var poll = TimeSpan.FromSeconds(options.PollIntervalSeconds);
        var linger = TimeSpan.FromMilliseconds(options.ClaimLingerMilliseconds);
        var backlog = false;
        var backoff = TimeSpan.Zero;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                // Under load, wait for what arrives meanwhile to come along (Processing:ClaimLingerMilliseconds);
                // not while there is a backlog (the last claim took all it asked for, or a chat with queued updates
                // has just finished one): that is drained at full speed.
                if (linger > TimeSpan.Zero && !backlog && !running.IsEmpty)
                {
                    await LingerAsync(linger, stoppingToken);
                }

                var finished = Interlocked.Exchange(ref finishedChats, new ConcurrentDictionary<long, byte>());
                var free = slots.CurrentCount + 1;
                IReadOnlyList<ClaimedUpdate> claimed;
                try
                {
                    claimed = await queue.ClaimAsync(free, Owner, lease, options.MaxAttempts, stoppingToken);
                    backoff = TimeSpan.Zero;
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                {
                    slots.Release();
                    backoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 200, 5000));
                    LogClaimFailed(logger, exception.Message, backoff.TotalMilliseconds);
                    await Task.Delay(backoff, time, stoppingToken);
                    continue;
                }

                backlog = claimed.Count == free;
                foreach (var chat in finished.Keys)
                {
                    if (claimed.Any(c => c.ChatId == chat))
                    {
                        backlogged.TryAdd(chat, 0);
                    }
                    else
                    {
                        backlogged.TryRemove(chat, out _);
                    }
                }

                // A chat whose next update another replica took stays here until it finishes one on this replica again;
                // forgetting them all now and then costs one linger per busy chat, while keeping them would grow without end.
                if (backlogged.Count > BackloggedChatsKept)
                {
                    backlogged.Clear();
                }

                var spent = ReportDeadLettered(claimed);
                if (spent > 0)
                {
                    claimed = [.. claimed.Where(c => !c.DeadLettered)];
                }

                if (claimed.Count == 0)
                {
                    slots.Release();
                    if (spent == 0)
                    {
                        await signals.Inbox.WaitAsync(poll, stoppingToken);
                    }

                    continue;
                }

                // An update taken over from a lease that ran out goes alone, with nothing else running here and
                // nothing else claimed: if it is the one that ends processes, it takes no bystander's attempt with
                // it. The rest of this claim is given back (its attempt not counted) and claimed again after it.
                if (claimed.FirstOrDefault(c => c.Orphaned) is { } orphan)
                {
                    // The claim's other orphans stay orphans (each goes alone later); the rest become pending again.
                    var orphans = claimed.Where(c => c != orphan && c.Orphaned).Select(c => c.UpdateId).ToList();
                    var others = claimed.Where(c => !c.Orphaned).Select(c => c.UpdateId).ToList();
                    if (orphans.Count > 0)
                    {
                        await queue.ReleaseOrphansAsync(orphans, Owner, CancellationToken.None);
                    }

                    if (others.Count > 0)
                    {
                        await queue.ReleaseAsync(others, Owner, CancellationToken.None);
                    }

                    await Task.WhenAll(running.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    LogOrphan(logger, orphan.UpdateId, orphan.Attempts);
                    // It runs in the one slot this loop holds, which RunAsync gives back.
                    await RunAsync([orphan], slots, Task.CompletedTask, time.GetTimestamp(), handlers.Token);
                    continue;
                }

                // One slot is already held; take the rest without waiting (they were free a moment ago).
                var taken = 1;
                while (taken < claimed.Count && slots.Wait(0, CancellationToken.None))
                {
                    taken++;
                }

                if (taken < claimed.Count)
                {
                    await queue.ReleaseAsync(claimed.Skip(taken).Select(c => c.UpdateId), Owner, CancellationToken.None);
                }

                foreach (var group in Groups(claimed.Take(taken)))
                {
                    // Recorded before it starts, so that a quick finish cannot remove it before it is added.
                    var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var work = RunAsync(group, slots, start.Task, time.GetTimestamp(), handlers.Token);
                    foreach (var claim in group)
                    {
                        running[claim.UpdateId] = work;
                    }

                    start.SetResult();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await DrainAsync(handlers);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="linger"/> for updates to arrive, cut short when a chat with a backlog finishes an
    /// update (its next one is ready now).
    /// </summary>
    private async Task LingerAsync(TimeSpan linger, CancellationToken stoppingToken)
    {
        // Armed before the check, so that a chat finishing in between either is seen here or cuts the wait.
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref backlogFinished, finished);
        if (finishedChats.Keys.Any(backlogged.ContainsKey))
        {
            return;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        await Task.WhenAny(Task.Delay(linger, time, wait.Token), finished.Task);
        await wait.CancelAsync();
    }

    /// <summary>
    /// Splits a claim into groups handled in one transaction each, at most <see cref="ProcessingOptions.GroupSize"/>
    /// updates to a group, spread evenly. An update whose feature says it runs alone (<see cref="IRunsAlone"/>) goes
    /// alone. So does a retried update: if a group failed or ran out of time, the
    /// update that caused it then fails alone, and its former group-mates do not share its attempts.
    /// </summary>
    private List<List<ClaimedUpdate>> Groups(IEnumerable<ClaimedUpdate> claims)
    {
        var groups = new List<List<ClaimedUpdate>>();
        var together = new List<ClaimedUpdate>();
        foreach (var claim in claims)
        {
            if (claim.Attempts > 1 || router.RunsAlone(claim.Kind))
            {
                groups.Add([claim]);
            }
            else
            {
                together.Add(claim);
            }
        }

        var count = (together.Count + options.GroupSize - 1) / options.GroupSize;
        for (var g = 0; g < count; g++)
        {
            groups.Add(together.Where((_, i) => i % count == g).ToList());
        }

        return groups;
    }

    /// <summary>
    /// Handles a claimed group within its deadline (<see cref="ProcessingOptions.HandlerBudget"/> from the claim):
    /// a handler still running then is cancelled and its update fails, well before its lease could run out and
    /// another replica could start it a second time.
    /// </summary>
    private async Task RunAsync(List<ClaimedUpdate> group, SemaphoreSlim slots, Task start, long claimedAt, CancellationToken shutdown)
    {
        await start;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        deadline.CancelAfter(options.HandlerBudget - time.GetElapsedTime(claimedAt));
        try
        {
            if (group.Count == 1 || !await ProcessTogetherAsync(group, deadline.Token))
            {
                foreach (var claim in group)
                {
                    await ProcessAsync(claim, shutdown, deadline.Token);
                }
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // Shutting down past the grace period: nothing of the group was committed; its leases run out.
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The group ran out of time together: nothing of it was committed, and each update is retried alone.
            var timeout = OutOfTime("its group");
            foreach (var claim in group)
            {
                await FailAsync(claim, timeout);
                metrics.UpdateProcessed(claim.Kind, "failed", time.GetElapsedTime(claimedAt));
            }
        }
        finally
        {
            foreach (var claim in group)
            {
                running.TryRemove(claim.UpdateId, out _);
                if (claim.ChatId is { } chat)
                {
                    finishedChats.TryAdd(chat, 0);
                    if (backlogged.ContainsKey(chat))
                    {
                        Volatile.Read(ref backlogFinished).TrySetResult();
                    }
                }
            }

            slots.Release(group.Count);

            // The chats' next updates may be claimable now.
            signals.Inbox.Set();
        }
    }

    /// <summary>
    /// Handles a group of updates (all of different chats) in one transaction: each handler in turn, then every
    /// reply and every completion in one round trip, then one commit. Returns false, with nothing applied, when any
    /// handler fails or a lease was lost: the caller then handles each update alone, where a failure is retried or
    /// dead-lettered for that update only. (What a handler did outside the database in the attempt, such as a
    /// getChatMember call or a counted decision, happens again then.)
    /// </summary>
    private async Task<bool> ProcessTogetherAsync(List<ClaimedUpdate> group, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var writes = new List<NpgsqlBatchCommand>();
        var queued = 0;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var contexts = group.Select(claim => CreateContext(claim, connection, transaction, cancellationToken)).ToList();
            // Statements every update needs (flood control's count) are made once for the group.
            await router.PrepareAsync(contexts);
            foreach (var context in contexts)
            {
                var claim = context.Claim;
                // The span covers this update's handler; the group's commit follows the last one ("grouped").
                using var activity = BotActivities.StartHandle(claim.UpdateId, claim.Kind, claim.Attempts, claim.TraceContext);
                activity?.SetTag("bot.outcome", "grouped");
                activity?.SetTag("bot.group_size", group.Count);
                var outbox = await HandleAsync(context);
                if (outbox.TakeBuffered() is { } rows)
                {
                    writes.Add(rows);
                }

                queued += outbox.Queued;
            }

            if (await InboxClaims.CompleteAllAsync(connection, transaction, group, Owner, writes, cancellationToken) != group.Count)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                return false;
            }

            await transaction.CommitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown, or the group's deadline: no time is left to handle its updates one by one. RunAsync tells
            // the two apart and fails each update of a group out of time, so that it is retried alone.
            throw;
        }
        catch (Exception exception)
        {
            LogGroupFallback(logger, group.Count, exception.GetType().Name);
            return false;
        }

        if (queued > 0)
        {
            nudge.Nudge();
        }

        var elapsed = time.GetElapsedTime(started);
        foreach (var claim in group)
        {
            metrics.UpdateProcessed(claim.Kind, "done", elapsed);
        }

        return true;
    }

    private UpdateContext CreateContext(ClaimedUpdate claim, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var update = JsonSerializer.Deserialize(claim.Payload, TelegramJson.Update)
            ?? throw new JsonException("the stored update is null");
        var outbox = new OutboxWriter(connection, transaction, claim.UpdateId);
        return new UpdateContext(update, claim, connection, transaction, outbox, telegram.Reader, cancellationToken);
    }

    /// <summary>
    /// Runs the handlers for one update, inside its handler span; returns its outbox writer, whose held-back rows the
    /// caller writes with the completion.
    /// </summary>
    private async Task<OutboxWriter> HandleAsync(UpdateContext context)
    {
        // Outbox rows carry the handler span's context, so each send continues this trace under it.
        context.Outbox.TraceContext = BotActivities.CurrentTraceParent(context.Claim.TraceContext);
        faults.BeforeHandling(context.Claim.UpdateId);
        await router.RouteAsync(context);
        return context.Outbox;
    }

    private async Task ProcessAsync(ClaimedUpdate claim, CancellationToken shutdown, CancellationToken cancellationToken)
    {
        using var activity = BotActivities.StartHandle(claim.UpdateId, claim.Kind, claim.Attempts, claim.TraceContext);
        var started = time.GetTimestamp();
        var outcome = "done";
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var outbox = await HandleAsync(CreateContext(claim, connection, transaction, cancellationToken));
            if (!await InboxClaims.CompleteAsync(connection, transaction, claim, Owner, outbox.TakeBuffered(), cancellationToken))
            {
                // Our lease ran out and another worker took the update: its result counts, ours is dropped.
                await transaction.RollbackAsync(CancellationToken.None);
                outcome = "lease_lost";
                LogLeaseLost(logger, claim.UpdateId);
                return;
            }

            await transaction.CommitAsync(cancellationToken);
            if (outbox.Queued > 0)
            {
                nudge.Nudge();
            }
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // Shutting down past the grace period: the claim is released by DrainAsync.
            outcome = "cancelled";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = "failed";
            var timeout = OutOfTime("the handler");
            BotActivities.RecordException(activity, timeout, redactor);
            await FailAsync(claim, timeout);
        }
        catch (Exception exception)
        {
            outcome = "failed";
            BotActivities.RecordException(activity, exception, redactor);
            await FailAsync(claim, exception);
        }
        finally
        {
            activity?.SetTag("bot.outcome", outcome);
            metrics.UpdateProcessed(claim.Kind, outcome, time.GetElapsedTime(started));
        }
    }

    /// <summary>The failure recorded for an update whose handler (or group) ran past its deadline.</summary>
    private TimeoutException OutOfTime(string what) =>
        new($"{what} did not finish within {options.HandlerBudget.TotalSeconds:0.#} s of the claim");

    /// <summary>Counts and logs the updates the claim dead-lettered; returns how many.</summary>
    private int ReportDeadLettered(IReadOnlyList<ClaimedUpdate> claimed)
    {
        var count = 0;
        foreach (var claim in claimed.Where(c => c.DeadLettered))
        {
            count++;
            metrics.UpdateDeadLettered(claim.Kind);
            LogDeadLettered(logger, claim.UpdateId, claim.Kind, claim.Attempts, "the handler did not finish (the process ended or hung on every attempt)", null);
        }

        return count;
    }

    private async Task FailAsync(ClaimedUpdate claim, Exception exception)
    {
        // Malformed stored JSON will never parse: no point in retrying it.
        var attempts = exception is JsonException ? claim.Attempts : options.MaxAttempts;
        var error = redactor.Redact($"{exception.GetType().Name}: {exception.Message}");
        var retryAfter = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, claim.Attempts)) * (0.5 + Random.Shared.NextDouble()));
        try
        {
            var dead = await queue.FailAsync(claim, Owner, error, attempts, retryAfter, CancellationToken.None);
            if (dead)
            {
                metrics.UpdateDeadLettered(claim.Kind);
                Activity.Current?.SetTag("bot.dead_lettered", true);
                LogDeadLettered(logger, claim.UpdateId, claim.Kind, claim.Attempts, error, exception);
            }
            else
            {
                LogFailed(logger, claim.UpdateId, claim.Kind, claim.Attempts, error);
            }
        }
        catch (Exception failure) when (failure is NpgsqlException or TimeoutException)
        {
            // The lease will run out and the update will be retried then.
            LogFailed(logger, claim.UpdateId, claim.Kind, claim.Attempts, error + " (not recorded: " + failure.Message + ")");
        }
    }

    private async Task DrainAsync(CancellationTokenSource handlers)
    {
        var grace = TimeSpan.FromSeconds(shutdown.Value.TimeoutSeconds * 0.8);
        var all = Task.WhenAll(running.Values);
        if (await Task.WhenAny(all, Task.Delay(grace, time)) != all)
        {
            await handlers.CancelAsync();
            await all.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (!running.IsEmpty)
        {
            await queue.ReleaseAsync(running.Keys, Owner, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Update {UpdateId} is taken over from a lease that ran out (attempt {Attempt}): handled alone")]
    private static partial void LogOrphan(ILogger logger, long updateId, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A group of {Count} updates is handled one by one after {ErrorType}")]
    private static partial void LogGroupFallback(ILogger logger, int count, string errorType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Processing:Enabled is false: this replica stores updates but handles none")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming updates failed ({Error}); retrying in {DelayMs} ms")]
    private static partial void LogClaimFailed(ILogger logger, string error, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease on update {UpdateId} was lost before it finished; another worker handles it")]
    private static partial void LogLeaseLost(ILogger logger, long updateId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Update {UpdateId} ({Kind}) failed on attempt {Attempt}: {Error}")]
    private static partial void LogFailed(ILogger logger, long updateId, string kind, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Update {UpdateId} ({Kind}) dead-lettered after {Attempt} attempts: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, long updateId, string kind, int attempt, string error, Exception? exception);
}
