using System.Net;
using Bot.Ingest;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

public static class HostingExtensions
{
    /// <summary>Two listeners (public and internal), the drain on shutdown and the shutdown budget.</summary>
    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HostingOptions>().BindConfiguration(HostingOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<HostingOptions>, HostingOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<HostingOptions>, HostingRulesValidator>();
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddHostedService<ShutdownDrain>();

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
            kestrel.ListenAnyIP(port);
        }
        else if (IPAddress.TryParse(address, out var ip))
        {
            kestrel.Listen(ip, port);
        }
    }

    /// <summary>
    /// Keeps the two surfaces apart by the port a request arrived on (not its Host header, which a client
    /// chooses): the public port serves the webhook and nothing else; the internal port never serves it.
    /// </summary>
    public static WebApplication UsePortGate(this WebApplication app)
    {
        var publicPort = app.Services.GetRequiredService<IOptions<HostingOptions>>().Value.PublicPort;
        app.Use((context, next) =>
        {
            var isWebhook = context.Request.Path.Equals(IngestOptions.WebhookPath, StringComparison.Ordinal);
            if ((context.Connection.LocalPort == publicPort) != isWebhook)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
        return app;
    }
}
