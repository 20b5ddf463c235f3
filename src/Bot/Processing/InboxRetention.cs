using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>Handled updates past Processing:RetentionHours (at least Telegram's 24-hour redelivery window).</summary>
public sealed class HandledUpdatesPurge(IOptions<ProcessingOptions> options) : BatchedPurgeRule
{
    public override string What => "handled updates";

    protected override string Sql => Retention.DoneUpdatesSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromHours(options.Value.RetentionHours);
}

/// <summary>Dead-lettered updates past Processing:DeadLetterRetentionDays (unless requeued meanwhile).</summary>
public sealed class DeadUpdatesPurge(IOptions<ProcessingOptions> options) : BatchedPurgeRule
{
    public override string What => "dead-lettered updates";

    protected override string Sql => Retention.DeadUpdatesSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(options.Value.DeadLetterRetentionDays);
}

/// <summary>Conversation state past its expiry.</summary>
public sealed class ExpiredStatePurge : IPurgeRule
{
    public string What => "expired conversation states";

    public Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Purge.RepeatAsync(() => ConversationState.PurgeExpiredAsync(dataSource, Purge.BatchSize, cancellationToken), cancellationToken);
}

/// <summary>Updates waiting and dead-lettered, for /stats and the admin API.</summary>
public sealed class InboxCounts : Bot.Storage.ICountSource
{
    public IReadOnlyList<Bot.Storage.Count> Counts { get; } =
    [
        new("inboxPending", "SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')"),
        new("inboxDead", "SELECT count(*) FROM inbox WHERE state = 'dead'"),
    ];
}
