using Bot.Coordination;
using Bot.Features.Broadcasts;
using Bot.Features.Flags;
using Bot.Features.FloodControl;
using Bot.Features.Help;
using Bot.Features.JoinGate;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Microsoft.Extensions.Options;

namespace Bot.Features;

public static class FeatureExtensions
{
    /// <summary>The features' handlers, in order of precedence: the first that takes an update handles it.</summary>
    public static IHostApplicationBuilder AddFeatures(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CommunityOptions>().BindConfiguration(CommunityOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CommunityOptions>, CommunityOptionsAttributesValidator>();
        builder.Services.AddSingleton<IValidateOptions<CommunityOptions>, CommunityOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<CommunityOptions>, FeatureFlagsValidator>();
        builder.Services.AddSingleton<FeatureFlags>();
        builder.Services.AddSingleton<Texts>();
        builder.Services.AddOptions<BroadcastOptions>().BindConfiguration(BroadcastOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BroadcastOptions>, BroadcastOptionsValidator>();
        // Leader singletons of the features (run by the leader election registered in AddLeaderSingletons).
        builder.Services.AddSingleton<ILeaderSingleton, BroadcastRunner>();
        builder.Services.AddSingleton<ILeaderSingleton, JoinDeadlineSweeper>();

        // Flood control first: a flooding user's updates go no further.
        builder.Services.AddSingleton<IUpdateHandler, FloodControlHandler>();
        builder.Services.AddSingleton<IUpdateHandler, JoinGateHandler>();
        builder.Services.AddSingleton<IUpdateHandler, BroadcastHandler>();
        builder.Services.AddSingleton<IUpdateHandler, SubscriptionHandler>();
        builder.Services.AddSingleton<IUpdateHandler, HelpHandler>();
        return builder;
    }
}
