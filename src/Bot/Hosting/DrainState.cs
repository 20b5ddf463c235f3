namespace Bot.Hosting;

/// <summary>Set once the process starts shutting down; readiness fails from then on.</summary>
public sealed class DrainState
{
    private volatile bool draining;

    public bool IsDraining => draining;

    public void Begin() => draining = true;
}

/// <summary>
/// On SIGTERM, before the server stops taking requests: fail readiness and wait, so that the endpoints
/// controller and the ingress stop routing here while in-flight and late requests are still served.
/// </summary>
public sealed partial class ShutdownDrain(
    DrainState state, Microsoft.Extensions.Options.IOptions<ShutdownOptions> options, ILogger<ShutdownDrain> logger,
    TimeProvider time) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.Begin();
        var delay = TimeSpan.FromSeconds(options.Value.DrainDelaySeconds);
        LogDraining(logger, delay.TotalSeconds);
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout won; carry on stopping.
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: readiness fails, draining for {Seconds} s")]
    private static partial void LogDraining(ILogger logger, double seconds);
}
