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
