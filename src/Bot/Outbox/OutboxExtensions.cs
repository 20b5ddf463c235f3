using Bot.Hosting;
using Bot.Coordination;
using Bot.Storage;
using Microsoft.Extensions.Options;

namespace Bot.Outbox;

public static class OutboxExtensions
{
    /// <summary>The outbox: the leader's sender and its settings, the nudge, the purge of sent messages and its count.</summary>
    public static IHostApplicationBuilder AddOutbox(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SenderOptions>().BindConfiguration(SenderOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<SenderOptions>, SenderOptionsValidator>();
        builder.Services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        builder.Services.AddSingleton<OutboxNudge>().AddClosedLogger<OutboxNudge>();
        builder.Services.AddSingleton<ILeaderSingleton, OutboxSender>().AddClosedLogger<OutboxSender>();
        builder.Services.AddSingleton<IPurgeRule, OutboxPurge>();
        builder.Services.AddSingleton<ICountSource, OutboxCounts>();
        return builder;
    }
}
