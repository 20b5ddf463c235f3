namespace Bot.Coordination;

/// <summary>
/// Work that exactly one replica may do at a time (the sender, the purge, getUpdates). It runs while this
/// replica leads; the token is cancelled the moment leadership is lost or the process stops.
/// </summary>
public interface ILeaderSingleton
{
    string Name { get; }

    Task RunAsync(CancellationToken leadership);
}

/// <summary>Work a leader does once as its term begins (registering something with Telegram), retried until it succeeds.</summary>
public static class OncePerTerm
{
    /// <summary>
    /// Runs <paramref name="work"/> until it succeeds, waiting 5 s after the first failure and twice as long after each
    /// further one (at most 10 minutes), then holds until the term ends, so the job ends only with the leadership.
    /// </summary>
    public static async Task RunAsync(Func<CancellationToken, Task> work, Action<Exception, TimeSpan> failed, TimeProvider time, CancellationToken leadership)
    {
        for (var delay = TimeSpan.FromSeconds(5); !leadership.IsCancellationRequested; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMinutes(10).Ticks)))
        {
            try
            {
                await work(leadership);
                await Task.Delay(Timeout.InfiniteTimeSpan, time, leadership);
                return;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !leadership.IsCancellationRequested)
            {
                failed(exception, delay);
            }

            await Task.Delay(delay, time, leadership).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

