using Bot.Coordination;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Bot.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.JoinGate;

/// <summary>
/// The leader's deadline sweep: join requests whose check went unanswered past the deadline are declined, the
/// decline and a message saying so queued in the same transaction. A requester the bot cannot write to (blocked
/// it, so the check never arrived) is declined the same way with the reason "unreachable" and no message.
/// Rows are taken with SKIP LOCKED, so a sweep and an answer arriving at the deadline cannot both decide
/// (<see cref="JoinDecisions.LockDueAsync"/>).
/// </summary>
public sealed partial class JoinDeadlineSweeper(
    NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, LeadershipState term, JoinMetrics metrics, IOptionsMonitor<JoinGateOptions> gateOptions,
    TimeProvider time, ILogger<JoinDeadlineSweeper> logger) : ILeaderSingleton
{
    private const int Batch = 200;
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(2);

    public string Name => "join-deadlines";

    public async Task RunAsync(CancellationToken leadership)
    {
        var epoch = term.Epoch;
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                // A full batch means more may be due: go again at once.
                while (await SweepAsync(epoch, leadership) == Batch)
                {
                }

                while (await ClearChecksAsync(epoch, leadership) == Batch)
                {
                }
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException && !leadership.IsCancellationRequested)
            {
                LogSweepFailed(logger, exception.Message);
            }

            await Task.Delay(Tick, time, leadership).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Declines one batch of overdue requests; returns how many. Only while <paramref name="epoch"/> is the current
    /// term: a leader that stalled past its lease declines nothing its successor may be deciding.
    /// </summary>
    public async Task<int> SweepAsync(long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        var due = await JoinDecisions.LockDueAsync(db, Batch, epoch, cancellationToken);
        var outbox = new OutboxWriter(connection, transaction, sourceUpdateId: null);
        var state = new ConversationState(connection, transaction);
        // Each chat's settings read once per batch.
        var gates = new Dictionary<long, ChatGate>();
        async Task<ChatGate> GateOf(long chatId) =>
            gates.TryGetValue(chatId, out var gate) ? gate : gates[chatId] = await GateSettings.GetAsync(db, chatId, gateOptions.CurrentValue, cancellationToken);

        foreach (var request in due)
        {
            var reason = request.Held ? JoinReason.Raid : request.Unreachable ? JoinReason.Unreachable : JoinReason.Timeout;
            var decision = await JoinDecisions.DecideAsync(db, outbox, request.Id, approve: false, reason, cancellationToken);
            // A check sent before checks kept their wording in join_requests has it in the conversation state.
            var legacy = await JoinDecisions.TakeCheckAsync(state, request.UserChatId, request.UserId, request.Id, cancellationToken);
            var title = request.ChatTitle ?? legacy?.Chat ?? request.ChatId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var language = request.Language ?? legacy?.Language ?? Texts.English;
            if (decision is null)
            {
                continue;
            }

            // The user is told in private when the check was there; a check in the group is deleted (ClearChecksAsync).
            var inPrivate = legacy is not null || !await JoinDecisions.HasGroupCheckAsync(db, request.Id, cancellationToken);
            if (!request.Unreachable && inPrivate && JoinGateHandler.OutcomeText(texts, language, decision, title) is { } text)
            {
                await outbox.EnqueueAsync(new SendMessageRequest { ChatId = request.UserChatId, Text = text }, request.UserChatId, cancellationToken: cancellationToken);
            }

            await GateLog.DecisionAsync(outbox, texts, await GateOf(request.ChatId), decision, title, cancellationToken);
            LogDeclined(logger, request.Id, request.ChatId, request.UserId, reason);
        }

        // Raids that are over: their admins hear so once (what was held is declined above, from now on).
        foreach (var chatId in await GateRaids.TakeEndedAsync(db, epoch, cancellationToken))
        {
            await GateLog.LineAsync(outbox, await GateOf(chatId), texts.Format(Texts.English, "JoinGate.log_raid_ended", ("chat", chatId)), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var request in due)
        {
            metrics.Decided(approved: false, request.Held ? JoinReason.Raid : request.Unreachable ? JoinReason.Unreachable : JoinReason.Timeout);
        }

        if (due.Count > 0)
        {
            nudge.Nudge();
        }

        return due.Count;
    }

    /// <summary>
    /// Deletes the group checks of decided requests once their message has gone out (one batch; returns how many were
    /// taken), only while <paramref name="epoch"/> leads. A check whose send failed, or whose row was purged, is dropped.
    /// </summary>
    public async Task<int> ClearChecksAsync(long epoch, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var checks = await JoinDecisions.ClearableChecksAsync(Db.In(connection, transaction), Batch, epoch, cancellationToken);
        var outbox = new OutboxWriter(connection, transaction, sourceUpdateId: null);
        foreach (var (chatId, result) in checks)
        {
            if (result is not null && OutboxResults.MessageId(result) is { } messageId)
            {
                await outbox.EnqueueAsync(new DeleteMessageRequest { ChatId = chatId, MessageId = messageId }, chatId, cancellationToken: cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        if (checks.Count > 0)
        {
            nudge.Nudge();
        }

        return checks.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: declined ({Reason})")]
    private static partial void LogDeclined(ILogger logger, long requestId, long chatId, long userId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping overdue join requests failed: {Error}")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
