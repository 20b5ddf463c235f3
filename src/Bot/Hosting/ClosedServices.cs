using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

/// <summary>
/// Closed registrations of the generic services that the container would otherwise make from open generics:
/// <c>ILogger&lt;T&gt;</c> and the options services (<c>IOptions&lt;T&gt;</c>, <c>IOptionsMonitor&lt;T&gt;</c>, their
/// factory and cache) of each type the bot resolves.
/// </summary>
/// <remarks>
/// Under Native AOT the container makes <c>OptionsMonitor&lt;T&gt;</c> from <c>OptionsMonitor&lt;&gt;</c> at run time:
/// the runtime's type loader builds the type and its dictionaries, and the constructor is called by reflection. That
/// was about a third of start-up (issue 20's profile; 50 options types with their loggers cost about 40 ms, closed
/// about 3 ms). A closed registration is a delegate that ILC compiled, so the container only calls it. Behaviour is the
/// framework's: the same implementation types, lifetimes and constructor arguments. A type missing here still works,
/// only made the slow way; <c>ClosedServicesTests</c> names any that the start path makes from an open generic.
/// </remarks>
public static class ClosedServices
{
    /// <summary>The options services of <typeparamref name="T"/>, closed (once however often it is asked for).</summary>
    public static IServiceCollection AddClosedOptions<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(
        this IServiceCollection services)
        where T : class
    {
        // The framework's lifetimes: the factory transient, the cache, the monitor and IOptions<T> singletons.
        services.TryAddTransient<IOptionsFactory<T>>(sp => new OptionsFactory<T>(
            sp.GetServices<IConfigureOptions<T>>(), sp.GetServices<IPostConfigureOptions<T>>(), sp.GetServices<IValidateOptions<T>>()));
        services.TryAddSingleton<IOptionsMonitorCache<T>>(_ => new OptionsCache<T>());
        services.TryAddSingleton<IOptionsMonitor<T>>(sp => new OptionsMonitor<T>(
            sp.GetRequiredService<IOptionsFactory<T>>(), sp.GetServices<IOptionsChangeTokenSource<T>>(), sp.GetRequiredService<IOptionsMonitorCache<T>>()));
        // The framework's IOptions<T> is an internal type that does what OptionsManager<T> does for the default name.
        services.TryAddSingleton<IOptions<T>>(sp => new OptionsManager<T>(sp.GetRequiredService<IOptionsFactory<T>>()));
        return services;
    }

    /// <summary>The options services of the options builder's type, closed.</summary>
    public static OptionsBuilder<T> Closed<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(
        this OptionsBuilder<T> builder)
        where T : class
    {
        builder.Services.AddClosedOptions<T>();
        return builder;
    }

    /// <summary><c>ILogger&lt;T&gt;</c>, closed (once however often it is asked for).</summary>
    public static IServiceCollection AddClosedLogger<T>(this IServiceCollection services)
    {
        services.TryAddSingleton<ILogger<T>>(sp => new Logger<T>(sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// The framework's own options and loggers on the start path (the host, Kestrel, routing, authentication, the rate
    /// limiter, logging, the HTTP client factory). Their internal types cannot be named here and stay open.
    /// </summary>
    public static IServiceCollection AddClosedFrameworkServices(this IServiceCollection services)
    {
        services.AddClosedOptions<HostOptions>()
            .AddClosedOptions<ConsoleLifetimeOptions>()
            .AddClosedOptions<LoggerFactoryOptions>()
            .AddClosedOptions<LoggerFilterOptions>()
            .AddClosedOptions<ConsoleLoggerOptions>()
            .AddClosedOptions<ConsoleFormatterOptions>()
            .AddClosedOptions<JsonConsoleFormatterOptions>()
            .AddClosedOptions<SimpleConsoleFormatterOptions>()
            .AddClosedOptions<KestrelServerOptions>()
            .AddClosedOptions<SocketTransportOptions>()
            .AddClosedOptions<HostFilteringOptions>()
            .AddClosedOptions<RouteOptions>()
            .AddClosedOptions<RouteHandlerOptions>()
            .AddClosedOptions<FormOptions>()
            .AddClosedOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>()
            .AddClosedOptions<AuthenticationOptions>()
            .AddClosedOptions<AuthorizationOptions>()
            .AddClosedOptions<RateLimiterOptions>()
            .AddClosedOptions<HttpClientFactoryOptions>()
            .AddClosedOptions<Microsoft.Extensions.Diagnostics.Metrics.MetricsOptions>()
            .AddClosedOptions<Microsoft.Extensions.Validation.ValidationOptions>()
            .AddClosedOptions<Polly.Telemetry.TelemetryOptions>();
        services.AddClosedLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>()
            .AddClosedLogger<AuthorizationMiddleware>()
            .AddClosedLogger<HostFilteringMiddleware>();
        return services;
    }
}
