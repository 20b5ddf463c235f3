using Microsoft.Extensions.Logging;

namespace FakeTelegram;

public sealed record FakeTelegramOptions
{
    /// <summary>Where to listen: an http URL with a host and a port; port 0 takes a free one.</summary>
    public string ListenUrl { get; init; } = "http://127.0.0.1:0";

    /// <summary>Bot tokens the fake accepts; empty accepts any well-formed <c>&lt;digits&gt;:&lt;secret&gt;</c>.</summary>
    public IReadOnlyCollection<string> Tokens { get; init; } = [];

    public RateLimits RateLimits { get; init; } = RateLimits.Telegram;

    /// <summary>Drives rate-limit windows, long-poll timeouts, slow answers and message dates.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Real Telegram only accepts HTTPS webhooks on ports 443, 80, 88 and 8443. Tests that register a local
    /// http URL turn this off.
    /// </summary>
    public bool ValidateWebhookUrls { get; init; } = true;

    /// <summary>Oldest call records are dropped past this many; counters and deliveries are kept in full.</summary>
    public int MaxRecordedCalls { get; init; } = 100_000;

    public string BotFirstName { get; init; } = "Fake Bot";

    public string BotUsername { get; init; } = "fake_bot";

    /// <summary>In-process the fake logs nothing unless told where to; the standalone program logs to the console.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}
