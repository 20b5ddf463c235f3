using Bot.Hosting;
using Bot.Storage;
using Microsoft.Extensions.Options;

namespace Bot.Processing;

public static class ProcessingExtensions
{
    /// <summary>
    /// The workers every replica runs (claims, the router over the features' handlers, the notification listener),
    /// the leader's purge with the inbox's own purge rules, and the inbox's counts.
    /// </summary>
    public static IHostApplicationBuilder AddProcessing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProcessingOptions>().BindConfiguration(ProcessingOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<ProcessingOptions>, ProcessingOptionsValidator>();
        builder.Services.AddSingleton<InboxClaims>();
        builder.Services.AddSingleton<UpdateRouter>();
        builder.Services.AddSingleton<FaultInjection>().AddClosedLogger<FaultInjection>();
        builder.Services.AddHostedServiceAfterListening<NotificationListener>().AddClosedLogger<NotificationListener>();
        builder.Services.AddHostedServiceAfterListening<InboxWorker>().AddClosedLogger<InboxWorker>();

        builder.Services.AddSingleton<Coordination.ILeaderSingleton, Purge>().AddClosedLogger<Purge>();
        builder.Services.AddSingleton<IPurgeRule, HandledUpdatesPurge>();
        builder.Services.AddSingleton<IPurgeRule, DeadUpdatesPurge>();
        builder.Services.AddSingleton<IPurgeRule, ExpiredStatePurge>();
        builder.Services.AddSingleton<ICountSource, InboxCounts>();
        return builder;
    }
}
