using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bot.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>
/// Spans go through the SDK as in production: the redacting processor, then a batch export processor whose
/// exporter keeps what it is given. Everything of the span that OTLP exports is checked for every secret.
/// </summary>
public sealed class SpanRedactionTests
{
    private const string SourceName = "Test.Redaction";

    private static TracerProvider Pipeline(List<Activity> exported) => Sdk.CreateTracerProviderBuilder()
        .AddSource(SourceName)
        .AddProcessor(new RedactingActivityProcessor(TelemetryFixtures.Redactor()))
        .AddProcessor(new BatchActivityExportProcessor(new InMemoryExporter<Activity>(exported)))
        .Build();

    [Fact]
    public void Events_links_and_everything_else_exported_hold_no_secret()
    {
        var exported = new List<Activity>();
        using var provider = Pipeline(exported);
        using var source = new ActivitySource(SourceName);
        var token = TelemetryFixtures.Token;
        var linked = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded,
            traceState: "vendor=" + TelemetryFixtures.WebhookSecretValue, isRemote: true);
        var cleanLink = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        ActivityLink[] links =
        [
            new(linked, new ActivityTagsCollection { ["link.reason"] = "admin " + TelemetryFixtures.AdminToken, ["link.count"] = 2 }),
            new(cleanLink),
        ];

        DateTimeOffset before;
        using (var span = source.StartActivity("GET bot" + token, ActivityKind.Client, parentContext: default, links: links))
        {
            Assert.NotNull(span);
            span.TraceStateString = "vendor=" + TelemetryFixtures.DbPassword;
            span.SetTag("url.full", new Uri($"https://api.telegram.org/bot{token}/getMe"));
            span.SetTag("http.request.header.authorization", new[] { "Bearer " + TelemetryFixtures.AdminToken });
            span.SetTag("key " + TelemetryFixtures.WebhookSecretValue, "value");
            before = DateTimeOffset.UtcNow.AddSeconds(-1);
            span.AddEvent(new ActivityEvent("plain", before));
            span.AddEvent(new ActivityEvent("retry for " + TelemetryFixtures.AdminToken, tags: new ActivityTagsCollection
            {
                ["url"] = $"https://api.telegram.org/bot{token}/sendMessage",
                ["attempt"] = 3,
            }));
            // What the HttpClient and ASP.NET Core instrumentations record with RecordException, and what any
            // library calling AddException records: message and stack, inner exceptions included.
            var failure = new InvalidOperationException("send failed with password " + TelemetryFixtures.DbPassword,
                new HttpRequestException($"POST https://api.telegram.org/bot{token}/sendMessage: 502"));
            span.AddException(failure);
            span.SetStatus(ActivityStatusCode.Error, failure.Message);
        }

        provider.ForceFlush();
        var exportedSpan = Assert.Single(exported);
        var text = Describe(exportedSpan);
        foreach (var secret in TelemetryFixtures.Secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        // Redacted, not dropped: the events keep their order, names, timestamps and other attributes.
        Assert.Equal(["plain", "retry for [redacted]", "exception"], exportedSpan.Events.Select(e => e.Name));
        Assert.Equal(before, exportedSpan.Events.First().Timestamp);
        var retry = exportedSpan.Events.ElementAt(1);
        Assert.Equal("https://api.telegram.org/bot[redacted]/sendMessage", retry.Tags.Single(t => t.Key == "url").Value);
        Assert.Equal(3, retry.Tags.Single(t => t.Key == "attempt").Value);
        var exception = exportedSpan.Events.Last().Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(typeof(InvalidOperationException).FullName, exception["exception.type"]);
        Assert.Equal("send failed with password [redacted]", exception["exception.message"]);
        Assert.Contains("POST https://api.telegram.org/bot[redacted]/sendMessage: 502", (string)exception["exception.stacktrace"]!, StringComparison.Ordinal);
        Assert.Equal(2, exportedSpan.Links.Count());
        Assert.Equal(linked.SpanId, exportedSpan.Links.First().Context.SpanId);
        Assert.Equal("vendor=[redacted]", exportedSpan.Links.First().Context.TraceState);
        Assert.Equal(2, exportedSpan.Links.First().Tags!.Single(t => t.Key == "link.count").Value);
        Assert.Equal("GET bot[redacted]", exportedSpan.DisplayName);
        Assert.Equal("https://api.telegram.org/bot[redacted]/getMe", exportedSpan.GetTagItem("url.full"));
        Assert.Equal("value", exportedSpan.GetTagItem("key [redacted]"));
        Assert.True(exportedSpan.Recorded);
    }

    [Fact]
    public void A_span_without_secrets_is_exported_as_it_was()
    {
        var exported = new List<Activity>();
        using var provider = Pipeline(exported);
        using var source = new ActivitySource(SourceName);

        using (var span = source.StartActivity("send sendMessage"))
        {
            span!.SetTag("telegram.method", "sendMessage");
            span.AddException(new TimeoutException("no answer in 15 s"));
        }

        provider.ForceFlush();
        var exportedSpan = Assert.Single(exported);
        var exception = Assert.Single(exportedSpan.Events);
        Assert.Equal("no answer in 15 s", exception.Tags.Single(t => t.Key == "exception.message").Value);
        Assert.Equal("sendMessage", exportedSpan.GetTagItem("telegram.method"));
    }

    /// <summary>Every string OTLP exports for a span (ids and times aside), one per line.</summary>
    private static string Describe(Activity span)
    {
        var text = new StringBuilder()
            .AppendLine(span.DisplayName)
            .AppendLine(span.StatusDescription)
            .AppendLine(span.TraceStateString);
        AppendTags(text, span.TagObjects);
        foreach (var entry in span.Events)
        {
            text.AppendLine(entry.Name);
            AppendTags(text, entry.Tags);
        }

        foreach (var link in span.Links)
        {
            text.AppendLine(link.Context.TraceState);
            AppendTags(text, link.Tags ?? []);
        }

        return text.ToString();
    }

    private static void AppendTags(StringBuilder text, IEnumerable<KeyValuePair<string, object?>> tags)
    {
        foreach (var (key, value) in tags)
        {
            var written = value is Array items ? string.Join(",", items.Cast<object?>()) : Convert.ToString(value, CultureInfo.InvariantCulture);
            text.Append(key).Append('=').AppendLine(written);
        }
    }
}
