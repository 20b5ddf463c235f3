using Bot.Hosting;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization.Metadata;
using Bot.Admin;
using Bot.Coordination;
using Bot.Processing;
using Bot.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bot.Features;

/// <summary>
/// A feature of the bot: one folder under <c>Features/</c>, added by one line of the feature list
/// (<see cref="BotApplication.Features"/>). It declares what it contributes in <see cref="Register"/>: its handlers,
/// leader jobs, purge rules, counts, admin API routes, options and hooks into the pipeline; and its commands in
/// <see cref="Commands"/>. Its texts are its folder's <c>messages.&lt;language&gt;.json</c> ("Name.key"), its flag is
/// <c>FeatureFlags:Name</c> (if it has one), and its tables' new migrations go in its folder's <c>Migrations/</c>.
/// The pipeline calls these contributions and names no feature.
/// </summary>
public interface IFeature
{
    /// <summary>Its folder's name: the prefix of its texts and the name of its flag.</summary>
    string Name { get; }

    /// <summary>The commands it answers, for /help and Telegram's command menu.</summary>
    IReadOnlyList<CommandSpec> Commands => [];

    void Register(FeatureBuilder feature);
}

/// <summary>What a feature may contribute. Every call registers the type once; handlers keep the order of the calls.</summary>
public sealed class FeatureBuilder(IHostApplicationBuilder host, IFeature feature)
{
    public string Name => feature.Name;

    public IServiceCollection Services => host.Services;

    public IConfiguration Configuration => host.Configuration;

    /// <summary>
    /// Options bound by <paramref name="bind"/> (<c>o =&gt; o.BindConfiguration(Section)</c>, at the call site, where the
    /// configuration binder's source generator sees the type) and validated at start by <typeparamref name="TValidator"/>.
    /// </summary>
    public FeatureBuilder Options<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TValidator>(
        Func<OptionsBuilder<TOptions>, OptionsBuilder<TOptions>> bind)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        bind(Services.AddOptions<TOptions>()).ValidateOnStart().Closed();
        Services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return this;
    }

    /// <summary>A further start-up check of <typeparamref name="TOptions"/> (rules across settings).</summary>
    public FeatureBuilder Validator<TOptions, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TValidator>()
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        Services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return this;
    }

    /// <summary>A service of the feature's own (a store, its instruments), one instance for the process.</summary>
    public FeatureBuilder Service<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class
    {
        Services.TryAddSingleton<T>();
        Services.AddClosedLogger<T>();
        return this;
    }

    /// <summary>
    /// An update handler. The router offers each update to the handlers in the order of the feature list, and within a
    /// feature in the order of these calls; the first that takes it handles it.
    /// </summary>
    public FeatureBuilder Handler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class, IUpdateHandler => Contribute<IUpdateHandler, T>();

    /// <summary>A job that runs on the leader only (<see cref="ILeaderSingleton"/>).</summary>
    public FeatureBuilder LeaderJob<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class, ILeaderSingleton => Contribute<ILeaderSingleton, T>();

    /// <summary>Routes it serves on the public port (<see cref="IPublicRoutes"/>).</summary>
    public FeatureBuilder PublicRoutes<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class, IPublicRoutes => Contribute<IPublicRoutes, T>();

    /// <summary>Rows of its tables that the leader's purge deletes past their retention.</summary>
    public FeatureBuilder Purge<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class, IPurgeRule => Contribute<IPurgeRule, T>();

    /// <summary>Counts it reports in /stats and GET /admin/stats.</summary>
    public FeatureBuilder Counts<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>() where T : class, ICountSource => Contribute<ICountSource, T>();

    /// <summary>Routes it adds to the admin API (mapped inside its authorized route groups).</summary>
    public FeatureBuilder AdminApi<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>(IJsonTypeInfoResolver json) where T : class, IAdminRoutes =>
        Json(json).Contribute<IAdminRoutes, T>();

    /// <summary>The request and response types of routes it maps elsewhere (the Mini App's), for the source-generated JSON of the minimal API.</summary>
    public FeatureBuilder Json(IJsonTypeInfoResolver json)
    {
        Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(json));
        return this;
    }

    /// <summary>
    /// An implementation of one of the pipeline's hooks (<see cref="IRunsAlone"/>, <c>Outbox.ISendOutcomeRules</c>,
    /// <c>Outbox.IUnreachableChatHook</c>, <c>Outbox.IOutboxRetentionHold</c>, <c>MiniApp.IMiniAppRoutes</c>, <c>MiniApp.IMiniAppChats</c>): registered once, however many hooks it implements.
    /// </summary>
    public FeatureBuilder Hook<THook, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>()
        where THook : class
        where T : class, THook => Contribute<THook, T>();

    private FeatureBuilder Contribute<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>()
        where TService : class
        where T : class, TService
    {
        Services.TryAddSingleton<T>();
        Services.AddClosedLogger<T>();
        Services.AddSingleton<TService>(sp => sp.GetRequiredService<T>());
        return this;
    }
}

/// <summary>
/// Routes a feature serves on the public port, where the ingress sends them too (the chart routes each path by name).
/// Anonymous by nature: each checks its own proof (a single-use state, a signature).
/// </summary>
public interface IPublicRoutes
{
    void Map(IEndpointRouteBuilder publicPort);
}

/// <summary>The features, in order of precedence. Each is added once.</summary>
public sealed class FeatureList
{
    private readonly List<IFeature> features = [];

    public IReadOnlyList<IFeature> All => features;

    public FeatureList Add<T>() where T : IFeature, new()
    {
        if (features.Any(f => f is T))
        {
            throw new InvalidOperationException($"feature {typeof(T).Name} is in the list twice");
        }

        features.Add(new T());
        return this;
    }

    /// <summary>Every feature's commands, in the order of the list.</summary>
    public CommandRegistry Commands() => new(features.SelectMany(f => f.Commands.Select(c => c with { Feature = f.Name })));
}

public static class FeatureExtensions
{
    /// <summary>What every feature relies on (flags, texts, the command registry), then each feature's own contributions.</summary>
    public static IHostApplicationBuilder AddFeatures(this IHostApplicationBuilder builder, FeatureList features)
    {
        builder.Services.AddOptions<FeatureFlagsCheck>().ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<FeatureFlagsCheck>, FeatureFlagsValidator>();
        builder.Services.AddSingleton<FeatureFlags>().AddClosedLogger<FeatureFlags>();
        builder.Services.AddSingleton<Texts>();
        builder.Services.AddSingleton(features.Commands());
        builder.Services.AddSingleton<ILeaderSingleton, CommandMenu>().AddClosedLogger<CommandMenu>();
        foreach (var feature in features.All)
        {
            feature.Register(new FeatureBuilder(builder, feature));
        }

        return builder;
    }
}
