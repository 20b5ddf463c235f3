using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Bot.Hosting;

/// <summary>
/// A console formatter (json, simple, systemd) that writes what the formatter it wraps writes, without the
/// secrets. It redacts the finished text rather than the parts, so nothing the formatter adds (a structured
/// value, a scope, an exception's message, inner exceptions and stack) is missed; the JSON formatter's escaped
/// forms of a secret are among the forms <see cref="SecretRedactor"/> knows.
/// </summary>
public sealed class RedactingConsoleFormatter(ConsoleFormatter inner, SecretRedactor redactor) : ConsoleFormatter(inner.Name)
{
    // The console logger formats on the logging thread; one buffer per thread, as the console logger keeps its own.
    [ThreadStatic]
    private static StringWriter? buffer;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var writer = buffer ??= new StringWriter(CultureInfo.InvariantCulture);
        var text = writer.GetStringBuilder();
        try
        {
            inner.Write(in logEntry, scopeProvider, writer);
            if (text.Length > 0)
            {
                textWriter.Write(redactor.Redact(text.ToString()));
            }
        }
        finally
        {
            text.Clear();
            // A long entry (a stack trace) does not keep its buffer for the life of the thread.
            if (text.Capacity > 4096)
            {
                text.Capacity = 4096;
            }
        }
    }
}
