using Bot.Coordination;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Bot.Telemetry;
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
    NpgsqlDataSource dataSource, Texts texts, OutboxNudge nudge, LeadershipState term, JoinMetrics metrics, TimeProvider time, ILogger<JoinDeadlineSweeper> logger) : ILeaderSingleton
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
        foreach (var request in due)
        {
            var reason = request.Unreachable ? JoinReason.Unreachable : JoinReason.Timeout;
            await JoinDecisions.DecideAsync(db, outbox, request.Id, approve: false, reason, cancellationToken);
            var check = await JoinDecisions.TakeCheckAsync(state, request.UserChatId, request.UserId, request.Id, cancellationToken);
            if (!request.Unreachable && check is not null)
            {
                var text = texts.Format(check.Language, "JoinGate.timeout", ("chat", check.Chat));
                await outbox.EnqueueAsync(new SendMessageRequest { ChatId = request.UserChatId, Text = text }, request.UserChatId, cancellationToken: cancellationToken);
            }

            LogDeclined(logger, request.Id, request.ChatId, request.UserId, reason);
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var request in due)
        {
            metrics.Decided(approved: false, request.Unreachable ? JoinReason.Unreachable : JoinReason.Timeout);
        }

        if (due.Count > 0)
        {
            nudge.Nudge();
        }

        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} to chat {ChatId} from user {UserId}: declined ({Reason})")]
    private static partial void LogDeclined(ILogger logger, long requestId, long chatId, long userId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping overdue join requests failed: {Error}")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
