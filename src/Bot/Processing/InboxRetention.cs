using Bot.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>The inbox's purge statements, in <see cref="Retention"/>'s batch shape.</summary>
public static class InboxRetention
{
    /// <summary>Handled updates (done) finished before the retention. Through inbox_finished_at.</summary>
    public static readonly string DoneUpdatesSql = FinishedSql("done");

    /// <summary>
    /// Dead-lettered updates that died before their own retention, through inbox_dead. A dead row is never a chat's
    /// head, so deleting it needs no change to inbox_heads; one requeued meanwhile is pending again and the state
    /// test keeps it.
    /// </summary>
    public static readonly string DeadUpdatesSql = FinishedSql("dead");

    /// <summary>The batch of finished updates in <paramref name="state"/>, oldest first (the state is tested again on delete).</summary>
    private static string FinishedSql(string state) =>
        $"""
        WITH gone AS (
            DELETE FROM inbox
            WHERE update_id = ANY (ARRAY(
                SELECT update_id FROM inbox
                WHERE state = '{state}' AND processed_at < now() - make_interval(secs => $1) AND processed_at >= $2
                ORDER BY processed_at
                LIMIT $3))
              AND state = '{state}'
            RETURNING processed_at
        )
        SELECT count(*)::int, max(processed_at) FROM gone
        """;
}

/// <summary>Handled updates past Processing:RetentionHours (at least Telegram's 24-hour redelivery window).</summary>
public sealed class HandledUpdatesPurge(IOptions<ProcessingOptions> options) : BatchedPurgeRule
{
    public override string What => "handled updates";

    protected override string Sql => InboxRetention.DoneUpdatesSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromHours(options.Value.RetentionHours);
}

/// <summary>Dead-lettered updates past Processing:DeadLetterRetentionDays (unless requeued meanwhile).</summary>
public sealed class DeadUpdatesPurge(IOptions<ProcessingOptions> options) : BatchedPurgeRule
{
    public override string What => "dead-lettered updates";

    protected override string Sql => InboxRetention.DeadUpdatesSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(options.Value.DeadLetterRetentionDays);
}

/// <summary>Conversation state past its expiry.</summary>
public sealed class ExpiredStatePurge : IPurgeRule
{
    public string What => "expired conversation states";

    public Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Retention.RepeatAsync(() => ConversationState.PurgeExpiredAsync(dataSource, Retention.BatchSize, cancellationToken), cancellationToken);
}

/// <summary>Updates waiting and dead-lettered, for /stats and the admin API.</summary>
public sealed class InboxCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } =
    [
        new("inboxPending", "SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')"),
        new("inboxDead", "SELECT count(*) FROM inbox WHERE state = 'dead'"),
    ];
}
