using System.Text.Json;
using Bot.Coordination;
using Bot.Features.Subscriptions;
using Bot.Outbox;
using Bot.Storage;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.Broadcasts;

/// <summary>
/// The leader's broadcast runner. It starts what the schedule says is due (each time exactly once). For each broadcast
/// going out it puts the next chunk of its audience into the outbox (bulk priority) with a delivery record per
/// recipient, and moves the persisted cursor in the same transaction, only when the previous chunk is nearly sent,
/// so a crash, a deploy or a pause resumes where it stopped and no recipient gets it twice. It copies the outcomes
/// back into the records, runs edit and withdraw jobs over the delivered copies, edits the status message every few
/// seconds, and ends the broadcast when every record is settled. Broadcasts of the previous release ('running') are
/// expanded and counted from the outbox as that release did.
/// </summary>
public sealed partial class BroadcastRunner(
    NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, IOptions<BroadcastOptions> options, LeadershipState term, BroadcastMetrics metrics,
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
            await LoopAsync(count => metrics.Active(count - Interlocked.Exchange(ref running, count)), leadership);
        }
        finally
        {
            // Off the leader nothing is sent: this replica reports none.
            metrics.Active(-Interlocked.Exchange(ref running, 0));
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
                await FireDueAsync(epoch, leadership);
                var active = await BroadcastStore.ActiveAsync(Db.Of(dataSource), leadership);
                reportRunning(active.Count(b => BroadcastState.IsGoingOut(b.State)));
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

    /// <summary>Starts the broadcasts whose time has come; a recurring template's run gets a status message of its own.</summary>
    private async Task FireDueAsync(long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        var fired = await BroadcastStore.FireDueAsync(db, epoch, TimeSpan.FromSeconds(options.MissedAfterSeconds), cancellationToken);
        if (fired.Count == 0)
        {
            return;
        }

        var outbox = new OutboxWriter(connection, transaction, null);
        foreach (var run in fired.Where(f => f.ParentId is not null && f.State == BroadcastState.Sending))
        {
            if (await db.FirstAsync("SELECT status_chat_id, language FROM broadcasts WHERE id = $1 AND status_chat_id IS NOT NULL",
                    reader => Tuple.Create(reader.GetInt64(0), reader.StringOrNull(1) ?? Texts.English), cancellationToken, Sql.Arg(run.Id)) is { } status)
            {
                var (chat, language) = status;
                var queued = await outbox.EnqueueAsync(
                    new SendMessageRequest { ChatId = chat, Text = BroadcastStatus.Starting(texts, language, run.Id) }, chat, cancellationToken: cancellationToken);
                await BroadcastStore.SetStatusOutboxAsync(db, run.Id, queued, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var run in fired)
        {
            LogFired(logger, run.Id, run.State, run.At);
        }

        nudge.Nudge();
    }

    private async Task StepAsync(ActiveBroadcast broadcast, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.State != BroadcastState.Running)
        {
            await StepDeliveriesAsync(broadcast, epoch, cancellationToken);
            return;
        }

        if (!broadcast.Expanded && await ExpandAsync(broadcast.Id, epoch, cancellationToken) > 0)
        {
            nudge.Nudge();
        }

        // Count, store the counts, and finish the broadcast once it is fully expanded and nothing is left to send.
        if (await BroadcastStore.CountAsync(Db.Of(dataSource), broadcast.Id, cancellationToken) is not { } count)
        {
            return;
        }

        ReportProgress("sent", count.NewSent);
        ReportProgress("failed", count.NewFailed);
        ReportProgress("blocked", count.NewBlocked);
        if (count.State != BroadcastState.Running && broadcast.State == BroadcastState.Running)
        {
            LogFinished(logger, broadcast.Id, count.State, count.Progress.Sent, count.Progress.Failed, count.Progress.Blocked);
        }

        await ShowStatusAsync(broadcast, count.State, count.Progress, count.Elapsed, epoch, cancellationToken);
    }

    /// <summary>A step of a broadcast of this release: expand, sync the records, finish, run its job, show the status.</summary>
    private async Task StepDeliveriesAsync(ActiveBroadcast broadcast, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.State == BroadcastState.Sending && await ExpandDeliveriesAsync(broadcast.Id, epoch, cancellationToken) > 0)
        {
            nudge.Nudge();
        }

        var synced = await BroadcastDeliveries.SyncAsync(Db.Of(dataSource), broadcast.Id, cancellationToken);
        ReportProgress("sent", synced.Sent);
        ReportProgress("failed", synced.Failed);
        ReportProgress("blocked", synced.Blocked);
        if (broadcast.State == BroadcastState.Sending && await BroadcastDeliveries.FinishAsync(Db.Of(dataSource), broadcast.Id, cancellationToken))
        {
            LogFinishedRun(logger, broadcast.Id);
        }

        if (broadcast.JobState == "running")
        {
            if (await ExpandJobAsync(broadcast.Id, epoch, cancellationToken) > 0)
            {
                nudge.Nudge();
            }

            if (await BroadcastDeliveries.SyncJobAsync(Db.Of(dataSource), broadcast.Id, cancellationToken))
            {
                LogJobFinished(logger, broadcast.Id, broadcast.Job ?? "job");
            }
        }

        if (broadcast.StatusChatId is null || broadcast.StatusOutboxId is null
            || await BroadcastStore.ProgressAsync(Db.Of(dataSource), broadcast.Id, countRemaining: ShouldShow(broadcast), cancellationToken) is not { } count)
        {
            return;
        }

        // Read again: this step may have paused it (the budget), finished it or ended its job.
        var now = (await BroadcastStore.ActiveAsync(Db.Of(dataSource), cancellationToken, broadcast.Id)).FirstOrDefault() ?? broadcast;
        await ShowStatusAsync(now with { State = count.State }, count.State, count.Progress, count.Elapsed, epoch, cancellationToken);
    }

    private bool ShouldShow(ActiveBroadcast broadcast) =>
        !lastEdits.TryGetValue(broadcast.Id, out var last) || time.GetUtcNow() - last.At >= TimeSpan.FromSeconds(options.StatusIntervalSeconds);

    /// <summary>
    /// Queues the next chunk of a sending broadcast if the last one is nearly sent: first what a pause withdrew, then
    /// the audience after the cursor (a paid broadcast up to its budget, where it pauses). Returns how many were queued.
    /// Nothing happens unless <paramref name="epoch"/> is the current term.
    /// </summary>
    internal async Task<int> ExpandDeliveriesAsync(long id, long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (await BroadcastDeliveries.LockAsync(db, id, epoch, cancellationToken) is not { } point || point.DueUnsent >= options.ChunkSize / 2 || point.Expanded)
        {
            return 0;
        }

        var variants = await BroadcastDeliveries.VariantsAsync(db, id, cancellationToken);
        if (variants.Count == 0)
        {
            variants = [await db.FirstAsync("SELECT from_chat_id, message_id FROM broadcasts WHERE id = $1",
                reader => new Variant("", reader.GetInt64(0), [reader.GetInt32(1)], false), cancellationToken, Sql.Arg(id)) ?? throw new InvalidOperationException($"broadcast {id} is gone")];
        }

        var withdrawn = await BroadcastDeliveries.WithdrawnAsync(db, id, point, options.ChunkSize, cancellationToken);
        if (withdrawn.Count > 0)
        {
            await BroadcastDeliveries.QueueAsync(db, id, [.. withdrawn.Select(w => Call(variants, w.UserId, w.Language, w.NotBefore, point.AllowPaid))],
                point.AllowPaid, job: false, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return withdrawn.Count;
        }

        var limit = point.Budget is { } budget ? Math.Min(options.ChunkSize, budget - point.Recipients) : options.ChunkSize;
        if (limit <= 0)
        {
            if (await BroadcastDeliveries.AnyAfterAsync(db, point, cancellationToken))
            {
                await BroadcastDeliveries.PauseAsync(db, id, "budget", cancellationToken);
                LogBudgetReached(logger, id, point.Recipients);
            }
            else
            {
                await BroadcastDeliveries.AdvanceAsync(db, id, point.Cursor, 0, expanded: true, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return 0;
        }

        var next = await BroadcastDeliveries.NextRecipientsAsync(db, point, limit, cancellationToken);
        var picked = next.Select(r => (r.UserId, Language: BroadcastDeliveries.Pick(variants, r.Language, Texts.English).Language, r.NotBefore)).ToList();
        var added = await BroadcastDeliveries.RecordAsync(db, id, [.. picked.Select(p => (p.UserId, p.Language))], cancellationToken);
        var calls = picked.Where(p => added.Contains(p.UserId)).Select(p => Call(variants, p.UserId, p.Language, p.NotBefore, point.AllowPaid)).ToList();
        if (calls.Count > 0)
        {
            await BroadcastDeliveries.QueueAsync(db, id, calls, point.AllowPaid, job: false, cancellationToken);
        }

        await BroadcastDeliveries.AdvanceAsync(db, id, next.Count > 0 ? next[^1].UserId : point.Cursor, added.Count, expanded: next.Count < limit, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return calls.Count;
    }

    private static (long ChatId, string Method, string Payload, DateTimeOffset NotBefore) Call(
        List<Variant> variants, long userId, string language, DateTimeOffset notBefore, bool paid)
    {
        var (method, payload) = BroadcastDeliveries.Copy(BroadcastDeliveries.Pick(variants, language, Texts.English), userId, paid);
        return (userId, method, payload, notBefore);
    }

    /// <summary>Queues the next chunk of an edit or withdraw job over the delivered copies, if the last one is nearly done.</summary>
    internal async Task<int> ExpandJobAsync(long id, long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (await BroadcastDeliveries.LockJobAsync(db, id, epoch, cancellationToken) is not { } job || job.Unsent >= options.ChunkSize / 2)
        {
            return 0;
        }

        var copies = await BroadcastDeliveries.DeliveredAfterAsync(db, id, job, options.ChunkSize, cancellationToken);
        var calls = copies.Select(c =>
        {
            var (method, payload) = BroadcastDeliveries.JobCall(job, c.UserId, c.MessageIds);
            return (c.UserId, method, payload, DateTimeOffset.UnixEpoch);
        }).ToList();
        if (calls.Count > 0)
        {
            await BroadcastDeliveries.QueueAsync(db, id, calls, paid: false, job: true, cancellationToken);
        }

        await BroadcastDeliveries.AdvanceJobAsync(db, id, copies.Count > 0 ? copies[^1].UserId : job.Cursor, expanded: copies.Count < options.ChunkSize, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return calls.Count;
    }

    private void ReportProgress(string outcome, int delta)
    {
        if (delta > 0)
        {
            metrics.Messages(outcome, delta);
        }
    }

    /// <summary>
    /// Puts the next chunk of recipients into the outbox if the last one is nearly sent; returns how many. Nothing
    /// happens unless <paramref name="epoch"/> is the current term (<see cref="BroadcastStore.LockForExpansionAsync"/>).
    /// </summary>
    internal async Task<int> ExpandAsync(long id, long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (await BroadcastStore.LockForExpansionAsync(db, id, epoch, cancellationToken) is not { } point || point.Unsent >= options.ChunkSize / 2)
        {
            return 0;
        }

        var recipients = await Subscribers.ActiveAfterAsync(db, point.Cursor, options.ChunkSize, cancellationToken);
        await BroadcastStore.AddChunkAsync(db, id, point, recipients, last: recipients.Count < options.ChunkSize, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return recipients.Count;
    }

    /// <summary>Edits the status message when its text changed, at most every few seconds, one edit in flight at a time.</summary>
    private async Task ShowStatusAsync(
        ActiveBroadcast broadcast, string state, BroadcastStatus.Progress progress, TimeSpan elapsed, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.StatusChatId is not { } chatId || broadcast.StatusOutboxId is not { } statusOutboxId)
        {
            return;
        }

        var language = broadcast.Language ?? Texts.English;
        var text = BroadcastStatus.Format(texts, language, broadcast.Id, state, progress, elapsed) + BroadcastStatus.Details(texts, language, broadcast);
        var markup = BroadcastStatus.Buttons(texts, language, broadcast);
        var final = !BroadcastState.IsGoingOut(state) && broadcast.JobState != "running";
        if (text == broadcast.StatusText
            || (!final && lastEdits.TryGetValue(broadcast.Id, out var last) && time.GetUtcNow() - last.At < TimeSpan.FromSeconds(options.StatusIntervalSeconds)))
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        var previous = lastEdits.TryGetValue(broadcast.Id, out var edit) ? edit.OutboxId : 0;
        var status = await BroadcastStore.StatusAsync(db, statusOutboxId, previous, epoch, cancellationToken);
        // Not sent yet (no message to edit), the last edit still waiting to go out, or this term is over.
        if (status is not (string result, false, true) || OutboxResults.MessageId(result) is not { } messageId)
        {
            return;
        }

        var outbox = new OutboxWriter(connection, transaction, null);
        var queued = await outbox.EnqueueAsync(
            new EditMessageTextRequest { ChatId = chatId, MessageId = messageId, Text = text, ReplyMarkup = markup }, chatId, cancellationToken: cancellationToken);
        await BroadcastStore.SaveStatusAsync(db, broadcast.Id, text, messageId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        lastEdits[broadcast.Id] = (time.GetUtcNow(), queued);
        nudge.Nudge();
        if (final)
        {
            lastEdits.Remove(broadcast.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id} {State} at its time {At}")]
    private static partial void LogFired(ILogger logger, long id, string state, DateTimeOffset at);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id} done: every recipient's delivery is settled")]
    private static partial void LogFinishedRun(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id}: its {Job} job is done")]
    private static partial void LogJobFinished(ILogger logger, long id, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcast {Id} paused at its budget of {Recipients} recipients")]
    private static partial void LogBudgetReached(ILogger logger, long id, int recipients);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcast step failed ({Error}); retrying")]
    private static partial void LogStepFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id} {State}: {Sent} sent, {Failed} failed, {Blocked} blocked")]
    private static partial void LogFinished(ILogger logger, long id, string state, int sent, int failed, int blocked);
}
