using Npgsql;

namespace Bot.Storage;

/// <summary>
/// Where reads that tolerate replication lag run: the counts (/stats, GET /admin/stats), the admin API's lists and
/// the admin API's audience count. Never a read that decides a write: those run on the primary, in the writer's
/// transaction. With <c>Database:ReadConnectionString</c> unset everything runs on the primary. With it set (a
/// standby, CloudNativePG's <c>-ro</c> service, or a multi-host string with <c>Target Session Attributes=prefer-standby</c>
/// that Npgsql resolves itself), a read that finds the standby unreachable runs again on the primary, and the
/// standby is left alone for <c>Database:ReadRetrySeconds</c>; a read cancelled by a conflict with the standby's
/// recovery runs again on the primary too.
/// </summary>
public sealed partial class ReadReplica(NpgsqlDataSource primary, NpgsqlDataSource? standby, TimeSpan retryAfter, TimeProvider time, ILogger<ReadReplica> logger)
    : IAsyncDisposable
{
    private const long NotAvoided = long.MinValue;

    // A monotonic timestamp: a step of the wall clock neither shortens nor lengthens the wait.
    private long avoidUntil = NotAvoided;

    /// <summary>True when a standby is configured (whether or not it answers now).</summary>
    public bool HasStandby => standby is not null;

    /// <summary>True while reads go to the primary because the standby did not answer.</summary>
    public bool StandbyAvoided => standby is not null && time.GetTimestamp() < Interlocked.Read(ref avoidUntil);

    public async Task<T> ReadAsync<T>(Func<Db, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        if (standby is not null && !StandbyAvoided)
        {
            try
            {
                var result = await read(Db.Of(standby), cancellationToken);
                if (Interlocked.Exchange(ref avoidUntil, NotAvoided) != NotAvoided)
                {
                    LogStandbyBack(logger);
                }

                return result;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && IsRecoveryConflict(exception))
            {
                LogRecoveryConflict(logger);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && Database.IsUnavailable(exception))
            {
                Interlocked.Exchange(ref avoidUntil, time.GetTimestamp() + (long)(retryAfter.TotalSeconds * time.TimestampFrequency));
                LogStandbyUnavailable(logger, exception.Message, (int)retryAfter.TotalSeconds);
            }
        }

        return await read(Db.Of(primary), cancellationToken);
    }

    /// <summary>40001 on a standby: the statement was cancelled because replay had to remove rows it could still see.</summary>
    private static bool IsRecoveryConflict(Exception exception) => exception is PostgresException { SqlState: "40001" };

    /// <summary>The standby's pool is this object's; the primary's belongs to the container.</summary>
    public ValueTask DisposeAsync() => standby?.DisposeAsync() ?? ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read standby unavailable ({Error}); lag-tolerant reads go to the primary for {Seconds} s")]
    private static partial void LogStandbyUnavailable(ILogger logger, string error, int seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read standby answers again; lag-tolerant reads go to it")]
    private static partial void LogStandbyBack(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A read on the standby conflicted with its recovery; read on the primary")]
    private static partial void LogRecoveryConflict(ILogger logger);
}
