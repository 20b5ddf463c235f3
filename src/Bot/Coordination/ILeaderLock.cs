namespace Bot.Coordination;

/// <summary>A lock only one replica holds at a time.</summary>
public interface ILeaderLock : IAsyncDisposable
{
    /// <summary>Takes the lock if it is free; true when this replica now holds it.</summary>
    Task<bool> TryAcquireAsync(CancellationToken cancellationToken);

    /// <summary>Completes when the held lock is lost (connection gone, lease taken) or the token is cancelled.</summary>
    Task WaitUntilLostAsync(CancellationToken cancellationToken);

    /// <summary>Gives the lock up so another replica takes over at once.</summary>
    Task ReleaseAsync();

    /// <summary>
    /// Whether the lock was confirmed recently enough that no other replica can hold it yet, on this replica's
    /// monotonic clock. A leader that resumes from a stall reads false here before its loop notices the loss, and
    /// must not make calls that only the leader may make.
    /// </summary>
    bool IsConfirmed { get; }
}
