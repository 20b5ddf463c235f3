using Bot.Coordination;
using Npgsql;

namespace Bot.Processing;

/// <summary>Rows of one table that the leader's purge deletes once they are past their retention.</summary>
public interface IPurgeRule
{
    /// <summary>What the rows are, for the log ("handled updates").</summary>
    string What { get; }

    /// <summary>Deletes what is due, in batches of its own; returns how many rows went.</summary>
    Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken);
}

/// <summary>
/// A purge rule in batches (<see cref="Retention"/>): a statement that deletes at most <see cref="Purge.BatchSize"/> rows
/// finished before the retention and from a point on, run until a batch comes back short or
/// <see cref="Purge.MaxBatches"/> batches have run, each its own statement and commit; a large backlog is worked off
/// over several passes.
/// </summary>
public abstract class BatchedPurgeRule : IPurgeRule
{
    public abstract string What { get; }

    /// <summary>The batch statement: $1 the retention in seconds, $2 where to start, $3 the batch size (see <see cref="Retention"/>).</summary>
    protected abstract string Sql { get; }

    protected abstract TimeSpan RetentionPeriod { get; }

    public async Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var (total, from) = (0, Retention.Start);
        for (var batch = 0; batch < Purge.MaxBatches && !cancellationToken.IsCancellationRequested; batch++)
        {
            var (deleted, last) = await Retention.RunBatchAsync(dataSource, Sql, RetentionPeriod, from, Purge.BatchSize, cancellationToken);
            total += deleted;
            if (deleted < Purge.BatchSize || last is null)
            {
                break;
            }

            from = last.Value;
        }

        return total;
    }
}

/// <summary>
/// The leader's purge, when a replica takes the lead and every 10 minutes after: every <see cref="IPurgeRule"/> the
/// modules and features registered (handled and dead updates, sent messages, join decisions, expired conversation
/// state, flood windows, idempotency keys), one after the other. A rule that fails is logged and the next still runs.
/// </summary>
public sealed partial class Purge(NpgsqlDataSource dataSource, IEnumerable<IPurgeRule> rules, TimeProvider time, ILogger<Purge> logger) : ILeaderSingleton
{
    public const int BatchSize = 5000;
    public const int MaxBatches = 100;
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private readonly IPurgeRule[] rules = rules.ToArray();

    public string Name => "purge";

    /// <summary>
    /// Runs <paramref name="batch"/> (a delete of at most <see cref="BatchSize"/> rows, returning how many went) until one
    /// comes back short or <see cref="MaxBatches"/> have run; returns the total.
    /// </summary>
    public static async Task<int> RepeatAsync(Func<Task<int>> batch, CancellationToken cancellationToken)
    {
        var total = 0;
        for (var n = 0; n < MaxBatches && !cancellationToken.IsCancellationRequested; n++)
        {
            var deleted = await batch();
            total += deleted;
            if (deleted < BatchSize)
            {
                break;
            }
        }

        return total;
    }

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
