using System.Diagnostics;
using Bot.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Bot.Telemetry;

/// <summary>
/// Last line of defence before export: the HttpClient instrumentation puts the Bot API URL, token included,
/// into url.full (and older conventions into http.url); Npgsql may name its connection. Every string tag and
/// the span's name and status are passed through <see cref="SecretRedactor"/>. Registered before the
/// exporter, so the exporter only ever sees the redacted span.
/// </summary>
public sealed class RedactingActivityProcessor(SecretRedactor redactor) : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        List<KeyValuePair<string, string>>? changed = null;
        foreach (var tag in data.TagObjects)
        {
            if (tag.Value is string text && !ReferenceEquals(redactor.Redact(text), text))
            {
                (changed ??= []).Add(new(tag.Key, redactor.Redact(text)));
            }
        }

        if (changed is not null)
        {
            foreach (var (key, value) in changed)
            {
                data.SetTag(key, value);
            }
        }

        var name = redactor.Redact(data.DisplayName);
        if (!ReferenceEquals(name, data.DisplayName))
        {
            data.DisplayName = name;
        }

        if (data.StatusDescription is { } status && !ReferenceEquals(redactor.Redact(status), status))
        {
            data.SetStatus(data.Status, redactor.Redact(status));
        }
    }
}

/// <summary>
/// The same for log records sent over OTLP: the message, its attributes and an attached exception (whose
/// text the exporter would copy as is). The console logger prints the bot's own messages, which redact
/// at the call site; third-party URI logging is switched off (see TelemetryExtensions).
/// </summary>
public sealed class RedactingLogProcessor(SecretRedactor redactor) : BaseProcessor<LogRecord>
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

        if (data.Attributes is { Count: > 0 } attributes)
        {
            var copy = new List<KeyValuePair<string, object?>>(attributes.Count + 3);
            foreach (var attribute in attributes)
            {
                copy.Add(attribute.Value is string text ? new(attribute.Key, redactor.Redact(text)) : attribute);
            }

            data.Attributes = copy;
        }

        if (data.Exception is { } exception)
        {
            // The exporter reads the exception object itself; replace it with its redacted description.
            var attributesWithException = new List<KeyValuePair<string, object?>>(data.Attributes ?? [])
            {
                new("exception.type", exception.GetType().FullName),
                new("exception.message", redactor.Redact(exception.Message)),
                new("exception.stacktrace", redactor.Redact(exception.ToString())),
            };
            data.Attributes = attributesWithException;
            data.Exception = null;
        }
    }
}
