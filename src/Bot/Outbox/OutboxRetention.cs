using Microsoft.Extensions.Options;
using Bot.Storage;

namespace Bot.Outbox;

/// <summary>
/// Outbox rows a feature still reads after they were sent (a broadcast counts its messages' outcomes from the
/// outbox while it runs): a SQL condition over the outbox row <c>o</c>, true for rows the purge must keep;
/// <c>$1</c> is the retention in seconds.
/// </summary>
public interface IOutboxRetentionHold
{
    string KeepCondition { get; }
}

/// <summary>
/// Sent and dead messages settled before Outbox:RetentionHours, through outbox_finished_at, except the rows a feature
/// holds (<see cref="IOutboxRetentionHold"/>).
/// </summary>
public sealed class OutboxPurge(IOptions<OutboxOptions> options, IEnumerable<IOutboxRetentionHold> holds) : BatchedPurgeRule
{
    public override string What => "sent and dead outbox messages";

    protected override string Sql { get; } = BatchSql(holds);

    protected override TimeSpan RetentionPeriod => TimeSpan.FromHours(options.Value.RetentionHours);

    /// <summary>The batch statement (<see cref="Retention"/>'s shape) with the holds' conditions.</summary>
    public static string BatchSql(IEnumerable<IOutboxRetentionHold> holds)
    {
        var kept = string.Concat(holds.Select(h => $"\n          AND NOT coalesce(({h.KeepCondition}), false)"));
        return $"""
            WITH gone AS (
                DELETE FROM outbox
                WHERE id = ANY (ARRAY(
                    SELECT o.id FROM outbox o
                    WHERE o.state IN ('sent', 'dead') AND o.sent_at < now() - make_interval(secs => $1) AND o.sent_at >= $2{kept}
                    ORDER BY o.sent_at
                    LIMIT $3))
                  AND state IN ('sent', 'dead')
                RETURNING sent_at
            )
            SELECT count(*)::int, max(sent_at) FROM gone
            """;
    }
}

/// <summary>Messages still waiting to be sent, for /stats and the admin API.</summary>
public sealed class OutboxCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } = [new("outboxPending", "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')")];
}

/// <summary>
/// Chats the bot cannot write to (unreachable_chats: a 403 from Telegram), recorded by the sender; talking to the bot
/// again makes a user reachable.
/// </summary>
public static class UnreachableChats
{
    /// <summary>A SQL condition: the chat whose id is <paramref name="chatIdColumn"/> is unreachable.</summary>
    public static string Contains(string chatIdColumn) => $"EXISTS (SELECT 1 FROM unreachable_chats u WHERE u.chat_id = {chatIdColumn})";

    public static Task ClearAsync(Db db, long chatId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM unreachable_chats WHERE chat_id = $1", cancellationToken, Sql.Arg(chatId));
}
