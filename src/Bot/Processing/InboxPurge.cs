using Bot.Coordination;
using Bot.Features;
using Bot.Outbox;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// The leader's purge, when a replica takes the lead and every 10 minutes after: handled updates past
/// Processing:RetentionHours (at least Telegram's 24-hour redelivery window), dead-lettered updates past
/// Processing:DeadLetterRetentionDays, sent and dead outbox messages past Outbox:RetentionHours (except those a
/// running or recently ended broadcast still reads), join decisions past Bot:JoinDecisionRetentionDays, expired
/// conversation state and old flood-control windows. Batches of 5000 rows, each its own statement and commit, and at
/// most <see cref="MaxBatches"/> of them per table and pass, so a large backlog is worked off over several passes.
/// </summary>
public sealed partial class InboxPurge(
    NpgsqlDataSource dataSource, IOptions<ProcessingOptions> processing, IOptions<OutboxOptions> outbox, IOptions<CommunityOptions> community,
    TimeProvider time, ILogger<InboxPurge> logger) : ILeaderSingleton
{
    public const int BatchSize = 5000;
    public const int MaxBatches = 100;
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    public string Name => "purge";

    public async Task RunAsync(CancellationToken leadership)
    {
        var purges = new (string What, string Sql, TimeSpan Retention)[]
        {
            ("handled updates", Retention.DoneUpdatesSql, TimeSpan.FromHours(processing.Value.RetentionHours)),
            ("dead-lettered updates", Retention.DeadUpdatesSql, TimeSpan.FromDays(processing.Value.DeadLetterRetentionDays)),
            ("sent and dead outbox messages", Retention.OutboxSql, TimeSpan.FromHours(outbox.Value.RetentionHours)),
            ("join decisions", Retention.JoinDecisionsSql, TimeSpan.FromDays(community.Value.JoinDecisionRetentionDays)),
        };
        while (!leadership.IsCancellationRequested)
        {
            foreach (var (what, sql, retention) in purges)
            {
                await PurgeAsync(what, async () =>
                {
                    var (total, from) = (0, Retention.Start);
                    for (var batch = 0; batch < MaxBatches && !leadership.IsCancellationRequested; batch++)
                    {
                        var (deleted, last) = await Retention.RunBatchAsync(dataSource, sql, retention, from, BatchSize, leadership);
                        total += deleted;
                        if (deleted < BatchSize || last is null)
                        {
                            break;
                        }

                        from = last.Value;
                    }

                    return total;
                });
            }

            // Conversation state past its expiry, and flood-control windows long over.
            await PurgeAsync("expired conversation states", async () =>
            {
                var total = 0;
                for (var batch = 0; batch < MaxBatches && !leadership.IsCancellationRequested; batch++)
                {
                    var deleted = await ConversationState.PurgeExpiredAsync(dataSource, BatchSize, leadership);
                    total += deleted;
                    if (deleted < BatchSize)
                    {
                        break;
                    }
                }

                return total;
            });
            await PurgeAsync("flood-control windows", async () =>
            {
                await using var floods = dataSource.CreateCommand("DELETE FROM flood_windows WHERE window_start < now() - interval '1 day'");
                return await floods.ExecuteNonQueryAsync(leadership);
            });

            await Task.Delay(Interval, time, leadership);
        }
    }

    /// <summary>One table's purge; a failure is logged and the next table's still runs.</summary>
    private async Task PurgeAsync(string what, Func<Task<int>> purge)
    {
        try
        {
            var deleted = await purge();
            if (deleted > 0)
            {
                LogPurged(logger, deleted, what);
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            LogPurgeFailed(logger, what, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} {What} past their retention")]
    private static partial void LogPurged(ILogger logger, int count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purge of {What} failed ({Error}); retrying later")]
    private static partial void LogPurgeFailed(ILogger logger, string what, string error);
}
