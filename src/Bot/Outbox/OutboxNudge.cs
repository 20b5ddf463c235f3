using Bot.Coordination;
using Bot.Storage;
using Npgsql;

namespace Bot.Outbox;

/// <summary>
/// Tells the sender that rows were queued: at once when it runs in this process, and through one NOTIFY
/// at most every few milliseconds for a leader elsewhere. The NOTIFY goes in a transaction of its own
/// that writes nothing, so it costs no WAL flush and never holds a handler's commit. While this replica leads,
/// no NOTIFY is sent: it would only come back to this replica's own listener and wake its sender a second time.
/// (Should leadership move just then, the new leader's sender reads every pending row when it starts.)
/// </summary>
public sealed partial class OutboxNudge(
    NpgsqlDataSource dataSource, WorkSignals signals, LeadershipState leadership, TimeProvider time, ILogger<OutboxNudge> logger)
{
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(10);
    private int scheduled;

    public void Nudge()
    {
        signals.Outbox.Set();
        if (!leadership.IsLeader && Interlocked.Exchange(ref scheduled, 1) == 0)
        {
            _ = NotifySoonAsync();
        }
    }

    private async Task NotifySoonAsync()
    {
        try
        {
            await Task.Delay(Coalesce, time);
            Volatile.Write(ref scheduled, 0);
            await using var command = dataSource.CreateCommand("SELECT pg_notify('bot_outbox', '')");
            await command.ExecuteNonQueryAsync();
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            // The sender polls as well; a lost nudge only delays it by its poll interval.
            Volatile.Write(ref scheduled, 0);
            LogNudgeFailed(logger, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox nudge failed: {Error}")]
    private static partial void LogNudgeFailed(ILogger logger, string error);
}
