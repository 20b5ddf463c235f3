using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Hosting;
using Sentry;

namespace Bot.Telemetry;

/// <summary>
/// Error tracking with Sentry's .NET SDK, on when <c>Sentry:Dsn</c> is set (a key-per-file secret or an environment
/// variable) and absent otherwise: no provider, listener or SDK is made then. Every log entry at Error or above
/// becomes an event (dead letters, a singleton's failure, an unexpected send failure, the host's unhandled
/// exceptions), with its exception and stack when the entry has one, the earlier entries as breadcrumbs, the
/// release (<c>Sentry:Release</c>: the chart passes the image digest) and the environment (<c>Sentry:Environment</c>,
/// else the host's). An event made while an update is handled carries the update's trace id, so it leads to the
/// same trace as the logs and spans. What leaves for Sentry is redacted as the console log is: the finished
/// envelope, not its parts (<see cref="RedactingEnvelopeHandler"/>). Sentry's own tracing, sessions, client reports
/// and assembly list are off: traces go over OTLP.
/// </summary>
/// <remarks>
/// The SDK starts after the ports listen (start-up does not wait for it); an error logged before is not sent, and is
/// in the console log. Sentry's native crash library is not linked (<c>SentryNative=false</c> in the project): it is
/// built against a newer glibc than the image's, and a managed service's crashes are the runtime's to report.
/// </remarks>
public static partial class ErrorTracking
{
    public const string Section = "Sentry";

    public static IHostApplicationBuilder AddErrorTracking(this IHostApplicationBuilder builder)
    {
        var dsn = builder.Configuration[$"{Section}:Dsn"];
        if (string.IsNullOrWhiteSpace(dsn))
        {
            return builder;
        }

        if (!IsDsn(dsn.Trim()))
        {
            // The value is not repeated: a DSN holds the project's key.
            throw new StartupException(
                "configuration error: Sentry:Dsn is not a Sentry DSN (http(s)://<public key>@<host>/<project id>)", ExitCodes.Configuration);
        }

        builder.Logging.AddSentry(options =>
        {
            options.MinimumEventLevel = LogLevel.Error;
            options.MinimumBreadcrumbLevel = LogLevel.Information;
        });
        builder.Services.AddClosedOptions<Sentry.Extensions.Logging.SentryLoggingOptions>();
        builder.Services.AddHostedServiceAfterListening<ErrorTrackingSdk>().AddClosedLogger<ErrorTrackingSdk>();
        return builder;
    }

    /// <summary>http(s), a public key, a host and a project id (the last path segment): the shape Sentry's SDK parses.</summary>
    public static bool IsDsn(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && !string.IsNullOrEmpty(uri.UserInfo.Split(':')[0])
        && uri.AbsolutePath.TrimEnd('/').Split('/')[^1] is { Length: > 0 };

    /// <summary>The event joins the trace of the work that logged it (the update's handling, a send).</summary>
    public static SentryEvent WithTrace(SentryEvent @event)
    {
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            var traceId = activity.TraceId.ToHexString();
            @event.Contexts.Trace.TraceId = SentryId.Parse(traceId);
            @event.Contexts.Trace.SpanId = SpanId.Parse(activity.SpanId.ToHexString());
            @event.SetTag("trace_id", traceId);
        }

        return @event;
    }
}

/// <summary>Starts Sentry's SDK once the ports listen and flushes it on shutdown.</summary>
public sealed partial class ErrorTrackingSdk(IConfiguration configuration, IHostEnvironment host, SecretRedactor redactor, ILogger<ErrorTrackingSdk> logger)
    : IHostedService, IDisposable
{
    private IDisposable? sdk;
    private ActivityListener? listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var section = configuration.GetSection(ErrorTracking.Section);
        var environment = section["Environment"] is { Length: > 0 } named ? named : host.EnvironmentName.ToLowerInvariant();
        var release = section["Release"] is { Length: > 0 } given ? given : "bot@" + typeof(ErrorTracking).Assembly.GetName().Version;
        sdk = SentrySdk.Init(options =>
        {
            options.Dsn = section["Dsn"]!.Trim();
            options.Environment = environment;
            options.Release = release;
            options.SendDefaultPii = false;
            options.AutoSessionTracking = false;
            options.SendClientReports = false;
            options.TracesSampleRate = 0;
            options.ReportAssembliesMode = ReportAssembliesMode.None;
            options.DisableDiagnosticSourceIntegration();
            options.DisableSystemDiagnosticsMetricsIntegration();
            options.ShutdownTimeout = TimeSpan.FromSeconds(2);
            // Plain envelopes reach the redacting handler, which compresses what it sends.
            options.RequestBodyCompressionLevel = CompressionLevel.NoCompression;
            options.CreateHttpMessageHandler = () => new RedactingEnvelopeHandler(redactor) { InnerHandler = new SocketsHttpHandler() };
            options.SetBeforeSend((@event, _) => ErrorTracking.WithTrace(@event));
        });

        // Without OpenTelemetry's exporter nothing listens to the bot's spans, and an update would have no trace id to
        // carry; this listener makes their ids (not their recording), so that events and logs still share one.
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BotActivities.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);
        LogStarted(logger, environment, release);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await SentrySdk.FlushAsync(TimeSpan.FromSeconds(2));

    public void Dispose()
    {
        listener?.Dispose();
        sdk?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Error tracking on: Sentry, environment {Environment}, release {Release}")]
    private static partial void LogStarted(ILogger logger, string environment, string release);
}

/// <summary>
/// Redacts each envelope Sentry's SDK sends, as a whole, the way the console log is redacted: every item's payload
/// (events with their exceptions, stacks, breadcrumbs, extra data and tags) and header, with the item's length
/// recomputed, then sends it gzip-compressed. The SDK sends no attachments here, so every payload is UTF-8 JSON.
/// </summary>
public sealed class RedactingEnvelopeHandler(SecretRedactor redactor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content)
        {
            var body = await content.ReadAsByteArrayAsync(cancellationToken);
            if (content.Headers.ContentEncoding.Contains("gzip"))
            {
                await using var unzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                await unzip.CopyToAsync(plain, cancellationToken);
                body = plain.ToArray();
            }

            var redacted = new ByteArrayContent(Gzip(Redact(body, redactor)));
            foreach (var header in content.Headers.Where(h => h.Key is not ("Content-Length" or "Content-Encoding")))
            {
                redacted.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            redacted.Headers.ContentEncoding.Add("gzip");
            request.Content = redacted;
            content.Dispose();
        }

        return await base.SendAsync(request, cancellationToken);
    }

    /// <summary>
    /// An envelope (a header line, then items: a header line and a payload of the header's <c>length</c> bytes, or up
    /// to the next newline) with every secret replaced in every line.
    /// </summary>
    public static byte[] Redact(ReadOnlySpan<byte> envelope, SecretRedactor redactor)
    {
        using var output = new MemoryStream(envelope.Length);
        var position = 0;
        var first = true;
        while (position < envelope.Length)
        {
            var header = Line(envelope, ref position);
            if (first)
            {
                Write(output, redactor.Redact(Encoding.UTF8.GetString(header)));
                first = false;
                continue;
            }

            if (header.IsEmpty)
            {
                continue;
            }

            var item = JsonNode.Parse(header)!.AsObject();
            ReadOnlySpan<byte> payload;
            if (item["length"] is JsonValue length && length.TryGetValue<long>(out var bytes))
            {
                var end = (int)Math.Min(envelope.Length, position + bytes);
                payload = envelope[position..end];
                position = end < envelope.Length && envelope[end] == (byte)'\n' ? end + 1 : end;
            }
            else
            {
                payload = Line(envelope, ref position);
            }

            var text = Encoding.UTF8.GetBytes(redactor.Redact(Encoding.UTF8.GetString(payload)));
            if (item.ContainsKey("length"))
            {
                item["length"] = text.Length;
            }

            Write(output, redactor.Redact(item.ToJsonString()));
            output.Write(text);
            output.WriteByte((byte)'\n');
        }

        return output.ToArray();
    }

    private static ReadOnlySpan<byte> Line(ReadOnlySpan<byte> envelope, scoped ref int position)
    {
        var rest = envelope[position..];
        var newline = rest.IndexOf((byte)'\n');
        var line = newline < 0 ? rest : rest[..newline];
        position += newline < 0 ? rest.Length : newline + 1;
        return line;
    }

    private static void Write(MemoryStream output, string line)
    {
        output.Write(Encoding.UTF8.GetBytes(line));
        output.WriteByte((byte)'\n');
    }

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            zip.Write(body);
        }

        return output.ToArray();
    }
}
