using System.Text.Encodings.Web;
using System.Text.Json;
using Bot.Hosting;
using Bot.Tests.Unit.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// Console log lines, in the Development (simple) and production (JSON) formats, made by the formatter that the
/// console logger is configured with, from log calls through the host's logger factory (its scopes included).
/// </summary>
public sealed class LogRedactionTests
{
    // Characters that the JSON formatter escapes, so the line holds an escaped form of it.
    private const string OddPassword = "pa\"ss+w<o>r&d'ü";

    [Theory]
    [InlineData("Development", "simple")]
    [InlineData("Production", "json")]
    public void A_secret_in_the_message_an_argument_a_scope_or_an_exception_is_not_printed(string environment, string expectedFormatter)
    {
        var (lines, formatter) = Log(environment, logger =>
        {
            var token = TelemetryFixtures.Token;
            // A library's message with the URL in its text, and a structured argument that holds it.
            logger.Log(LogLevel.Warning, new EventId(1), $"GET https://api.telegram.org/bot{token}/getMe failed", null, (state, _) => state);
            logger.LogInformation("Connecting with {ConnectionString}", $"Host=db;Password={OddPassword}");
            using (logger.BeginScope("admin call with {Authorization}", "Bearer " + TelemetryFixtures.AdminToken))
            using (logger.BeginScope(new Dictionary<string, object?> { ["webhook.secret"] = TelemetryFixtures.WebhookSecretValue }))
            {
                var failure = new InvalidOperationException("send failed: " + TelemetryFixtures.WebhookSecretValue,
                    new HttpRequestException($"POST https://api.telegram.org/bot{token}/sendMessage: 502"));
                logger.LogError(failure, "Sending {Method} failed", "sendMessage");
            }
        });

        Assert.Equal(expectedFormatter, formatter.Name);
        Assert.IsType<RedactingConsoleFormatter>(formatter);
        var output = string.Join('\n', lines);
        foreach (var secret in TelemetryFixtures.Secrets.Append(OddPassword))
        {
            Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
            Assert.DoesNotContain(JavaScriptEncoder.Default.Encode(secret), output, StringComparison.Ordinal);
        }

        // The lines are there, with everything but the secrets.
        Assert.Contains("GET https://api.telegram.org/bot[redacted]/getMe failed", output, StringComparison.Ordinal);
        Assert.Contains("Host=db;Password=[redacted]", output, StringComparison.Ordinal);
        Assert.Contains("admin call with Bearer [redacted]", output, StringComparison.Ordinal);
        Assert.Contains("send failed: [redacted]", output, StringComparison.Ordinal);
        Assert.Contains("POST https://api.telegram.org/bot[redacted]/sendMessage: 502", output, StringComparison.Ordinal);
        if (expectedFormatter == "json")
        {
            Assert.All(lines, line => JsonDocument.Parse(line).Dispose());
            Assert.Contains("\"webhook.secret\":\"[redacted]\"", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_console_formatter_redacts()
    {
        using var host = Host(Settings("Production"));

        var formatters = host.Services.GetServices<ConsoleFormatter>().ToList();

        Assert.Contains(formatters, f => f.Name == ConsoleFormatterNames.Json);
        Assert.Contains(formatters, f => f.Name == ConsoleFormatterNames.Simple);
        Assert.All(formatters, f => Assert.IsType<RedactingConsoleFormatter>(f));
    }

    private static (List<string> Lines, ConsoleFormatter Formatter) Log(string environment, Action<ILogger> log)
    {
        var settings = Settings(environment);
        // Development leaves scopes out of its simple lines; on here, so that they are checked too.
        settings["Logging:Console:FormatterOptions:IncludeScopes"] = "true";
        using var host = Host(settings);
        var name = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        var formatter = host.Services.GetServices<ConsoleFormatter>().First(f => f.Name == name);
        var sink = new FormatterSink(formatter);
        var factory = host.Services.GetRequiredService<ILoggerFactory>();
        factory.AddProvider(sink);
        log(factory.CreateLogger("Some.Library"));
        return (sink.Lines, formatter);
    }

    /// <summary>The bot's appsettings for the environment, the unit secrets, and the console logger itself silenced (the sink prints).</summary>
    private static Dictionary<string, string?> Settings(string environment)
    {
        var files = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepoRoot(), "src/Bot/appsettings.json"))
            .AddJsonFile(Path.Combine(RepoRoot(), $"src/Bot/appsettings.{environment}.json"))
            .Build();
        var settings = files.AsEnumerable().Where(s => s.Value is not null).ToDictionary(s => s.Key, s => s.Value);
        foreach (var (key, value) in TelemetryFixtures.SecretSettings())
        {
            settings[key] = value;
        }

        settings["Database:Password"] = OddPassword;
        settings["Logging:Console:LogLevel:Default"] = "None";
        return settings;
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.AddBotLogging();
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        return builder.Build();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Bot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Does what the console logger does with a log call: one entry, formatted with the factory's scopes.</summary>
    private sealed class FormatterSink(ConsoleFormatter formatter) : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? scopes;

        public ConsoleFormatter Formatter { get; } = formatter;

        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(FormatterSink sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => sink.scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                using var writer = new StringWriter();
                var entry = new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter);
                sink.Formatter.Write(in entry, sink.scopes, writer);
                sink.Lines.AddRange(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }
    }
}
