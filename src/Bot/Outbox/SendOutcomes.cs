using Telegram.Bot.Exceptions;

namespace Bot.Outbox;

public enum SettlementKind
{
    Sent,
    Retry,
    Dead,
    Unreachable,
}

/// <summary>What becomes of an outbox row after its call: the state it is settled in and what is recorded with it.</summary>
public sealed record Settlement(SettlementKind Kind, string? Result, TimeSpan? RetryAfter, string? Error, bool CountsAsAttempt)
{
    /// <summary>A 429: Telegram asks for quiet, in this chat and (it does not say which limit) everywhere.</summary>
    public bool PausesSending { get; init; }

    /// <summary>A 401 or 404: the bot's credentials or the API address are wrong, not the message.</summary>
    public bool IsConfigurationProblem { get; init; }

    public static Settlement Sent(string? result) => new(SettlementKind.Sent, result, null, null, false);

    public static Settlement Retry(TimeSpan after, string error, bool countsAsAttempt) => new(SettlementKind.Retry, null, after, error, countsAsAttempt);

    public static Settlement Dead(string error) => new(SettlementKind.Dead, null, null, error, false);

    public static Settlement Unreachable(string error) => new(SettlementKind.Unreachable, null, null, error, false);
}

/// <summary>How a failed Bot API call is settled; a pure function of the failure, so that every answer can be tested.</summary>
public static class SendOutcomes
{
    /// <summary>The longest wait between two attempts after a transient failure, before jitter.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(300);

    /// <summary>
    /// The settlement of a call to <paramref name="method"/> that failed with <paramref name="exception"/> on its
    /// <paramref name="attempt"/>th attempt. <paramref name="error"/> is the failure as recorded (already redacted);
    /// <paramref name="refusalIsNotTheChats"/> tells whether a 403 to a method is about something other than the
    /// row's chat; <paramref name="jitter"/>, in [0, 1), spreads the retries of a transient failure.
    /// </summary>
    public static Settlement Classify(
        Exception exception, string error, string method, int attempt, int maxAttempts, Func<string, bool> refusalIsNotTheChats, double jitter)
    {
        ArgumentNullException.ThrowIfNull(refusalIsNotTheChats);
        switch (exception)
        {
            case ApiRequestException { ErrorCode: 429 } limited:
                var seconds = limited.Parameters?.RetryAfter ?? 1;
                return Settlement.Retry(TimeSpan.FromSeconds(seconds), error, countsAsAttempt: false) with { PausesSending = true };
            case ApiRequestException { ErrorCode: 400 } bad when bad.Message.Contains("message is not modified", StringComparison.OrdinalIgnoreCase):
                return Settlement.Sent(null);
            case ApiRequestException { ErrorCode: 403 } when refusalIsNotTheChats(method):
                // Queued under one chat, but the refusal is about another (a group the bot was removed from or lost
                // its rights in): the chat the row is queued under is not unreachable.
                return Settlement.Dead(error);
            case ApiRequestException { ErrorCode: 403 }:
                return Settlement.Unreachable(error);
            case ApiRequestException { ErrorCode: 400 }:
                return Settlement.Dead(error);
            case ApiRequestException { ErrorCode: 401 or 404 }:
                // A revoked token or a wrong API address: nothing to do per message; keep it and keep trying slowly.
                return Settlement.Retry(TimeSpan.FromMinutes(1), error, countsAsAttempt: false) with { IsConfigurationProblem = true };
            default:
                // 5xx, timeouts, connection failures: retry with backoff and jitter, then give up.
                if (attempt >= maxAttempts)
                {
                    return Settlement.Dead(error);
                }

                var backoff = Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, attempt)) * (0.5 + jitter);
                return Settlement.Retry(TimeSpan.FromSeconds(backoff), error, countsAsAttempt: true);
        }
    }
}
