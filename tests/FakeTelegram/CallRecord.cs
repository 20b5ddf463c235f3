using System.Globalization;
using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>One Bot API call as the fake saw and answered it.</summary>
public sealed class CallRecord
{
    internal CallRecord(
        long sequence, string method, ChatRef? chat, long botId, string tokenFingerprint, string bodyJson,
        DateTimeOffset receivedAt, int? status, string? description, int? retryAfter, bool rateLimited, bool injected,
        DeliveredMessage? delivery, CallContext? context = null)
    {
        Sequence = sequence;
        Method = method;
        ChatId = chat?.Id;
        ChatUsername = chat?.Username;
        BotId = botId;
        TokenFingerprint = tokenFingerprint;
        BodyJson = bodyJson;
        ReceivedAt = receivedAt;
        Status = status;
        Description = description;
        RetryAfter = retryAfter;
        RateLimited = rateLimited;
        Injected = injected;
        Delivered = delivery is not null;
        MessageId = delivery?.MessageId ?? context?.Edit?.MessageId;
        Text = delivery?.Text ?? context?.Edit?.Text;
        Paid = context?.Paid ?? false;
        MessageIds = context?.MessageIds;
        SourceMessageIds = context?.SourceMessageIds;
        TestEnvironment = context?.Call.TestEnvironment ?? false;
    }

    /// <summary>Arrival order, from 1 (a long poll is listed when it is answered, under its arrival number).</summary>
    public long Sequence { get; }

    /// <summary>Telegram's spelling of the method, or the path segment as sent when the method is unknown.</summary>
    public string Method { get; }

    public long? ChatId { get; }

    /// <summary>The <c>@username</c> when the call named the chat that way.</summary>
    public string? ChatUsername { get; }

    /// <summary>The digits before the colon of the token used.</summary>
    public long BotId { get; }

    /// <summary>A short hash of the token used (see <see cref="FakeTelegramServer.TokenFingerprint"/>); never the token.</summary>
    public string TokenFingerprint { get; }

    /// <summary>The parameters as one JSON object (query, JSON body or form fields).</summary>
    public string BodyJson { get; }

    /// <summary>A fresh copy of the parameters each time it is read.</summary>
    public JsonObject Body => JsonNode.Parse(BodyJson)!.AsObject();

    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The HTTP status answered; null when no answer was sent (timeout fault, client gone).</summary>
    public int? Status { get; }

    public string? Description { get; }

    public int? RetryAfter { get; }

    /// <summary>Refused by the fake's rate limiter (as opposed to an injected 429).</summary>
    public bool RateLimited { get; }

    /// <summary>Answered, slowed or held by an injected fault.</summary>
    public bool Injected { get; }

    /// <summary>A message was put in a chat (send*, copyMessage, copyMessages, forwardMessage).</summary>
    public bool Delivered { get; }

    /// <summary>The message delivered (the first of a copyMessages) or edited.</summary>
    public int? MessageId { get; }

    /// <summary>Text or caption of the delivered message, or an edit's new text or caption, when known.</summary>
    public string? Text { get; }

    /// <summary>
    /// Sent with <c>allow_paid_broadcast</c> on a method that takes it (send*, copyMessage): counted against the paid
    /// limit (<see cref="RateLimits.Paid"/>), not the 30/s one, whatever the answer.
    /// </summary>
    public bool Paid { get; }

    /// <summary>The call came by the test environment's path, /bot&lt;token&gt;/test/METHOD.</summary>
    public bool TestEnvironment { get; }

    /// <summary>copyMessages: every new message in the chat; deleteMessages: the messages deleted; an edit: its message.</summary>
    public IReadOnlyList<int>? MessageIds { get; }

    /// <summary>copyMessages: the source chat's messages copied, in the order of <see cref="MessageIds"/>.</summary>
    public IReadOnlyList<int>? SourceMessageIds { get; }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"#{Sequence} {Method} chat={ChatId?.ToString(CultureInfo.InvariantCulture) ?? ChatUsername ?? "-"} -> {Status?.ToString(CultureInfo.InvariantCulture) ?? "no answer"}{(Delivered ? " delivered" : "")}");
}

/// <summary>A message that appeared in a chat, in the order the fake delivered them.</summary>
/// <param name="MessageThreadId">The forum topic it was sent to (sendMessage's <c>message_thread_id</c>), if any.</param>
public sealed record DeliveredMessage(
    long Sequence, long? ChatId, string? ChatUsername, int MessageId, string Method, string? Text, DateTimeOffset At,
    int? MessageThreadId = null);

/// <summary>Counters over every call since the start or the last reset of the recording.</summary>
public sealed record FakeStats
{
    public long Calls { get; init; }

    /// <summary>Method → status (<c>"200"</c>, <c>"429"</c>, or <c>"none"</c> when unanswered) → count.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> ByMethod { get; init; }

    public required IReadOnlyDictionary<string, long> ByStatus { get; init; }

    public long Deliveries { get; init; }

    /// <summary>Every 429 answered, from the rate limiter or injected.</summary>
    public long TooManyRequests { get; init; }

    /// <summary>Calls refused because they broke a rate limit.</summary>
    public long RateLimitViolations { get; init; }

    /// <summary>Calls that asked for the paid limit (<see cref="CallRecord.Paid"/>), whatever their answer.</summary>
    public long PaidCalls { get; init; }

    /// <summary>Most calls of rate-limited methods received in any one-second window: what the sender attempted.</summary>
    public int MaxGlobalRatePerSecond { get; init; }

    /// <summary>As <see cref="MaxGlobalRatePerSecond"/>, counting only calls without <c>allow_paid_broadcast</c>: at most 30 for a sender within the free limit.</summary>
    public int MaxUnpaidRatePerSecond { get; init; }

    /// <summary>Most deliveries in any one-second window.</summary>
    public int MaxDeliveryRatePerSecond { get; init; }
}

/// <summary>The webhook as set through setWebhook. The secret itself is never shown, as in getWebhookInfo.</summary>
public sealed record WebhookState(
    string Url, bool HasSecretToken, IReadOnlyList<string>? AllowedUpdates, int MaxConnections, int PendingUpdateCount)
{
    public bool IsSet => Url.Length > 0;
}
