using System.Collections.Concurrent;
using Bot.Coordination;
using Bot.Hosting;
using Bot.Telegram;
using Bot.Telemetry;
using Bot.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Outbox;

/// <summary>
/// Drains the outbox on the leader: each chat's oldest unfinished message, interactive before bulk, within
/// Telegram's limits (<see cref="SendLimiter"/>). A row is marked 'sending' before its call and settled after
/// it, so a crash can repeat only the one call that was in flight (delivery is at least once). What a failure
/// means is decided by <see cref="SendOutcomes"/>, with the features' <see cref="ISendOutcomeRules"/>; the rows'
/// SQL is <see cref="OutboxQueue"/>'s.
/// </summary>
public sealed partial class OutboxSender(
    NpgsqlDataSource dataSource, TelegramClients telegram, WorkSignals signals, IOptions<SenderOptions> options,
    IEnumerable<ISendOutcomeRules> outcomeRules, IEnumerable<IUnreachableChatHook> unreachableHooks,
    SecretRedactor redactor, BotMetrics metrics, LeadershipState term, TimeProvider time, ILogger<OutboxSender> logger) : ILeaderSingleton
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    // Finished calls arrive in bursts; reading the heads once per burst, not once per call, keeps the
    // sender's queries from growing with its throughput.
    private static readonly TimeSpan MinFetchInterval = TimeSpan.FromMilliseconds(5);
    private readonly SenderOptions options = options.Value;
    private readonly ISendOutcomeRules[] outcomeRules = [.. outcomeRules];
    private readonly IUnreachableChatHook[] unreachableHooks = [.. unreachableHooks];

    public string Name => "sender";

    public async Task RunAsync(CancellationToken leadership)
    {
        // Every row this term takes is stamped with its epoch, and settled only while the epoch is still current.
        var queue = new OutboxQueue(dataSource, term.Epoch, unreachableHooks, time, logger);
        var limiter = new SendLimiter(options, time);
        // Before anything is reset: the groups' calls of the last minute count against their 20 a minute here too.
        await queue.SeedGroupWindowsAsync(limiter, SendLimiter.GroupWindow(options), leadership);
        // Calls the previous leader had in flight have an unknown outcome: send them again. Its settles of them,
        // should it still be running, are refused from here on (their epoch is no longer current).
        await queue.ResetInFlightAsync(leadership);
        var lastFetch = DateTimeOffset.MinValue;
        var inFlight = new Dictionary<long, Task>();
        var outcomes = new ConcurrentQueue<SendOutcome>();
        // One wake-up for new rows and finished calls alike: waiting on two at once would leave a stale waiter
        // that swallows the next wake-up.
        var completed = signals.Outbox;
        var sent = new SentRecorder(queue);
        var recording = sent.RunAsync(leadership);
        try
        {
            // The previous leader's last calls (this replica's own, after leadership was lost and regained) may
            // have reached Telegram within the last second, and this limiter has no record of them: resending
            // at once broke the per-chat limit in the chaos drill (tests/Load/chaos). One window passes first.
            // A group's 60 s window is seeded from the outbox instead (OutboxQueue.SeedGroupWindowsAsync).
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
                // Paid and unpaid calls have overall windows of their own: either kind is taken while its window has
                // room, however full the other's is.
                var free = options.MaxInFlight - inFlight.Count;
                var unpaid = Math.Min(free, limiter.Capacity(paid: false));
                var paid = Math.Min(free, limiter.Capacity(paid: true));
                var capacity = Math.Max(unpaid, paid);
                if (capacity > 0 && time.GetUtcNow() - lastFetch >= MinFetchInterval)
                {
                    lastFetch = time.GetUtcNow();
                    // Chats with a call in flight or a full window are left out and the round is cut to what the
                    // overall limit allows, so what is taken can (almost always) be sent at once.
                    var waiting = limiter.Waiting(out var earliestFree);
                    wake = Earliest(wake, earliestFree);
                    waiting.AddRange(inFlight.Keys);
                    var taken = await queue.TakeHeadsAsync(waiting.ToArray(), unpaid, paid, free, leadership);
                    var released = new List<long>();
                    foreach (var row in taken)
                    {
                        if (limiter.TryAcquire(row.ChatId, row.Paid) is { } ticket)
                        {
                            inFlight[row.ChatId] = SendAsync(row, ticket, queue, outcomes, completed, sent, leadership);
                        }
                        else
                        {
                            released.Add(row.Id);
                            wake = Earliest(wake, limiter.NextAllowed(row.ChatId, row.Paid));
                        }
                    }

                    if (released.Count > 0)
                    {
                        // Rare: the round is sized to the limits.
                        await queue.ReleaseAsync(released.ToArray(), leadership);
                    }
                }
                else if (capacity > 0)
                {
                    wake = MinFetchInterval - (time.GetUtcNow() - lastFetch);
                }
                else if (inFlight.Count < options.MaxInFlight)
                {
                    // Both overall limits are full: each frees when a completed call leaves its window.
                    wake = Earliest(Earliest(wake, limiter.NextAllowedOverall(paid: false)), limiter.NextAllowedOverall(paid: true));
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

    /// <summary>This replica still leads, in the term that took the row, as of now.</summary>
    private bool MaySend(long epoch) => term.Epoch == epoch && term.IsConfirmed;

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
        OutboxRow row, SendTicket ticket, OutboxQueue queue, ConcurrentQueue<SendOutcome> outcomes, Signal completed, SentRecorder sent, CancellationToken leadership)
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
                // The same question is asked again at the socket, before each write of the call (SendFence): a
                // stall between here and the write sends nothing either.
                if (!MaySend(queue.Epoch))
                {
                    await queue.ReleaseAsync([row.Id], CancellationToken.None);
                    return;
                }

                SendFence.Set(() => MaySend(queue.Epoch));
                var result = await OutboxCodec.SendAsync(telegram.Sender, row.Method, row.Payload, lost);
                settlement = Settlement.Sent(result);
            }
            catch (Exception exception) when (SendFence.Refused(exception))
            {
                // Nothing was written: the call did not reach Telegram. The row is this term's no longer.
                await queue.ReleaseAsync([row.Id], CancellationToken.None);
                return;
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
                : queue.SettleAsync(row, settlement, leadership));
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested || lost.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogSendLoopError(logger, row.Id, exception.GetType().Name, redactor.Redact(exception.Message), exception);
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

    private bool RefusalIsNotTheChats(string method) => outcomeRules.Any(rules => rules.RefusalIsNotTheChats(method));

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram answered 429: pausing sends for {Seconds} s")]
    private static partial void LogRateLimited(ILogger logger, int seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Bot API refuses the bot's credentials or address: {Error}")]
    private static partial void LogConfigurationProblem(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sending outbox row {Id} failed unexpectedly: {ErrorType}: {Error}")]
    private static partial void LogSendLoopError(ILogger logger, long id, string errorType, string error, Exception exception);

    private sealed record SendOutcome(SendTicket Ticket, DateTimeOffset CompletedAt, TimeSpan? Pause);
}
