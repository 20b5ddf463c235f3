using Bot.Coordination;
using Npgsql;

namespace Bot.Telemetry;

/// <summary>
/// On the leader, reads the inbox lag and the queue depths every few seconds for the observable gauges: one
/// small query on partial indexes instead of one per scrape and per replica.
/// </summary>
public sealed partial class QueueSampler(NpgsqlDataSource dataSource, QueueSnapshot snapshot, TimeProvider time, ILogger<QueueSampler> logger) : ILeaderSingleton
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    // The oldest unfinished update is the oldest chat head (inbox_heads), reached by primary key; not
    // min(received_at), which would read every unfinished row: ids grow with arrival, so the two agree but for
    // retried stragglers.
    private const string Sql =
        """
        SELECT
            coalesce(extract(epoch FROM now() - (
                SELECT received_at FROM inbox WHERE update_id = (SELECT min(update_id) FROM inbox_heads))), 0)::float8,
            (SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')),
            (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending') AND priority = 0),
            (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending') AND priority <> 0)
        """;

    public string Name => "queue-sampler";

    public async Task RunAsync(CancellationToken leadership)
    {
        try
        {
            while (!leadership.IsCancellationRequested)
            {
                try
                {
                    snapshot.Set(await SampleAsync(leadership));
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                {
                    LogSampleFailed(logger, exception.Message);
                }

                await Task.Delay(Interval, time, leadership);
            }
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested)
        {
        }
        finally
        {
            snapshot.Clear();
        }
    }

    public async Task<QueueSnapshot.Sample> SampleAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new QueueSnapshot.Sample(time.GetUtcNow(), reader.GetDouble(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the queue figures for the metrics failed: {Error}")]
    private static partial void LogSampleFailed(ILogger logger, string error);
}
