using Bot.Storage;
using Bot.Telegram;
using Microsoft.Extensions.Options;

namespace Bot.Hosting;

/// <summary>
/// Removes the configured secrets from text that leaves the process (stored errors, log messages, span
/// attributes and log records exported over OTLP). The bot token is part of every Bot API URL, so any
/// exception text or span that quotes a URL would otherwise carry it.
/// </summary>
public sealed class SecretRedactor
{
    public const string Mask = "[redacted]";

    private readonly string[] secrets;

    public SecretRedactor(IOptions<TelegramOptions> telegram, IOptions<DatabaseOptions> database, IConfiguration? configuration = null)
    {
        var candidates = new List<string?>
        {
            telegram.Value.BotToken, telegram.Value.WebhookSecret, database.Value.Password, PasswordIn(database.Value.ConnectionString),
            // The admin API's bearer token; read by key so that this class does not depend on the admin feature.
            configuration?["Admin:Token"],
        };
        // The token's secret half is enough to use it; redact it alone too (URL-encoded forms are identical for its alphabet).
        if (telegram.Value.BotToken is { } token && token.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon)
        {
            candidates.Add(token[(colon + 1)..]);
        }

        secrets = candidates.Where(s => s is { Length: >= 8 }).Select(s => s!).Distinct().OrderByDescending(s => s.Length).ToArray();
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

    /// <summary>The text without any secret; the same instance when it holds none.</summary>
    public string Redact(string text)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return text;
    }
}
