using Bot.Coordination;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>Deletes finished inbox rows past the retention (at least Telegram's 24-hour redelivery window).</summary>
public sealed partial class InboxPurge(InboxClaims claims, IOptions<ProcessingOptions> options, TimeProvider time, ILogger<InboxPurge> logger) : ILeaderSingleton
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
