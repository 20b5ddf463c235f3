using System.Text;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Telemetry;

/// <summary>
/// The bot under test (the published AOT binary under scripts/test.sh) exports traces, metrics and logs over
/// OTLP/HTTP to a receiver in the test; one update's spans form one trace from ingest to the Bot API call;
/// no secret appears in anything the process prints or exports.
/// </summary>
public sealed class TelemetryExportTests(SharedPostgres postgres)
{
    private const string AdminToken = "integration-admin-token-0123456789";
    private const string DatabasePassword = "integration-db-password-0123456789";

    [Fact]
    public async Task One_update_is_one_trace_metrics_and_logs_arrive_and_no_secret_leaves_the_process()
    {
        await using var otlp = new OtlpReceiver();
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "bot-under-test",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["Admin__Token"] = AdminToken,
            ["Database__Password"] = DatabasePassword,
        });
        var bot = await group.StartAsync();

        // A refused call (the fake answers 400 for this chat) and a wrong secret: failure paths log and export too.
        group.Telegram.InjectFault(FakeTelegram.Fault.BadRequest("chat not found") with { Method = "sendMessage", ChatId = 78 });
        await BotGroup.PostAsync(bot, Updates.Message(4242, 77, "/help"));
        await BotGroup.PostAsync(bot, Updates.Message(4243, 78, "/help"));
        using (var client = new HttpClient())
        {
            using var wrong = await client.SendAsync(Updates.Post(bot.WebhookUri, Updates.Message(4244, 79), secret: "wrong-secret"));
        }

        await group.Telegram.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));

        // Traces: ingest → handle → send sendMessage → the HTTP call, one trace, each span the parent of the next.
        var tree = await otlp.WaitForAsync(() =>
        {
            var spans = otlp.Bodies("/v1/traces").SelectMany(OtlpSpans.Read).ToList();
            var ingest = spans.FirstOrDefault(s => s.Name == "ingest update");
            var handle = spans.FirstOrDefault(s => s.Name == "handle update" && s.ParentSpanId == ingest?.SpanId);
            var send = spans.FirstOrDefault(s => s.Name == "send sendMessage" && s.ParentSpanId == handle?.SpanId);
            return send is null ? null : new { spans, ingest = ingest!, handle = handle!, send };
        }, TimeSpan.FromSeconds(30), "ingest → handle → send trace");

        Assert.Equal(tree.ingest.TraceId, tree.handle.TraceId);
        Assert.Equal(tree.ingest.TraceId, tree.send.TraceId);
        var server = Assert.Single(tree.spans, s => s.SpanId == tree.ingest.ParentSpanId);
        Assert.Equal(tree.ingest.TraceId, server.TraceId);
        Assert.StartsWith("POST", server.Name, StringComparison.Ordinal);
        Assert.Contains(tree.spans, s => s.ParentSpanId == tree.send.SpanId && s.TraceId == tree.send.TraceId && s.Name.StartsWith("POST", StringComparison.Ordinal));
        Assert.Contains(tree.spans, s => s.ParentSpanId == tree.handle.SpanId && s.Name != "send sendMessage");
        Assert.DoesNotContain(tree.spans, s => s.Name is "GET /readyz" or "GET /healthz");

        // Metrics: the bot's meter, by its OpenTelemetry names; the outcome of the refused call too.
        await otlp.WaitForAsync(() => Text(otlp.Bodies("/v1/metrics")) is var m
            && new[] { "bot.updates.received", "bot.updates.processed", "bot.update.processing.duration", "bot.telegram.api.calls", "bot.messages.sent", "bot.messages.failed", "bot.leader", "bot.inbox.lag", "bot.outbox.depth", "http.server.request.duration" }
                .All(name => m.Contains(name, StringComparison.Ordinal)) ? m : null, TimeSpan.FromSeconds(30), "bot metrics");

        // Logs: the bot's own messages, with its service name on the resource.
        await otlp.WaitForAsync(() => Text(otlp.Bodies("/v1/logs")) is var l && l.Contains("This replica leads", StringComparison.Ordinal)
            && l.Contains("bot-under-test", StringComparison.Ordinal) ? l : null, TimeSpan.FromSeconds(30), "logs");

        bot.Terminate();
        await bot.WaitForExitAsync(TimeSpan.FromSeconds(30));

        // Redaction: nothing printed or exported holds a secret, in any of the forms it could take.
        var everything = bot.Output + "\n" + string.Join('\n', otlp.Posts.Select(p => Encoding.UTF8.GetString(p.Body)));
        string[] secrets =
        [
            BotProcess.BotToken, BotProcess.BotToken[(BotProcess.BotToken.IndexOf(':', StringComparison.Ordinal) + 1)..],
            Uri.EscapeDataString(BotProcess.BotToken), BotProcess.WebhookSecret, AdminToken, DatabasePassword,
        ];
        Assert.True(otlp.Posts.Count > 3, "expected exports");
        foreach (var secret in secrets)
        {
            Assert.False(everything.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..6]}…) leaked:\n{Around(everything, secret)}");
        }
    }

    private static string Text(IEnumerable<byte[]> bodies) => string.Join('\n', bodies.Select(b => Encoding.UTF8.GetString(b)));

    private static string Around(string text, string secret)
    {
        var at = text.IndexOf(secret, StringComparison.Ordinal);
        return text[Math.Max(0, at - 300)..Math.Min(text.Length, at + 100)].Replace(secret, "<SECRET>", StringComparison.Ordinal);
    }
}
