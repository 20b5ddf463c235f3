using Npgsql;
using Microsoft.Extensions.Options;

namespace Bot.Coordination;

/// <summary>Whether this replica leads now; read by readiness and telemetry.</summary>
public sealed class LeadershipState : IDisposable
{
    private volatile bool isLeader;
    private long epoch;
    private volatile CancellationTokenSource lost = new();

    public bool IsLeader => isLeader;

    /// <summary>The epoch of this replica's current (or last) term; see <see cref="LeaderEpochs"/>.</summary>
    public long Epoch => Interlocked.Read(ref epoch);

    internal void Set(bool value) => isLeader = value;

    /// <summary>
    /// Cancelled when the current term ends because the lock was lost (not when the process stops): what cannot be
    /// allowed to outlive the term, such as a Bot API call in flight, stops then; at a graceful stop it may finish.
    /// </summary>
    public CancellationToken TermLost => lost.Token;

    internal void Begin(long term)
    {
        // The previous term's source is left to the collector: calls of that term may still hold its token.
        lost = new CancellationTokenSource();
        Interlocked.Exchange(ref epoch, term);
        isLeader = true;
    }

    internal void Lose() => lost.Cancel();

    /// <summary>Whether the lock is confirmed now (see <see cref="ILeaderLock.IsConfirmed"/>); false when not leading.</summary>
    public bool IsConfirmed => isLeader && confirmed?.Invoke() == true;

    internal Func<bool>? confirmed;

    public void Dispose() => lost.Dispose();
}

/// <summary>
/// Competes for the leader lock and, while holding it, runs every <see cref="ILeaderSingleton"/>. When the
/// lock is lost the singletons' token is cancelled at once; at shutdown the lock is released after they
/// stop, so a successor starts without waiting for a lease to run out.
/// </summary>
public sealed partial class LeaderElection(
    ILeaderLock leaderLock, IEnumerable<ILeaderSingleton> singletons, LeadershipState state, NpgsqlDataSource dataSource,
    IOptions<CoordinationOptions> options, TimeProvider time, ILogger<LeaderElection> logger) : BackgroundService
{
    private readonly ILeaderSingleton[] singletons = singletons.ToArray();
    private readonly string holder = $"{Environment.MachineName}:{Environment.ProcessId}";

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

            long epoch;
            try
            {
                // The new term's epoch is written before any singleton runs, so that from here on the previous
                // leader's writes are refused, whether or not it knows yet that it lost.
                epoch = await LeaderEpochs.BeginTermAsync(dataSource, holder, stoppingToken);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogEpochFailed(logger, exception.Message);
                await leaderLock.ReleaseAsync();
                await Task.Delay(retry, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }

            state.confirmed = () => leaderLock.IsConfirmed;
            state.Begin(epoch);
            LogLeading(logger, singletons.Length, epoch);
            using var leadership = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var runs = singletons.Select(s => RunSingletonAsync(s, leadership.Token)).ToList();
            await leaderLock.WaitUntilLostAsync(stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            state.Set(false);
            if (!stoppingToken.IsCancellationRequested)
            {
                state.Lose();
            }

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
                LogSingletonFailed(logger, singleton.Name, exception.GetType().Name, exception.Message, exception);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, leadership).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This replica leads: running {Count} singletons (epoch {Epoch})")]
    private static partial void LogLeading(ILogger logger, int count, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start a leadership term ({Error}); giving the lock back and retrying")]
    private static partial void LogEpochFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership lost: singletons stopped")]
    private static partial void LogLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Singleton {Name} failed ({ErrorType}: {Error}); restarting")]
    private static partial void LogSingletonFailed(ILogger logger, string name, string errorType, string error, Exception exception);
}
