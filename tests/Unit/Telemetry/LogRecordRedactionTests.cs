using System.Globalization;
using System.Text;
using Bot.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;

namespace Bot.Tests.Unit.Telemetry;

/// <summary>Log records through the SDK as TelemetryExtensions sets it up, the exporter replaced by one that keeps copies.</summary>
public sealed class LogRecordRedactionTests
{
    [Fact]
    public void A_secret_in_the_message_an_attribute_a_scope_or_an_exception_is_not_exported()
    {
        var records = new List<LogRecord>();
        using var redactor = TelemetryFixtures.Redactor();
        var services = new ServiceCollection();
        services.AddSingleton<LogScopes>();
        services.AddLogging(logging => logging.Services.AddSingleton<ILoggerProvider>(sp => sp.GetRequiredService<LogScopes>()));
        services.AddOpenTelemetry().WithLogging(
            logging => logging
                .AddProcessor(sp => new RedactingLogProcessor(redactor, sp.GetRequiredService<LogScopes>()))
                .AddInMemoryExporter(records),
            options =>
            {
                options.IncludeFormattedMessage = true;
                options.IncludeScopes = false;
            });
        using (var provider = services.BuildServiceProvider())
        {
            var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Some.Library");
            var token = TelemetryFixtures.Token;
            using (logger.BeginScope(new Dictionary<string, object?> { ["admin.token"] = TelemetryFixtures.AdminToken, ["chat.id"] = 42L }))
            using (logger.BeginScope("plain scope {Password}", TelemetryFixtures.DbPassword))
            {
                var failure = new InvalidOperationException("send failed: " + TelemetryFixtures.WebhookSecretValue,
                    new HttpRequestException($"POST https://api.telegram.org/bot{token}/sendMessage: 502"));
                logger.LogError(failure, "GET {Url} failed for bot {Token}", new Uri($"https://api.telegram.org/bot{token}/getMe"), token);
            }
        }

        var record = Assert.Single(records);
        var text = Describe(record);
        foreach (var secret in TelemetryFixtures.Secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Null(record.Exception);
        var attributes = record.Attributes!.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal("https://api.telegram.org/bot[redacted]/getMe", attributes["Url"]);
        Assert.Equal("send failed: [redacted]", attributes["exception.message"]);
        Assert.Contains("POST https://api.telegram.org/bot[redacted]/sendMessage: 502", (string)attributes["exception.stacktrace"]!, StringComparison.Ordinal);
        // The key/value scope is exported, redacted; the formatted scope's value too (its text and {OriginalFormat} are not).
        Assert.Equal("[redacted]", attributes["admin.token"]);
        Assert.Equal(42L, attributes["chat.id"]);
        Assert.Equal("[redacted]", attributes["Password"]);
        Assert.Equal("[redacted]", attributes["Token"]);
        Assert.Equal("GET https://api.telegram.org/bot[redacted]/getMe failed for bot [redacted]", record.FormattedMessage);
    }

    private static string Describe(LogRecord record)
    {
        var text = new StringBuilder().AppendLine(record.FormattedMessage).AppendLine(record.Body).AppendLine(record.Exception?.ToString());
        foreach (var (key, value) in record.Attributes ?? [])
        {
            text.Append(key).Append('=').AppendLine(Convert.ToString(value, CultureInfo.InvariantCulture));
        }

        record.ForEachScope((scope, builder) =>
        {
            foreach (var (key, value) in scope)
            {
                builder.Append(key).Append('=').AppendLine(Convert.ToString(value, CultureInfo.InvariantCulture));
            }
        }, text);
        return text.ToString();
    }
}
