using Bot.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// Holds one connection that LISTENs for the inbox and outbox triggers and turns notifications into
/// wake-ups. Reconnects with a backoff; the workers' polling covers any notification missed meanwhile.
/// </summary>
public sealed partial class NotificationListener(
    IOptions<DatabaseOptions> options, WorkSignals signals, ILogger<NotificationListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        await using var sessions = Database.CreateSessionDataSource(Database.BuildSessionConnectionString(options.Value, keepAliveSeconds: 10));

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = sessions.CreateConnection();
                connection.Notification += (_, e) => (e.Channel == "bot_outbox" ? signals.Outbox : signals.Inbox).Set();
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand("LISTEN bot_inbox; LISTEN bot_outbox", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever arrived while we were not listening.
                signals.Inbox.Set();
                signals.Outbox.Set();
                delay = TimeSpan.FromMilliseconds(250);
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or IOException or TimeoutException)
            {
                LogListenerDown(logger, exception.Message, delay.TotalSeconds);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 10));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification listener lost its connection ({Error}); retrying in {Seconds} s")]
    private static partial void LogListenerDown(ILogger logger, string error, double seconds);
}
