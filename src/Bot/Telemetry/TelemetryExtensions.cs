using Bot.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Bot.Telemetry;

public static class TelemetryExtensions
{
    private static readonly string[] EndpointSettings =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    /// <summary>
    /// The bot's meter and queue sampler always; OpenTelemetry traces, metrics and logs over OTLP when an
    /// OTLP endpoint is configured through the standard OTEL_* variables (endpoint, protocol, headers,
    /// service name, resource attributes, export intervals). Without one no provider is built at all, so
    /// nothing listens and spans cost nothing. Spans and log records are redacted before export with the
    /// process's <see cref="SecretRedactor"/> (registered with the logging, see LoggingExtensions).
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<QueueSnapshot>();
        builder.Services.AddSingleton<BotMetrics>();
        builder.Services.AddSingleton<Coordination.ILeaderSingleton, QueueSampler>().AddClosedLogger<QueueSampler>();

        // IHttpClientFactory's logging writes each request's URI at Information, and a Bot API URI holds the
        // token; the bot logs its calls' outcomes itself (redacted), so these loggers go.
        builder.Services.ConfigureHttpClientDefaults(client => client.RemoveAllLoggers());

        // Console log lines carry the trace and span ids (JSON logs include scopes), to find an update's trace.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        if (!EndpointSettings.Any(key => !string.IsNullOrWhiteSpace(builder.Configuration[key])))
        {
            return builder;
        }

        builder.Services.AddSingleton<LogScopes>();
        builder.Services.AddSingleton<ILoggerProvider>(sp => sp.GetRequiredService<LogScopes>());
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: builder.Configuration["OTEL_SERVICE_NAME"] ?? "bot",
                serviceVersion: typeof(TelemetryExtensions).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: Environment.MachineName))
            .WithTracing(tracing => tracing
                // First, so that the exporter added after it only ever sees redacted spans.
                .AddProcessor(sp => new RedactingActivityProcessor(sp.GetRequiredService<SecretRedactor>()))
                .AddSource(BotActivities.SourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = IsTraced)
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddMeter(BotMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation())
            .WithLogging(
                logging => logging.AddProcessor(sp => new RedactingLogProcessor(sp.GetRequiredService<SecretRedactor>(), sp.GetRequiredService<LogScopes>())),
                options =>
                {
                    options.IncludeFormattedMessage = true;
                    // The scopes are exported, redacted, by RedactingLogProcessor: a record cannot drop a scope
                    // that the SDK would copy as is.
                    options.IncludeScopes = false;
                })
            .UseOtlpExporter();
        return builder;
    }

    // Probes every few seconds per pod would drown the traces that matter.
    private static bool IsTraced(HttpContext context) =>
        !context.Request.Path.StartsWithSegments("/healthz", StringComparison.Ordinal)
        && !context.Request.Path.StartsWithSegments("/readyz", StringComparison.Ordinal);
}
