using System.Diagnostics;
using System.Diagnostics.Metrics;
using Bot.Coordination;

namespace Bot.Telemetry;

/// <summary>
/// The bot's own instruments, all on the one "Bot" meter with OpenTelemetry names (a <c>bot.</c> prefix,
/// UCUM units). Prometheus sees them through the collector as, for example, <c>bot_updates_received_total</c>
/// or <c>bot_update_processing_duration_seconds</c>; docs/telemetry.md lists every one.
/// </summary>
public sealed class BotMetrics
{
    public const string MeterName = "Bot";

    private readonly Counter<long> received;
    private readonly Counter<long> processed;
    private readonly Counter<long> deadLettered;
    private readonly Histogram<double> processingDuration;
    private readonly Counter<long> apiCalls;
    private readonly Counter<long> rateLimited;
    private readonly Counter<long> messagesSent;
    private readonly Counter<long> messagesFailed;
    private readonly Counter<long> adminRequests;

    public BotMetrics(IMeterFactory meterFactory, LeadershipState leadership, QueueSnapshot queues)
    {
        var meter = meterFactory.Create(MeterName);
        received = meter.CreateCounter<long>("bot.updates.received", "{update}", "Updates taken in by the webhook or getUpdates, by kind and whether they were new.");
        processed = meter.CreateCounter<long>("bot.updates.processed", "{update}", "Handling attempts that finished, by kind and outcome (done, failed, lease_lost).");
        deadLettered = meter.CreateCounter<long>("bot.updates.dead_lettered", "{update}", "Updates given up after their last attempt, by kind.");
        processingDuration = meter.CreateHistogram(
            "bot.update.processing.duration", "s", "Time to handle one update, its transaction included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        apiCalls = meter.CreateCounter<long>("bot.telegram.api.calls", "{call}", "Bot API calls by method and HTTP status (or error type when no answer came).");
        rateLimited = meter.CreateCounter<long>("bot.telegram.api.rate_limited", "{call}", "Bot API calls answered 429 Too Many Requests, by method.");
        messagesSent = meter.CreateCounter<long>("bot.messages.sent", "{message}", "Outbox rows delivered to Telegram, by method.");
        messagesFailed = meter.CreateCounter<long>("bot.messages.failed", "{message}", "Outbox rows given up, by method and reason (dead, unreachable).");
        adminRequests = meter.CreateCounter<long>("bot.admin.requests", "{request}", "Admin API calls by route, status and the caller's scope (none when unauthenticated).");

        // Read on the leader from PostgreSQL by QueueSampler; other replicas report nothing, so a sum over
        // replicas is the queue itself and leadership moving cannot leave a stale figure behind.
        meter.CreateObservableGauge("bot.inbox.lag", () => queues.Observe(s => s.InboxLagSeconds), "s", "Age of the oldest unfinished update.");
        meter.CreateObservableGauge("bot.inbox.depth", () => queues.Observe(s => (double)s.InboxDepth), "{update}", "Unfinished updates in the inbox.");
        meter.CreateObservableGauge("bot.outbox.depth", ObserveOutbox(queues), "{message}", "Unsent outbox rows, by priority (interactive, bulk).");
        meter.CreateObservableGauge("bot.leader", () => leadership.IsLeader ? 1 : 0, "{leader}", "1 while this replica leads (runs the sender and the other singletons), else 0.");
    }

    public void UpdateReceived(string kind, bool duplicate) =>
        received.Add(1, new("update.kind", kind), new("outcome", duplicate ? "duplicate" : "stored"));

    public void UpdateProcessed(string kind, string outcome, TimeSpan duration)
    {
        processed.Add(1, new("update.kind", kind), new("outcome", outcome));
        processingDuration.Record(duration.TotalSeconds, new("update.kind", kind), new("outcome", outcome));
    }

    public void UpdateDeadLettered(string kind) => deadLettered.Add(1, new KeyValuePair<string, object?>("update.kind", kind));

    /// <summary>One Bot API call; <paramref name="status"/> is null when no HTTP answer came (then <paramref name="errorType"/> says why).</summary>
    public void ApiCall(string method, int? status, string? errorType)
    {
        var tags = new TagList { { "telegram.method", method } };
        if (status is { } code)
        {
            tags.Add("http.response.status_code", code);
        }
        else
        {
            tags.Add("error.type", errorType ?? "error");
        }

        apiCalls.Add(1, tags);
        if (status == 429)
        {
            rateLimited.Add(1, new KeyValuePair<string, object?>("telegram.method", method));
        }
    }

    public void MessageSent(string method) => messagesSent.Add(1, new KeyValuePair<string, object?>("telegram.method", method));

    public void MessageFailed(string method, string reason) =>
        messagesFailed.Add(1, new("telegram.method", method), new("reason", reason));


    /// <summary>One admin API call: its route pattern (never the raw path), status code and scope (read, write or none).</summary>
    public void AdminRequest(string route, int status, string scope) =>
        adminRequests.Add(1, new("http.route", route), new("http.response.status_code", status), new("scope", scope));

    private static Func<IEnumerable<Measurement<long>>> ObserveOutbox(QueueSnapshot queues) => () =>
        queues.Current is { } s
            ? [new(s.OutboxInteractive, new KeyValuePair<string, object?>("priority", "interactive")),
               new(s.OutboxBulk, new KeyValuePair<string, object?>("priority", "bulk"))]
            : [];
}
