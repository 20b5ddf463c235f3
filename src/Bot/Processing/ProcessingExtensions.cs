using Bot.Coordination;
using Bot.Features;
using Bot.Outbox;
using Bot.Telegram;
using Microsoft.Extensions.Options;

namespace Bot.Processing;

public static class ProcessingExtensions
{
    /// <summary>Workers on every replica; the feature handlers they route to, in order of precedence.</summary>
    public static IHostApplicationBuilder AddProcessing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProcessingOptions>().BindConfiguration(ProcessingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProcessingOptions>, ProcessingOptionsValidator>();
        builder.Services.AddSingleton<WorkSignals>();
        builder.Services.AddSingleton<InboxClaims>();
        builder.Services.AddSingleton<OutboxNudge>();
        builder.Services.AddSingleton<UpdateRouter>();
        builder.Services.AddSingleton<FaultInjection>();
        builder.AddFeatures();
        builder.Services.AddTelegramClients();
        builder.Services.AddHostedService<NotificationListener>();
        builder.Services.AddHostedService<InboxWorker>();
        return builder;
    }

    /// <summary>The leader's singletons: the sender, the purge and, in polling mode, getUpdates.</summary>
    public static IHostApplicationBuilder AddLeaderSingletons(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SenderOptions>().BindConfiguration(SenderOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SenderOptions>, SenderOptionsValidator>();
        builder.Services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        builder.Services.AddOptions<CoordinationOptions>().BindConfiguration(CoordinationOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CoordinationOptions>, CoordinationOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<CoordinationOptions>, LeaderElectionModeValidator>();

        builder.Services.AddSingleton<ILeaderSingleton, OutboxSender>();
        builder.Services.AddSingleton<ILeaderSingleton, InboxPurge>();
        if (builder.Configuration.GetSection(TelegramOptions.Section).Get<TelegramOptions>()?.Mode == UpdateMode.Polling)
        {
            builder.Services.AddSingleton<ILeaderSingleton, UpdatePoller>();
        }

        // A Lease in a cluster (Auto detects one by its service environment), the PostgreSQL lock elsewhere.
        var coordination = builder.Configuration.GetSection(CoordinationOptions.Section).Get<CoordinationOptions>() ?? new CoordinationOptions();
        var inCluster = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
        if (coordination.Mode == LeaderElectionMode.Kubernetes || (coordination.Mode == LeaderElectionMode.Auto && inCluster))
        {
            builder.Services.AddSingleton<ILeaderLock, KubernetesLeaseLock>();
        }
        else
        {
            builder.Services.AddSingleton<ILeaderLock, PostgresLeaderLock>();
        }
        builder.Services.AddSingleton<LeadershipState>();
        builder.Services.AddHostedService<LeaderElection>();
        return builder;
    }
}
