using Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Coordination;

public static class CoordinationExtensions
{
    /// <summary>
    /// The leader election and its lock: a Lease in a cluster (Auto detects one by its service environment), the
    /// PostgreSQL lock elsewhere. The jobs it runs are the <see cref="ILeaderSingleton"/>s the other modules register.
    /// </summary>
    public static IHostApplicationBuilder AddCoordination(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CoordinationOptions>().BindConfiguration(CoordinationOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<CoordinationOptions>, CoordinationOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<CoordinationOptions>, LeaderElectionModeValidator>();

        var coordination = builder.Configuration.GetSection(CoordinationOptions.Section).Get<CoordinationOptions>() ?? new CoordinationOptions();
        if (coordination.Mode == LeaderElectionMode.Kubernetes || (coordination.Mode == LeaderElectionMode.Auto && CoordinationOptions.InCluster))
        {
            builder.Services.AddSingleton<ILeaderLock, KubernetesLeaseLock>().AddClosedLogger<KubernetesLeaseLock>();
        }
        else
        {
            builder.Services.AddSingleton<ILeaderLock, PostgresLeaderLock>();
        }

        builder.Services.AddSingleton<LeadershipState>();
        builder.Services.AddHostedServiceAfterListening<LeaderElection>().AddClosedLogger<LeaderElection>();
        return builder;
    }
}
