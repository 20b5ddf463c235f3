using Microsoft.Extensions.Options;

namespace Bot.Coordination;

/// <summary>Whether this replica leads now; read by readiness and telemetry.</summary>
public sealed class LeadershipState
{
    private volatile bool isLeader;

    public bool IsLeader => isLeader;

    internal void Set(bool value) => isLeader = value;
}

/// <summary>
/// Competes for the leader lock and, while holding it, runs every <see cref="ILeaderSingleton"/>. When the
/// lock is lost the singletons' token is cancelled at once; at shutdown the lock is released after they
/// stop, so a successor starts without waiting for a lease to run out.
/// </summary>
public sealed partial class LeaderElection(
    ILeaderLock leaderLock, IEnumerable<ILeaderSingleton> singletons, LeadershipState state,
    IOptions<CoordinationOptions> options, TimeProvider time, ILogger<LeaderElection> logger) : BackgroundService
{
    private readonly ILeaderSingleton[] singletons = singletons.ToArray();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = TimeSpan.FromSeconds(options.Value.RetrySeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await leaderLock.TryAcquireAsync(stoppingToken))
            {
                await Task.Delay(retry, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            state.Set(true);
            LogLeading(logger, singletons.Length);
            using var leadership = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var runs = singletons.Select(s => RunSingletonAsync(s, leadership.Token)).ToList();
            await leaderLock.WaitUntilLostAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            state.Set(false);
            await leadership.CancelAsync();
            await Task.WhenAll(runs);
            await leaderLock.ReleaseAsync();
            if (!stoppingToken.IsCancellationRequested)
            {
                LogLost(logger);
            }
        }
    }

    /// <summary>Keeps a singleton running for as long as this replica leads, restarting it after a crash.</summary>
    private async Task RunSingletonAsync(ILeaderSingleton singleton, CancellationToken leadership)
    {
        await Task.Yield();
        while (!leadership.IsCancellationRequested)
        {
            try
            {
                await singleton.RunAsync(leadership);
            }
            catch (OperationCanceledException) when (leadership.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogSingletonFailed(logger, singleton.Name, exception.GetType().Name, exception.Message);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, leadership).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This replica leads: running {Count} singletons")]
    private static partial void LogLeading(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership lost: singletons stopped")]
    private static partial void LogLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Singleton {Name} failed ({ErrorType}: {Error}); restarting")]
    private static partial void LogSingletonFailed(ILogger logger, string name, string errorType, string error);
}
