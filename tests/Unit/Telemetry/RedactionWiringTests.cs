using Bot.Admin;
using Bot.Hosting;
using Bot.Ingest;
using Bot.Processing;
using Bot.Storage;
using Bot.Telegram;
using Bot.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>The service's composition, as Program makes it with an OTLP endpoint configured (nothing is started).</summary>
public sealed class RedactionWiringTests
{
    private static WebApplicationBuilder Composition()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(TelemetryFixtures.SecretSettings())
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317",
        });
        builder.AddBotLogging();
        builder.AddTelemetry();
        builder.AddHosting();
        builder.AddStorage();
        builder.AddTelegramOptions();
        builder.AddIngest();
        builder.AddProcessing();
        builder.AddLeaderSingletons();
        builder.AddAdminApi();
        return builder;
    }

    [Fact]
    public void One_redactor_is_registered_for_logging_telemetry_and_the_workers()
    {
        var builder = Composition();

        var registration = Assert.Single(builder.Services, d => d.ServiceType == typeof(SecretRedactor));
        Assert.Equal(ServiceLifetime.Singleton, registration.Lifetime);
    }

    [Fact]
    public void Log_scopes_reach_the_exporter_only_through_the_redacting_processor()
    {
        var builder = Composition();
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptionsMonitor<OpenTelemetryLoggerOptions>>().CurrentValue;
        Assert.False(options.IncludeScopes);
        Assert.True(options.IncludeFormattedMessage);
        Assert.Contains(services.GetServices<ILoggerProvider>(), p => p is LogScopes);
    }
}
