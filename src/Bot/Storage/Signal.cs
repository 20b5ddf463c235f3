namespace Bot.Storage;

/// <summary>An auto-reset wake-up: any number of Set calls before a wait wake it once.</summary>
public sealed class Signal : IDisposable
{
    private readonly SemaphoreSlim semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            semaphore.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already set.
        }
    }

    /// <summary>Waits for a Set or the timeout, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => semaphore.Dispose();
}

/// <summary>The wake-ups PostgreSQL's notifications feed (Processing/NotificationListener.cs): new inbox rows, new outbox rows.</summary>
public sealed class WorkSignals : IDisposable
{
    public Signal Inbox { get; } = new();

    public Signal Outbox { get; } = new();

    public void Dispose()
    {
        Inbox.Dispose();
        Outbox.Dispose();
    }
}
