namespace FakeTelegram;

/// <summary>
/// A Bot API request as read from HTTP, before the fake decides anything. <paramref name="TestEnvironment"/>: it
/// came by Telegram's test-environment path (<c>/bot&lt;token&gt;/test/METHOD</c>).
/// </summary>
internal sealed record BotCall(string Token, string MethodName, BotParameters Parameters, string? ParseError, bool TestEnvironment = false);

/// <summary>One call while the fake decides it: what arrived, when, and what it did.</summary>
internal sealed class CallContext(BotCall call, long sequence, TimeSpan now, DateTimeOffset receivedAt)
{
    private bool chatParsed;
    private ChatRef? chat;

    public BotCall Call { get; } = call;

    public long Sequence { get; } = sequence;

    /// <summary>Monotonic time since the fake started, for rate windows.</summary>
    public TimeSpan Now { get; } = now;

    public DateTimeOffset ReceivedAt { get; } = receivedAt;

    public long UnixTime => ReceivedAt.ToUnixTimeSeconds();

    public string Token => Call.Token;

    public BotParameters Parameters => Call.Parameters;

    /// <summary>Telegram's spelling of the method once it is known, else the path segment.</summary>
    public string Method { get; set; } = call.MethodName;

    /// <summary>The call's chat_id when it is a valid one.</summary>
    public ChatRef? Chat
    {
        get
        {
            if (!chatParsed)
            {
                chat = ChatRef.TryParse(Parameters["chat_id"], out var parsed) ? parsed : null;
                chatParsed = true;
            }

            return chat;
        }
    }

    public bool Injected { get; set; }

    /// <summary>The call asked for the paid limit (<c>allow_paid_broadcast</c>) on a method that has it.</summary>
    public bool Paid { get; set; }

    public DeliveredMessage? Delivery { get; private set; }

    /// <summary>The messages the call put in a chat (copyMessages: every copy), deleted (deleteMessages) or edited.</summary>
    public IReadOnlyList<int>? MessageIds { get; private set; }

    /// <summary>copyMessages: the messages of the source chat that were copied, in the order of <see cref="MessageIds"/>.</summary>
    public IReadOnlyList<int>? SourceMessageIds { get; private set; }

    /// <summary>An edit's message and its text (or caption) after the edit.</summary>
    public (int MessageId, string? Text)? Edit { get; private set; }

    public void Deliver(ChatRef to, int messageId, string? text, int? threadId = null) =>
        Delivery = new DeliveredMessage(Sequence, to.Id, to.Username, messageId, Method, text, ReceivedAt, threadId);

    /// <summary>One delivery (as an album is one message towards the limits) that put several messages in the chat.</summary>
    public void DeliverMany(ChatRef to, IReadOnlyList<int> messageIds, IReadOnlyList<int> sourceIds, string? firstText)
    {
        Deliver(to, messageIds[0], firstText);
        MessageIds = messageIds;
        SourceMessageIds = sourceIds;
    }

    public void Deleted(IReadOnlyList<int> messageIds) => MessageIds = messageIds;

    public void Edited(int messageId, string? text)
    {
        Edit = (messageId, text);
        MessageIds = [messageId];
    }
}

/// <summary>What the endpoint does with a call: answer (maybe late), wait for updates, or never answer.</summary>
internal sealed class CallDecision
{
    public ApiResult? Answer { get; init; }

    public TimeSpan Delay { get; init; }

    public PollTicket? Poll { get; init; }

    /// <summary>Set once the call is recorded, which a long poll is only when it ends.</summary>
    public CallRecord? Record { get; init; }
}
