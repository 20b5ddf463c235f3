using System.Diagnostics;
using Bot.Hosting;

namespace Bot.Telemetry;

/// <summary>
/// The "Bot" ActivitySource and the one trace an update makes: <c>ingest update</c> (under the webhook
/// request) → <c>handle update</c> (continues the traceparent stored in the inbox row) → <c>send {method}</c>
/// (continues the traceparent the handler stored in the outbox row). The stored value is a W3C traceparent.
/// </summary>
public static class BotActivities
{
    public const string SourceName = "Bot";

    public static readonly ActivitySource Source = new(SourceName);

    public static Activity? StartIngest(long updateId, string kind)
    {
        var activity = Source.StartActivity("ingest update", ActivityKind.Internal);
        activity?.SetTag("telegram.update.id", updateId);
        activity?.SetTag("telegram.update.kind", kind);
        return activity;
    }

    /// <summary>Handling, as a child of the ingest span whose traceparent the inbox row carries.</summary>
    public static Activity? StartHandle(long updateId, string kind, int attempt, string? traceParent)
    {
        var activity = Source.StartActivity("handle update", ActivityKind.Consumer, Parent(traceParent));
        activity?.SetTag("telegram.update.id", updateId);
        activity?.SetTag("telegram.update.kind", kind);
        activity?.SetTag("bot.attempt", attempt);
        return activity;
    }

    /// <summary>A Bot API call for an outbox row, as a child of the handler span that queued it.</summary>
    public static Activity? StartSend(long outboxId, string method, long chatId, int attempt, string? traceParent)
    {
        var activity = Source.StartActivity("send " + method, ActivityKind.Producer, Parent(traceParent));
        activity?.SetTag("telegram.method", method);
        activity?.SetTag("telegram.chat.id", chatId);
        activity?.SetTag("bot.outbox.id", outboxId);
        activity?.SetTag("bot.attempt", attempt);
        return activity;
    }

    /// <summary>The traceparent to store with a row, so that its later processing joins this trace.</summary>
    public static string? CurrentTraceParent(string? fallback = null) =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : fallback;

    /// <summary>
    /// Records the failure on the span the way OpenTelemetry's exception convention does, with the message
    /// and stack redacted: exception text may quote a Bot API URL, and the token is part of it.
    /// </summary>
    public static void RecordException(Activity? activity, Exception exception, SecretRedactor redactor)
    {
        if (activity is null)
        {
            return;
        }

        var message = redactor.Redact(exception.Message);
        activity.SetStatus(ActivityStatusCode.Error, message);
        activity.SetTag("error.type", exception.GetType().FullName);
        activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
        {
            ["exception.type"] = exception.GetType().FullName,
            ["exception.message"] = message,
            ["exception.stacktrace"] = redactor.Redact(exception.ToString()),
        }));
    }

    private static ActivityContext Parent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var parent) ? parent : default;
}
