using Microsoft.Extensions.Logging;

namespace FakeTelegram;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Fake Telegram Bot API listening on {Url}")]
    public static partial void Listening(ILogger logger, string url);

    // Method, chat and outcome only: the token is in the URL and must never reach a log.
    [LoggerMessage(2, LogLevel.Information, "{Method} chat={Chat} -> {Outcome}")]
    public static partial void Call(ILogger logger, string method, string chat, string outcome);
}
