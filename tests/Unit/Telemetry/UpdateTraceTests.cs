using System.Diagnostics;
using Bot.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>
/// One trace per update: the span tree that the inbox and outbox rows carry from ingest to handling to
/// sending, exported through the in-memory exporter. (The same tree from the published binary, with the
/// real database in between, is checked over OTLP by the integration test TelemetryExportTests.)
/// </summary>
[Collection(nameof(BotMetricsTests))]
public sealed class UpdateTraceTests
{
    [Fact]
    public async Task Ingest_handle_and_send_form_one_trace_with_the_right_parents()
    {
        var spans = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddProcessor(new RedactingActivityProcessor(TelemetryFixtures.Redactor()))
            .AddSource(BotActivities.SourceName, "Test.Server")
            .AddInMemoryExporter(spans)
            .Build();
        using var server = new ActivitySource("Test.Server");
        var (endpoint, store, writer) = TelemetryFixtures.Webhook(TelemetryFixtures.Metrics(out var meterLifetime));
        using var meterScope = meterLifetime;
        await using var _ = writer;

        // Ingest: the webhook request (standing in for ASP.NET Core's server span) stores the update.
        string? stored;
        using (var request = server.StartActivity("POST /telegram/webhook", ActivityKind.Server))
        {
            await endpoint.HandleAsync(TelemetryFixtures.WebhookRequest(7001, 42, "/help"));
            stored = Assert.Single(store.Rows, r => r.UpdateId == 7001).TraceContext;
        }

        // Handling, later and elsewhere: continues the stored traceparent; queues a reply with its own.
        string? queued;
        using (BotActivities.StartHandle(7001, "message", 1, stored))
        {
            queued = BotActivities.CurrentTraceParent(stored);
        }

        // Sending, on the leader: continues the outbox row's traceparent.
        using (var send = BotActivities.StartSend(1, "sendMessage", 42, 1, queued))
        {
            BotActivities.RecordException(send, new HttpRequestException($"POST https://api.telegram.org/bot{TelemetryFixtures.Token}/sendMessage failed"), TelemetryFixtures.Redactor());
        }

        provider.ForceFlush();
        var root = Assert.Single(spans, s => s.DisplayName == "POST /telegram/webhook");
        var ingest = Assert.Single(spans, s => s.DisplayName == "ingest update" && s.TraceId == root.TraceId);
        var handle = Assert.Single(spans, s => s.DisplayName == "handle update" && s.TraceId == root.TraceId);
        var sendSpan = Assert.Single(spans, s => s.DisplayName == "send sendMessage" && s.TraceId == root.TraceId);

        Assert.Equal(root.SpanId, ingest.ParentSpanId);
        Assert.Equal(ingest.SpanId, handle.ParentSpanId);
        Assert.Equal(handle.SpanId, sendSpan.ParentSpanId);
        Assert.Equal(ingest.Id, stored);
        Assert.Equal(7001L, ingest.GetTagItem("telegram.update.id"));
        Assert.Equal("message", handle.GetTagItem("telegram.update.kind"));
        Assert.Equal(ActivityKind.Consumer, handle.Kind);
        Assert.Equal(ActivityKind.Producer, sendSpan.Kind);

        // The failure is on the span, as an exception event, without the token.
        Assert.Equal(ActivityStatusCode.Error, sendSpan.Status);
        var exception = Assert.Single(sendSpan.Events, e => e.Name == "exception");
        var message = (string)exception.Tags.Single(t => t.Key == "exception.message").Value!;
        Assert.Contains("[redacted]", message, StringComparison.Ordinal);
        Assert.DoesNotContain(TelemetryFixtures.Token, message, StringComparison.Ordinal);
        Assert.DoesNotContain(TelemetryFixtures.Token, sendSpan.StatusDescription!, StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_without_a_stored_trace_starts_a_trace_of_its_own()
    {
        var spans = new List<Activity>();
        using var provider = Sdk.CreateTracerProviderBuilder().AddSource(BotActivities.SourceName).AddInMemoryExporter(spans).Build();

        using (BotActivities.StartHandle(7002, "message", 1, null))
        {
        }

        using (BotActivities.StartHandle(7003, "message", 1, "not-a-traceparent"))
        {
        }

        provider.ForceFlush();
        Assert.All(spans.Where(s => s.GetTagItem("telegram.update.id") is 7002L or 7003L), s => Assert.Equal(default, s.ParentSpanId));
    }

    [Fact]
    public void Span_attributes_that_quote_a_secret_are_redacted_before_export()
    {
        var spans = new List<Activity>();
        using var source = new ActivitySource("Test.Http");
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddProcessor(new RedactingActivityProcessor(TelemetryFixtures.Redactor()))
            .AddSource("Test.Http")
            .AddInMemoryExporter(spans)
            .Build();

        // What the HttpClient instrumentation records for a Bot API call, and what other libraries might.
        using (var call = source.StartActivity($"POST bot{TelemetryFixtures.Token}", ActivityKind.Client))
        {
            call!.SetTag("url.full", $"https://api.telegram.org/bot{TelemetryFixtures.Token}/sendMessage");
            call.SetTag("http.url", $"https://api.telegram.org/bot{TelemetryFixtures.Token}/sendMessage");
            call.SetTag("db.connection_string", $"Host=db;Password={TelemetryFixtures.DbPassword}");
            call.SetTag("http.request.header.x-telegram-bot-api-secret-token", TelemetryFixtures.WebhookSecretValue);
            call.SetTag("http.request.header.authorization", "Bearer " + TelemetryFixtures.AdminToken);
            call.SetTag("http.response.status_code", 200);
            call.SetStatus(ActivityStatusCode.Error, "token " + TelemetryFixtures.Token);
        }

        provider.ForceFlush();
        var span = Assert.Single(spans);
        var text = string.Join('\n', span.TagObjects.Select(t => $"{t.Key}={t.Value}")) + span.DisplayName + span.StatusDescription;
        foreach (var secret in new[] { TelemetryFixtures.Token, TelemetryFixtures.WebhookSecretValue, TelemetryFixtures.DbPassword, TelemetryFixtures.AdminToken, "AAH-unit-test-secret-token-value" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Equal("https://api.telegram.org/bot[redacted]/sendMessage", span.GetTagItem("url.full"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
    }
}
