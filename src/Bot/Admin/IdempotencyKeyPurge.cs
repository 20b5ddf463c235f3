using Bot.Coordination;
using Npgsql;

namespace Bot.Admin;

/// <summary>Deletes idempotency keys past their 24 hours, once an hour, on the leader.</summary>
public sealed partial class IdempotencyKeyPurge(NpgsqlDataSource dataSource, TimeProvider time, ILogger<IdempotencyKeyPurge> logger) : ILeaderSingleton
{
    private const int Batch = 5000;

    public string Name => "admin-idempotency-purge";

    public async Task RunAsync(CancellationToken leadership)
    {
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                while (await IdempotencyKeys.PurgeAsync(dataSource, Batch, leadership) == Batch && !leadership.IsCancellationRequested)
                {
                }
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogPurgeFailed(logger, exception.Message);
            }

            await Task.Delay(TimeSpan.FromHours(1), time, leadership);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idempotency key purge failed ({Error}); retrying later")]
    private static partial void LogPurgeFailed(ILogger logger, string error);
}
