using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

public static class HostingExtensions
{
    /// <summary>Two listeners (public and internal), the drain on shutdown and the shutdown budget.</summary>
    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        builder.Services.AddClosedFrameworkServices();
        builder.Services.AddOptions<HostingOptions>().BindConfiguration(HostingOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<HostingOptions>, HostingOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<HostingOptions>, HostingRulesValidator>();
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<ShutdownDrain>().AddClosedLogger<ShutdownDrain>();
        // Which port serves a route is the route's own metadata (Surfaces.cs), applied inside route matching.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, SurfaceMatcherPolicy>());

        var hosting = builder.Configuration.GetSection(HostingOptions.Section).Get<HostingOptions>() ?? new HostingOptions();
        var shutdown = builder.Configuration.GetSection(ShutdownOptions.Section).Get<ShutdownOptions>() ?? new ShutdownOptions();
        builder.Services.Configure<HostOptions>(o =>
            o.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.DrainDelaySeconds + shutdown.TimeoutSeconds));

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The webhook reads its body with its own bound; this is only the backstop for everything else.
            kestrel.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
            Listen(kestrel, hosting.BindAddress, hosting.PublicPort);
            Listen(kestrel, hosting.BindAddress, hosting.InternalPort);
        });
        return builder;
    }

    // Kestrel is configured while the app is built, before the options are validated: a bad value is left
    // for the validators to report together with every other bad setting, instead of crashing here.
    private static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string address, int port)
    {
        if (port is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort)
        {
            return;
        }

        if (address == "*")
        {
            kestrel.ListenAnyIP(port, Http1Only);
        }
        else if (IPAddress.TryParse(address, out var ip))
        {
            kestrel.Listen(ip, port, Http1Only);
        }
    }

    // Telegram, the probes and the admin tools speak HTTP/1.1; nothing else (HTTP/2 prior knowledge included)
    // is parsed on either port.
    private static void Http1Only(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen) =>
        listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
}
