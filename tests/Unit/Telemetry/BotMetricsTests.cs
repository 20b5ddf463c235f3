using System.Net;
using Bot.Coordination;
using Bot.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>The Bot meter's instruments move when the code paths that feed them run (in-memory exporter).</summary>
[Collection(nameof(BotMetricsTests))]
public sealed class BotMetricsTests
{
    [Fact]
    public async Task Received_processed_dead_lettered_and_duration_are_recorded_by_kind()
    {
        var exported = new List<MetricSnapshot>();
        using var provider = Provider(exported);
        var metrics = TelemetryFixtures.Metrics(out var meterLifetime);
        using var meterScope = meterLifetime;
        var (endpoint, _, writer) = TelemetryFixtures.Webhook(metrics);
        await using var _ = writer;

        await endpoint.HandleAsync(TelemetryFixtures.WebhookRequest(8101, 5, "hi"));
        await endpoint.HandleAsync(TelemetryFixtures.WebhookRequest(8101, 5, "hi"));
        metrics.UpdateProcessed("unit_kind", "done", TimeSpan.FromMilliseconds(30));
        metrics.UpdateProcessed("unit_kind", "failed", TimeSpan.FromMilliseconds(2));
        metrics.UpdateDeadLettered("unit_kind");

        provider.ForceFlush();
        Assert.True(Sum(exported, "bot.updates.received", ("update.kind", "message"), ("outcome", "stored")) >= 1);
        Assert.True(Sum(exported, "bot.updates.received", ("update.kind", "message"), ("outcome", "duplicate")) >= 1);
        Assert.Equal(1, Sum(exported, "bot.updates.processed", ("update.kind", "unit_kind"), ("outcome", "done")));
        Assert.Equal(1, Sum(exported, "bot.updates.processed", ("update.kind", "unit_kind"), ("outcome", "failed")));
        Assert.Equal(1, Sum(exported, "bot.updates.dead_lettered", ("update.kind", "unit_kind")));
        var histogram = Last(exported, "bot.update.processing.duration");
        Assert.Equal("s", histogram.Unit);
        Assert.Equal(2, Points(histogram, ("update.kind", "unit_kind")).Sum(p => p.GetHistogramCount()));
    }

    [Fact]
    public async Task Bot_api_calls_are_counted_by_method_and_status_and_429s_apart()
    {
        var exported = new List<MetricSnapshot>();
        using var provider = Provider(exported);
        var metrics = TelemetryFixtures.Metrics(out var meterLifetime);
        using var meterScope = meterLifetime;
        var statuses = new Queue<HttpStatusCode>([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.Forbidden]);
        using var client = new HttpClient(new TelegramApiMetricsHandler(metrics) { InnerHandler = new StubHandler(() => statuses.Dequeue()) });
        var url = $"https://api.telegram.org/bot{TelemetryFixtures.Token}/unitSendMessage";

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync(new Uri(url), null);
        }

        using var failing = new HttpClient(new TelegramApiMetricsHandler(metrics) { InnerHandler = new StubHandler(() => throw new HttpRequestException("refused")) });
        await Assert.ThrowsAsync<HttpRequestException>(() => failing.PostAsync(new Uri(url), null));
        metrics.MessageSent("unitSendMessage");
        metrics.MessageFailed("unitSendMessage", "unreachable");

        provider.ForceFlush();
        Assert.Equal(1, Sum(exported, "bot.telegram.api.calls", ("telegram.method", "unitSendMessage"), ("http.response.status_code", 200)));
        Assert.Equal(1, Sum(exported, "bot.telegram.api.calls", ("telegram.method", "unitSendMessage"), ("http.response.status_code", 429)));
        Assert.Equal(1, Sum(exported, "bot.telegram.api.calls", ("telegram.method", "unitSendMessage"), ("error.type", "HttpRequestException")));
        Assert.Equal(1, Sum(exported, "bot.telegram.api.rate_limited", ("telegram.method", "unitSendMessage")));
        Assert.Equal(1, Sum(exported, "bot.messages.sent", ("telegram.method", "unitSendMessage")));
        Assert.Equal(1, Sum(exported, "bot.messages.failed", ("telegram.method", "unitSendMessage"), ("reason", "unreachable")));

        // No label carries the token: the method is the URL's last segment only.
        var labels = exported.SelectMany(m => m.MetricPoints).SelectMany(p => Tags(p)).Select(t => $"{t.Key}={t.Value}");
        Assert.DoesNotContain(labels, l => l.Contains("unit-test-secret", StringComparison.Ordinal));
    }

    [Fact]
    public void Queue_gauges_and_leadership_report_the_leader_s_latest_reading()
    {
        var exported = new List<MetricSnapshot>();
        using var provider = Provider(exported);
        var clock = new Coordination.ManualClock(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var leadership = new LeadershipState();
        var queues = new QueueSnapshot(clock);
        var metrics = TelemetryFixtures.Metrics(out var meterLifetime, leadership, queues);
        using var meterScope = meterLifetime;
        // A feature's instruments are on the same meter.
        var broadcasts = new Bot.Features.Broadcasts.BroadcastMetrics(TelemetryFixtures.MeterFactory(meterLifetime));
        broadcasts.Messages("sent", 3);
        broadcasts.Messages("blocked");
        broadcasts.Active(1);

        provider.ForceFlush();
        Assert.DoesNotContain(exported, m => m.Name == "bot.inbox.lag" && m.MetricPoints.Count > 0);

        leadership.Set(true);
        queues.Set(new QueueSnapshot.Sample(clock.GetUtcNow(), 12.5, 40, 3, 900));
        exported.Clear();
        provider.ForceFlush();
        Assert.Equal(12.5, Points(Last(exported, "bot.inbox.lag")).Single().GetGaugeLastValueDouble());
        Assert.Equal(40, Points(Last(exported, "bot.inbox.depth")).Single().GetGaugeLastValueDouble());
        Assert.Equal(900, Points(Last(exported, "bot.outbox.depth"), ("priority", "bulk")).Single().GetGaugeLastValueLong());
        Assert.Contains(exported, m => m.Name == "bot.leader" && m.MetricPoints.Any(p => p.GetGaugeLastValueLong() == 1));
        Assert.True(Sum(exported, "bot.broadcast.messages", ("outcome", "sent")) >= 3);
        Assert.True(Sum(exported, "bot.broadcasts.active") >= 1);

        // A reading the sampler stopped refreshing is not reported as if it were current.
        clock.Advance(TimeSpan.FromMinutes(2));
        exported.Clear();
        provider.ForceFlush();
        Assert.DoesNotContain(exported, m => m.Name == "bot.inbox.lag" && m.MetricPoints.Count > 0);
    }

    private static MeterProvider Provider(List<MetricSnapshot> exported) =>
        Sdk.CreateMeterProviderBuilder().AddMeter(BotMetrics.MeterName).AddInMemoryExporter(exported).Build();

    private static MetricSnapshot Last(List<MetricSnapshot> exported, string name) => exported.Last(m => m.Name == name);

    private static long Sum(List<MetricSnapshot> exported, string name, params (string Key, object Value)[] tags) =>
        exported.LastOrDefault(m => m.Name == name) is { } metric ? Points(metric, tags).Sum(p => p.GetSumLong()) : 0;

    private static List<MetricPoint> Points(MetricSnapshot metric, params (string Key, object Value)[] tags) =>
        metric.MetricPoints.Where(p => tags.All(t => Tags(p).Any(pt => pt.Key == t.Key && Equals(pt.Value, t.Value)))).ToList();

    private static List<KeyValuePair<string, object?>> Tags(MetricPoint point)
    {
        var list = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags)
        {
            list.Add(tag);
        }

        return list;
    }

    private sealed class StubHandler(Func<HttpStatusCode> status) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status()));
    }
}
