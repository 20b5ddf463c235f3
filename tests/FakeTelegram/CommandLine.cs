using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FakeTelegram;

/// <summary>The standalone program's arguments.</summary>
internal static class CommandLine
{
    public const string Usage = """
        Usage: FakeTelegram [--urls http://127.0.0.1:8081 | --port 8081] [--token ID:SECRET]... [--no-rate-limits]
                            [--private-chat-leeway-ms MS] [--allow-http-webhooks] [--max-recorded-calls N] [--quiet]
          --urls URL          where to listen (default http://127.0.0.1:8081)
          --port N            listen on http://127.0.0.1:N
          --token T           accept only this token (repeat for more); default: any <digits>:<secret>
          --no-rate-limits    do not enforce Telegram's message limits
          --private-chat-leeway-ms MS   let a private chat run this much faster than 1 message per second
          --allow-http-webhooks         accept any http(s) URL and port in setWebhook
          --max-recorded-calls N        keep the last N calls in /_fake/calls (default 100000)
          --quiet             log only the start line and problems, not every call
        Control API: http://HOST:PORT/_fake/ (see tests/FakeTelegram/README.md)
        """;

    /// <summary>Options for the arguments, or an error message.</summary>
    public static (FakeTelegramOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var url = "http://127.0.0.1:8081";
        var tokens = new List<string>();
        var limits = RateLimits.Telegram;
        var validateWebhooks = true;
        var maxRecordedCalls = new FakeTelegramOptions().MaxRecordedCalls;
        var level = LogLevel.Information;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (arg)
            {
                case "--urls":
                    // ASP.NET Core's --urls takes a ;-separated list; the fake listens on the first.
                    url = Next()?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
                    break;
                case "--port":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                    {
                        return (null, "--port needs a port number");
                    }

                    url = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
                    break;
                case "--token":
                    if (Next() is not { Length: > 0 } token)
                    {
                        return (null, "--token needs a token");
                    }

                    tokens.Add(token);
                    break;
                case "--no-rate-limits":
                    limits = RateLimits.None;
                    break;
                case "--private-chat-leeway-ms":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var leeway))
                    {
                        return (null, "--private-chat-leeway-ms needs a number of milliseconds");
                    }

                    limits = limits with { PrivateChatLeeway = TimeSpan.FromMilliseconds(leeway) };
                    break;
                case "--allow-http-webhooks":
                    validateWebhooks = false;
                    break;
                case "--max-recorded-calls":
                    if (!int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out maxRecordedCalls) || maxRecordedCalls < 1)
                    {
                        return (null, "--max-recorded-calls needs a positive number");
                    }

                    break;
                case "--quiet":
                    level = LogLevel.Warning;
                    break;
                default:
                    return (null, "unknown argument " + arg);
            }
        }

        if (url.Length == 0)
        {
            return (null, "--urls needs a URL");
        }

        var quiet = level > LogLevel.Information;
        return (new FakeTelegramOptions
        {
            ListenUrl = url,
            Tokens = tokens,
            RateLimits = limits,
            ValidateWebhookUrls = validateWebhooks,
            MaxRecordedCalls = maxRecordedCalls,
            ConfigureLogging = logging => logging
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss.fff ";
                    console.ColorBehavior = LoggerColorBehavior.Disabled;
                })
                .SetMinimumLevel(LogLevel.Information)
                .AddFilter("FakeTelegram", quiet ? LogLevel.Warning : LogLevel.Information),
        }, null);
    }
}
