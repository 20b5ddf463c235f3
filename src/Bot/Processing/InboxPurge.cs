using Bot.Coordination;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// Deletes finished inbox rows past the retention (at least Telegram's 24-hour redelivery window), expired
/// conversation state and old flood-control windows.
/// </summary>
public sealed partial class InboxPurge(
    InboxClaims claims, NpgsqlDataSource dataSource, IOptions<ProcessingOptions> options, TimeProvider time, ILogger<InboxPurge> logger) : ILeaderSingleton
{
    public string Name => "inbox-purge";

    public async Task RunAsync(CancellationToken leadership)
    {
        var retention = TimeSpan.FromHours(options.Value.RetentionHours);
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                int deleted, total = 0;
                do
                {
                    deleted = await claims.PurgeAsync(retention, 5000, leadership);
                    total += deleted;
                }
                while (deleted == 5000 && !leadership.IsCancellationRequested);

                if (total > 0)
                {
                    LogPurged(logger, total);
                }

                // Conversation state past its expiry, and flood-control windows long over.
                while (await ConversationState.PurgeExpiredAsync(dataSource, 5000, leadership) == 5000 && !leadership.IsCancellationRequested)
                {
                }

                await using var floods = dataSource.CreateCommand("DELETE FROM flood_windows WHERE window_start < now() - interval '1 day'");
                await floods.ExecuteNonQueryAsync(leadership);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogPurgeFailed(logger, exception.Message);
            }

            await Task.Delay(TimeSpan.FromMinutes(10), time, leadership);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} finished inbox rows")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inbox purge failed ({Error}); retrying later")]
    private static partial void LogPurgeFailed(ILogger logger, string error);
}
