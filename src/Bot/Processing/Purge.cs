using Bot.Coordination;
using Bot.Storage;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// The leader's purge, when a replica takes the lead and every 10 minutes after: every <see cref="IPurgeRule"/> the
/// modules and features registered (handled and dead updates, sent messages, join decisions, expired conversation
/// state, flood windows, idempotency keys), one after the other. A rule that fails is logged and the next still runs.
/// </summary>
public sealed partial class Purge(NpgsqlDataSource dataSource, IEnumerable<IPurgeRule> rules, TimeProvider time, ILogger<Purge> logger) : ILeaderSingleton
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private readonly IPurgeRule[] rules = rules.ToArray();

    public string Name => "purge";

    public async Task RunAsync(CancellationToken leadership)
    {
        while (!leadership.IsCancellationRequested)
        {
            foreach (var rule in rules)
            {
                try
                {
                    var deleted = await rule.PurgeAsync(dataSource, leadership);
                    if (deleted > 0)
                    {
                        LogPurged(logger, deleted, rule.What);
                    }
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                {
                    LogPurgeFailed(logger, rule.What, exception.Message);
                }
            }

            await Task.Delay(Interval, time, leadership);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} {What} past their retention")]
    private static partial void LogPurged(ILogger logger, int count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purge of {What} failed ({Error}); retrying later")]
    private static partial void LogPurgeFailed(ILogger logger, string what, string error);
}
