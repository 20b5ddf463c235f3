using System.Diagnostics.CodeAnalysis;

namespace Bot.Hosting;

/// <summary>
/// Makes and starts <typeparamref name="T"/> once the host has started, that is once the ports listen, instead of before
/// the server starts. The workers and the leader election are not what readiness reports, and made before the server
/// they put their whole object graphs (the handlers, the Telegram clients with their resilience pipelines, the leader's
/// jobs) and their first database round trips in front of the first request. Stopping stops
/// <typeparamref name="T"/> first; a failure of its background task is this service's, so the host's rule for a
/// failed background service (stop the host) applies unchanged.
/// </summary>
public sealed class StartedAfterListening<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
    IServiceProvider services, IHostApplicationLifetime lifetime) : BackgroundService
    where T : class, IHostedService
{
    private readonly object gate = new();
    private T? started;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hostStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => hostStarted.TrySetResult()))
        using (stoppingToken.Register(() => hostStarted.TrySetCanceled(stoppingToken)))
        {
            await hostStarted.Task;
        }

        var service = services.GetRequiredService<T>();
        lock (gate)
        {
            stoppingToken.ThrowIfCancellationRequested();
            started = service;
        }

        await service.StartAsync(stoppingToken);
        if (service is BackgroundService { ExecuteTask: { } running })
        {
            await running;
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        T? service;
        lock (gate)
        {
            service = started;
        }

        if (service is not null)
        {
            await service.StopAsync(cancellationToken);
        }

        await base.StopAsync(cancellationToken);
    }
}

public static class StartedAfterListeningExtensions
{
    /// <summary>A hosted service made and started once the ports listen (<see cref="StartedAfterListening{T}"/>).</summary>
    public static IServiceCollection AddHostedServiceAfterListening<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        this IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddSingleton<IHostedService>(sp => new StartedAfterListening<T>(sp, sp.GetRequiredService<IHostApplicationLifetime>()));
        return services;
    }
}
