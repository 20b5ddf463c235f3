using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Primitives;

namespace Bot.Hosting;

/// <summary>
/// Removes the configured secrets from text that leaves the process (stored errors, console log lines, span
/// attributes and events, log records exported over OTLP). The bot token is part of every Bot API URL, so any
/// exception text or span that quotes a URL would otherwise carry it. The secrets are re-read whenever the
/// configuration reloads, and a value rotated out stays a secret (up to <see cref="RetiredLimit"/> of them).
/// </summary>
public sealed class SecretRedactor : IDisposable
{
    public const string Mask = "[redacted]";

    /// <summary>
    /// How many values (each form of a secret counts) that are no longer configured stay redacted; the oldest go
    /// first. The bound keeps a configuration that changes on every reload from growing the set without end.
    /// </summary>
    public const int RetiredLimit = 256;

    // Read by key, so that the hosting layer depends on no other module's options (a unit test checks that the keys
    // are those options' names).
    internal static readonly string[] SecretKeys =
    [
        "Telegram:BotToken", "Telegram:WebhookSecret", "Database:Password",
        "Admin:Token", "Admin:PreviousToken", "Admin:ReadToken", "Admin:PreviousReadToken", "Sentry:Dsn",
        "Discord:ClientSecret", "Discord:BotToken",
    ];

    internal static readonly string[] ConnectionStringKeys = ["Database:ConnectionString", "Database:ReadConnectionString"];
    private static readonly string BotTokenKey = SecretKeys[0];

    private readonly IConfiguration configuration;
    private readonly IDisposable subscription;
    private readonly Lock gate = new();
    private readonly List<string> retired = [];
    private HashSet<string> configured = new(StringComparer.Ordinal);
    private volatile Secrets secrets = Secrets.None;

    public SecretRedactor(IConfiguration configuration)
    {
        this.configuration = configuration;
        Load();
        subscription = ChangeToken.OnChange(configuration.GetReloadToken, Load);
    }

    /// <summary>The text without any secret; the same instance when it holds none.</summary>
    public string Redact(string text)
    {
        var current = secrets;
        var index = text.AsSpan().IndexOfAny(current.Search);
        if (index < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        var position = 0;
        do
        {
            var start = position + index;
            builder.Append(text, position, start - position).Append(Mask);
            position = start + current.LongestAt(text.AsSpan(start));
            index = text.AsSpan(position).IndexOfAny(current.Search);
        }
        while (index >= 0);

        return builder.Append(text, position, text.Length - position).ToString();
    }

    public bool Contains(ReadOnlySpan<char> text) => text.ContainsAny(secrets.Search);

    /// <summary>
    /// An attribute value without any secret, the same instance when it holds none. Exporters write values of
    /// other types as their invariant string, so those are checked in that form; arrays element by element.
    /// </summary>
    public object? RedactValue(object? value)
    {
        switch (value)
        {
            // The types that exporters write as numbers or booleans.
            case null or bool or byte or sbyte or short or ushort or int or uint or long or float or double:
                return value;
            case string text:
                return Redact(text);
            case object?[] items:
                return RedactItems(items);
            default:
                var written = Convert.ToString(value, CultureInfo.InvariantCulture);
                return written is not null && Contains(written) ? Redact(written) : value;
        }
    }

    public void Dispose() => subscription.Dispose();

    private object?[] RedactItems(object?[] items)
    {
        object?[]? copy = null;
        for (var i = 0; i < items.Length; i++)
        {
            var redacted = RedactValue(items[i]);
            if (!ReferenceEquals(redacted, items[i]))
            {
                // A string[] stays one (a redacted string is a string); any other array becomes object?[], which can
                // hold the string that replaces an element.
                copy ??= items is string[] strings ? (object?[])strings.Clone() : [.. items];
                copy[i] = redacted;
            }
        }

        return copy ?? items;
    }

    private void Load()
    {
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in SecretKeys)
        {
            AddForms(fresh, configuration[key]);
        }

        foreach (var key in ConnectionStringKeys)
        {
            AddForms(fresh, PasswordIn(configuration[key]));
        }

        // The token's secret half is enough to use it.
        if (configuration[BotTokenKey] is { } token && token.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
        {
            AddForms(fresh, token[(colon + 1)..]);
        }

        lock (gate)
        {
            // A value rotated out is still a credential until it is revoked, and text that quotes it may still be
            // on its way out (a retried error, a span that began before the reload).
            foreach (var value in configured)
            {
                if (!fresh.Contains(value))
                {
                    retired.Remove(value);
                    retired.Add(value);
                }
            }

            retired.RemoveAll(fresh.Contains);
            if (retired.Count > RetiredLimit)
            {
                retired.RemoveRange(0, retired.Count - RetiredLimit);
            }

            configured = fresh;
            secrets = new Secrets([.. fresh, .. retired]);
        }
    }

    /// <summary>The value and the forms it takes in a URL or a JSON string (the JSON console log escapes with the default encoder).</summary>
    private static void AddForms(HashSet<string> forms, string? value)
    {
        // Blank is no secret: redacting it would mask every space in every line.
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        foreach (var form in new[] { value, value.Trim() })
        {
            forms.Add(form);
            forms.Add(Uri.EscapeDataString(form));
            forms.Add(JavaScriptEncoder.Default.Encode(form));
        }
    }

    private static string? PasswordIn(string? connectionString)
    {
        try
        {
            return connectionString is null ? null : new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Password;
        }
        catch (ArgumentException)
        {
            // Reported, without the value, by the options validation.
            return null;
        }
    }

    /// <summary>One immutable set, swapped whole on reload so that a concurrent Redact sees either the old set or the new.</summary>
    private sealed class Secrets
    {
        public static readonly Secrets None = new([]);

        private readonly string[] longestFirst;

        public Secrets(string[] values)
        {
            longestFirst = [.. values.OrderByDescending(v => v.Length)];
            Search = SearchValues.Create(longestFirst, StringComparison.Ordinal);
        }

        public SearchValues<string> Search { get; }

        /// <summary>The length of the longest secret that <paramref name="text"/> starts with (the search found one there).</summary>
        public int LongestAt(ReadOnlySpan<char> text)
        {
            foreach (var secret in longestFirst)
            {
                if (text.StartsWith(secret, StringComparison.Ordinal))
                {
                    return secret.Length;
                }
            }

            throw new InvalidOperationException("no secret at the position the search reported");
        }
    }
}
