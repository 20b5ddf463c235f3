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
/// The leader's broadcast expander. For each running broadcast it puts the next chunk of active subscribers into the
/// outbox (bulk priority) and moves the persisted cursor in the same transaction, only when the previous chunk is
/// nearly sent, so a crash or a deploy resumes where it stopped and no recipient gets two rows. It counts the
/// outcomes from the outbox, edits the status message every few seconds, and ends the broadcast when every row
/// has been settled.
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
                var active = await BroadcastStore.ActiveAsync(Db.Of(dataSource), leadership);
                reportRunning(active.Count(b => b.State == BroadcastState.Running));
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

    private async Task StepAsync(ActiveBroadcast broadcast, long epoch, CancellationToken cancellationToken)
    {
        if (broadcast.State == BroadcastState.Running && !broadcast.Expanded && await ExpandAsync(broadcast.Id, epoch, cancellationToken) > 0)
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
        var text = BroadcastStatus.Format(texts, language, broadcast.Id, state, progress, elapsed);
        var final = state != BroadcastState.Running;
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
        var queued = await outbox.EnqueueAsync(new EditMessageTextRequest { ChatId = chatId, MessageId = messageId, Text = text }, chatId, cancellationToken: cancellationToken);
        await BroadcastStore.SaveStatusAsync(db, broadcast.Id, text, messageId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        lastEdits[broadcast.Id] = (time.GetUtcNow(), queued);
        nudge.Nudge();
        if (final)
        {
            lastEdits.Remove(broadcast.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Broadcast step failed ({Error}); retrying")]
    private static partial void LogStepFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Broadcast {Id} {State}: {Sent} sent, {Failed} failed, {Blocked} blocked")]
    private static partial void LogFinished(ILogger logger, long id, string state, int sent, int failed, int blocked);
}
