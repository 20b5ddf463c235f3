namespace FakeTelegram;

/// <summary>Telegram's per-token message limits over sliding windows. Not thread-safe: the state's lock guards it.</summary>
internal sealed class RateLimiter(RateLimits limits)
{
    // Chats are swept of idle windows now and then, so that a broadcast to many chats does not grow memory.
    private const int SweepEvery = 10_000;

    private readonly Dictionary<string, TokenWindows> byToken = new(StringComparer.Ordinal);
    private int sinceSweep;

    public RateLimits Limits { get; set; } = limits;

    /// <summary>
    /// Takes a slot for one message, or says in whole seconds when to retry. A <paramref name="paid"/> call
    /// (<c>allow_paid_broadcast</c>) counts against the paid overall window instead of the global one; the chat's window either way.
    /// </summary>
    public int? TryAcquire(string token, ChatRef? chat, TimeSpan now, bool paid = false)
    {
        if (!Limits.Enabled)
        {
            return null;
        }

        if (!byToken.TryGetValue(token, out var windows))
        {
            windows = new TokenWindows();
            byToken[token] = windows;
        }

        var global = paid ? Limits.Paid : Limits.Global;
        var overall = paid ? windows.Paid : windows.Global;
        var wait = global is null ? TimeSpan.Zero : overall.WaitTime(global.Count, global.Window, now);

        var chatLimit = chat is { } c ? (c.IsPrivate ? Limits.EffectivePrivateChat : Limits.GroupChat) : null;
        SlidingWindow? chatWindow = null;
        if (chatLimit is not null)
        {
            if (!windows.Chats.TryGetValue(chat!.Value.Key, out chatWindow))
            {
                chatWindow = new SlidingWindow();
                windows.Chats[chat.Value.Key] = chatWindow;
            }

            var chatWait = chatWindow.WaitTime(chatLimit.Count, chatLimit.Window, now);
            wait = chatWait > wait ? chatWait : wait;
        }

        if (wait > TimeSpan.Zero)
        {
            return RetryAfterSeconds(wait);
        }

        if (global is not null)
        {
            overall.Add(now);
        }

        chatWindow?.Add(now);
        if (++sinceSweep >= SweepEvery)
        {
            sinceSweep = 0;
            Sweep(now);
        }

        return null;
    }

    public void Clear() => byToken.Clear();

    /// <summary>Whole seconds, rounded up so that retrying after them always fits, and at least 1 as Telegram sends.</summary>
    internal static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds - 1e-9));

    private void Sweep(TimeSpan now)
    {
        var longest = Longer(Limits.PrivateChat?.Window ?? TimeSpan.Zero, Limits.GroupChat?.Window ?? TimeSpan.Zero);
        foreach (var windows in byToken.Values)
        {
            foreach (var (key, window) in windows.Chats)
            {
                if (window.IsIdle(longest, now))
                {
                    windows.Chats.Remove(key);
                }
            }
        }
    }

    private static TimeSpan Longer(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class TokenWindows
    {
        public SlidingWindow Global { get; } = new();

        public SlidingWindow Paid { get; } = new();

        public Dictionary<string, SlidingWindow> Chats { get; } = new(StringComparer.Ordinal);
    }
}
