using System.Diagnostics;
using System.Runtime.CompilerServices;
using Bot.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Bot.Telemetry;

/// <summary>
/// Last line of defence before export: the HttpClient instrumentation puts the Bot API URL, token included,
/// into url.full (and older conventions into http.url); Npgsql may name its connection; an exception recorded
/// on a span (Activity.AddException, an instrumentation's RecordException) copies its message and stack into an
/// event. The span's name, status, trace state, tags, events and links are passed through
/// <see cref="SecretRedactor"/>. Registered before the exporter's processor, so that processor (which only
/// queues the span in its own OnEnd) and the exporter after it only ever see the redacted span.
/// </summary>
public sealed class RedactingActivityProcessor(SecretRedactor redactor) : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        RedactTags(data);

        var name = redactor.Redact(data.DisplayName);
        if (!ReferenceEquals(name, data.DisplayName))
        {
            data.DisplayName = name;
        }

        if (data.StatusDescription is { } status && redactor.Contains(status))
        {
            data.SetStatus(data.Status, redactor.Redact(status));
        }

        if (data.TraceStateString is { } traceState && redactor.Contains(traceState))
        {
            data.TraceStateString = redactor.Redact(traceState);
        }

        if (!ActivityEntries.TryRedact(data, redactor))
        {
            // Events or links hold a secret and cannot be rewritten on this runtime: the span is not exported
            // (the exporter's processor skips spans that are not recorded) rather than exported with it.
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }

    private void RedactTags(Activity data)
    {
        List<(string Key, string NewKey, object? Value)>? changed = null;
        foreach (var tag in data.TagObjects)
        {
            var key = redactor.Redact(tag.Key);
            var value = redactor.RedactValue(tag.Value);
            if (!ReferenceEquals(key, tag.Key) || !ReferenceEquals(value, tag.Value))
            {
                (changed ??= []).Add((tag.Key, key, value));
            }
        }

        // Set after the enumeration, which a change would invalidate.
        foreach (var (key, newKey, value) in changed ?? [])
        {
            if (!ReferenceEquals(key, newKey))
            {
                data.SetTag(key, null);
            }

            data.SetTag(newKey, value);
        }
    }
}

/// <summary>
/// Rewrites an ended span's events and links. <see cref="ActivityEvent"/> and <see cref="ActivityLink"/> copy
/// their tags when made and <see cref="Activity"/> has no way to remove either, so the span's own lists are
/// emptied through their internal Clear (the object that Activity.Events and Activity.Links return while there
/// are any) and refilled with redacted copies, in order and with the original timestamps.
/// </summary>
internal static class ActivityEntries
{
    // Checked against the object before calling into it: the accessor does not check the type of its target.
    private const string ListTypeName = "DiagLinkedList`1";

    /// <summary>False when something must change and the lists cannot be rewritten on this runtime.</summary>
    public static bool TryRedact(Activity activity, SecretRedactor redactor)
    {
        // Most spans have neither: nothing is allocated for them.
        List<ActivityEvent>? events = null;
        var eventsChanged = false;
        foreach (ref readonly var entry in activity.EnumerateEvents())
        {
            (events ??= []).Add(Redact(entry, redactor, ref eventsChanged));
        }

        List<ActivityLink>? links = null;
        var linksChanged = false;
        foreach (ref readonly var link in activity.EnumerateLinks())
        {
            (links ??= []).Add(Redact(link, redactor, ref linksChanged));
        }

        if ((eventsChanged && !TryClear(activity.Events)) || (linksChanged && !TryClear(activity.Links)))
        {
            return false;
        }

        foreach (var entry in eventsChanged ? events! : [])
        {
            activity.AddEvent(entry);
        }

        foreach (var link in linksChanged ? links! : [])
        {
            activity.AddLink(link);
        }

        return true;
    }

    private static ActivityEvent Redact(in ActivityEvent entry, SecretRedactor redactor, ref bool changed)
    {
        var name = redactor.Redact(entry.Name);
        var tags = RedactTags(entry.Tags, redactor);
        if (ReferenceEquals(name, entry.Name) && tags is null)
        {
            return entry;
        }

        changed = true;
        return new ActivityEvent(name, entry.Timestamp, tags ?? new(entry.Tags));
    }

    private static ActivityLink Redact(in ActivityLink link, SecretRedactor redactor, ref bool changed)
    {
        var context = link.Context;
        if (context.TraceState is { } traceState && redactor.Contains(traceState))
        {
            context = new ActivityContext(context.TraceId, context.SpanId, context.TraceFlags, redactor.Redact(traceState), context.IsRemote);
        }

        var tags = link.Tags is null ? null : RedactTags(link.Tags, redactor);
        if (context == link.Context && tags is null)
        {
            return link;
        }

        changed = true;
        return new ActivityLink(context, tags ?? (link.Tags is null ? null : new(link.Tags)));
    }

    /// <summary>The redacted tags, or null when none holds a secret.</summary>
    private static ActivityTagsCollection? RedactTags(IEnumerable<KeyValuePair<string, object?>> tags, SecretRedactor redactor)
    {
        var changed = false;
        var copy = new List<KeyValuePair<string, object?>>();
        foreach (var tag in tags)
        {
            var key = redactor.Redact(tag.Key);
            var value = redactor.RedactValue(tag.Value);
            changed |= !ReferenceEquals(key, tag.Key) || !ReferenceEquals(value, tag.Value);
            copy.Add(new(key, value));
        }

        return changed ? new ActivityTagsCollection(copy) : null;
    }

    private static bool TryClear<T>(IEnumerable<T> list)
    {
        var type = list.GetType();
        if (type.Name != ListTypeName || type.Assembly != typeof(Activity).Assembly)
        {
            return false;
        }

        try
        {
            ListAccessor<T>.Clear(list);
            return true;
        }
        catch (Exception exception) when (exception is MissingMemberException or TypeLoadException or NotSupportedException)
        {
            return false;
        }
    }

    private static class ListAccessor<T>
    {
        [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Clear")]
        public static extern void Clear(
            [UnsafeAccessorType("System.Diagnostics.DiagLinkedList`1[[!0]], System.Diagnostics.DiagnosticSource")] object list);
    }
}

/// <summary>
/// The same for log records sent over OTLP: the message, its attributes, an attached exception (whose text the
/// exporter would copy as is) and the logger scopes. The SDK's own scope export is off (see TelemetryExtensions):
/// the record cannot drop a scope, so this processor copies the scopes into the attributes, redacted, the way
/// the exporter would have written them. The console log is redacted by its formatter (see LoggingExtensions).
/// </summary>
public sealed class RedactingLogProcessor(SecretRedactor redactor, LogScopes? scopes = null) : BaseProcessor<LogRecord>
{
    public override void OnEnd(LogRecord data)
    {
        if (data.FormattedMessage is { } formatted)
        {
            data.FormattedMessage = redactor.Redact(formatted);
        }

        if (data.Body is { } body)
        {
            data.Body = redactor.Redact(body);
        }

        var attributes = new List<KeyValuePair<string, object?>>((data.Attributes?.Count ?? 0) + 3);
        foreach (var attribute in data.Attributes ?? [])
        {
            attributes.Add(new(attribute.Key, redactor.RedactValue(attribute.Value)));
        }

        if (data.Exception is { } exception)
        {
            // The exporter reads the exception object itself; replace it with its redacted description.
            attributes.Add(new("exception.type", exception.GetType().FullName));
            attributes.Add(new("exception.message", redactor.Redact(exception.Message)));
            attributes.Add(new("exception.stacktrace", redactor.Redact(exception.ToString())));
            data.Exception = null;
        }

        // Runs inside the Log call, so the scopes are those of the code that logged.
        scopes?.Provider?.ForEachScope(static (scope, state) => state.Processor.AddScope(state.Attributes, scope), (Processor: this, Attributes: attributes));

        if (data.Attributes is not null || attributes.Count > 0)
        {
            data.Attributes = attributes;
        }
    }

    private void AddScope(List<KeyValuePair<string, object?>> attributes, object? scope)
    {
        // As the OTLP exporter does: only key/value scopes, without the empty and {OriginalFormat} keys that a
        // plain or formatted scope brings.
        if (scope is not IEnumerable<KeyValuePair<string, object?>> items)
        {
            return;
        }

        foreach (var item in items)
        {
            if (!string.IsNullOrEmpty(item.Key) && item.Key != "{OriginalFormat}")
            {
                attributes.Add(new(item.Key, redactor.RedactValue(item.Value)));
            }
        }
    }
}

/// <summary>
/// Registered as a logger provider only to be handed the logger factory's scopes (it logs nothing itself), so
/// that <see cref="RedactingLogProcessor"/> can read the scopes of a log call.
/// </summary>
public sealed class LogScopes : ILoggerProvider, ISupportExternalScope
{
    public IExternalScopeProvider? Provider { get; private set; }

    public ILogger CreateLogger(string categoryName) => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => Provider = scopeProvider;

    public void Dispose()
    {
    }
}
