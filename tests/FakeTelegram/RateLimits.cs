namespace FakeTelegram;

/// <summary>At most <see cref="Count"/> deliveries in any sliding window of <see cref="Window"/>.</summary>
public sealed record WindowLimit
{
    public WindowLimit(int count, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        Count = count;
        Window = window;
    }

    public int Count { get; }

    public TimeSpan Window { get; }
}

/// <summary>
/// Telegram's documented broadcast limits, per bot token, on the methods that put a message in a chat
/// (send*, copy*, forward*, editMessage*). A null limit is not enforced.
/// </summary>
public sealed record RateLimits
{
    /// <summary>About 30 messages per second overall.</summary>
    public WindowLimit? Global { get; init; } = new(30, TimeSpan.FromSeconds(1));

    /// <summary>
    /// Calls sent with <c>allow_paid_broadcast</c>: up to 1000 messages per second overall, counted here instead of
    /// in <see cref="Global"/> (Telegram charges per message beyond the free limit). Per-chat limits still apply.
    /// </summary>
    public WindowLimit? Paid { get; init; } = new(1000, TimeSpan.FromSeconds(1));

    /// <summary>One message per second to a private chat (a positive chat id).</summary>
    public WindowLimit? PrivateChat { get; init; } = new(1, TimeSpan.FromSeconds(1));

    /// <summary>20 messages per minute to a group, supergroup or channel (a negative id or an @username).</summary>
    public WindowLimit? GroupChat { get; init; } = new(20, TimeSpan.FromMinutes(1));

    /// <summary>
    /// Telegram lets a private chat run slightly over one per second; the private window is shortened by this
    /// much. Zero (the default) is strict, so that a sender which relies on the leeway is caught.
    /// </summary>
    public TimeSpan PrivateChatLeeway { get; init; } = TimeSpan.Zero;

    public static RateLimits Telegram { get; } = new();

    public static RateLimits None { get; } = new() { Global = null, Paid = null, PrivateChat = null, GroupChat = null };

    public bool Enabled => Global is not null || Paid is not null || PrivateChat is not null || GroupChat is not null;

    /// <summary>The private-chat limit with the leeway applied.</summary>
    internal WindowLimit? EffectivePrivateChat =>
        PrivateChat is null || PrivateChatLeeway <= TimeSpan.Zero
            ? PrivateChat
            : new WindowLimit(PrivateChat.Count, Max(PrivateChat.Window - PrivateChatLeeway, TimeSpan.FromTicks(1)));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
