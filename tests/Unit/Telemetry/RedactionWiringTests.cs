using Bot;
using Bot.Hosting;
using Bot.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>The service's composition, as Program builds it with an OTLP endpoint configured (nothing is started).</summary>
public sealed class RedactionWiringTests
{
    private static WebApplication Composition() => BotApplication.Build([
        .. TelemetryFixtures.SecretSettings().Select(s => $"--{s.Key}={s.Value}"),
        "--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317",
        "--Secrets:Directory=/nonexistent",
        "--Config:Directory=/nonexistent",
    ]);

    [Fact]
    public async Task One_redactor_is_registered_for_logging_telemetry_and_the_workers()
    {
        await using var app = Composition();

        Assert.Single(app.Services.GetServices<SecretRedactor>());
        Assert.Same(app.Services.GetRequiredService<SecretRedactor>(), app.Services.GetRequiredService<SecretRedactor>());
    }

    [Fact]
    public async Task Log_scopes_reach_the_exporter_only_through_the_redacting_processor()
    {
        await using var app = Composition();
        var services = app.Services;

        var options = services.GetRequiredService<IOptionsMonitor<OpenTelemetryLoggerOptions>>().CurrentValue;
        Assert.False(options.IncludeScopes);
        Assert.True(options.IncludeFormattedMessage);
        Assert.Contains(services.GetServices<ILoggerProvider>(), p => p is LogScopes);
    }
}
