namespace Bot.Outbox;

/// <summary>
/// Telegram's sending limits as sliding windows, the way Telegram counts them: at most N sends in any
/// window of the given length, overall and per chat (private chats and groups have different windows).
/// A 429's retry_after pauses the chat and, since Telegram does not say which limit tripped, everything.
/// Not thread-safe: the sender's scheduling loop is its only user.
/// </summary>
public sealed class SendLimiter(SenderOptions options, TimeProvider time)
{
    private readonly Window global = new(options.GlobalPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
    private readonly Dictionary<long, Window> chats = new();
    private readonly Dictionary<long, DateTimeOffset> pausedChats = new();
    private DateTimeOffset pausedUntil;

    /// <summary>When <paramref name="chatId"/> may next be sent to (now or earlier: at once).</summary>
    public DateTimeOffset NextAllowed(long chatId)
    {
        var next = Max(pausedUntil, global.NextFree());
        if (pausedChats.TryGetValue(chatId, out var chatPause))
        {
            next = Max(next, chatPause);
        }

        return chats.TryGetValue(chatId, out var window) ? Max(next, window.NextFree()) : next;
    }

    public bool TryAcquire(long chatId)
    {
        var now = time.GetUtcNow();
        if (NextAllowed(chatId) > now)
        {
            return false;
        }

        if (!chats.TryGetValue(chatId, out var window))
        {
            // Negative ids are groups, supergroups and channels; positive ones private chats.
            window = chatId < 0
                ? new Window(options.GroupPerMinute, TimeSpan.FromMinutes(1) + Margin(options))
                : new Window(options.PrivateChatPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
            chats[chatId] = window;
        }

        global.Record(now);
        window.Record(now);
        return true;
    }

    public void Pause(long chatId, TimeSpan retryAfter)
    {
        var until = time.GetUtcNow() + retryAfter;
        pausedChats[chatId] = until;
        pausedUntil = Max(pausedUntil, until);
    }

    /// <summary>Forgets chats idle for longer than any window, so memory follows the active chats only.</summary>
    public void Trim()
    {
        var now = time.GetUtcNow();
        foreach (var (chat, window) in chats.Where(c => c.Value.IdleSince(now) > TimeSpan.FromMinutes(2)).ToList())
        {
            chats.Remove(chat);
        }

        foreach (var chat in pausedChats.Where(p => p.Value < now).Select(p => p.Key).ToList())
        {
            pausedChats.Remove(chat);
        }
    }

    private static TimeSpan Margin(SenderOptions options) => TimeSpan.FromMilliseconds(options.SafetyMarginMilliseconds);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed class Window(int limit, TimeSpan length)
    {
        private readonly Queue<DateTimeOffset> sends = new();

        /// <summary>The earliest moment a new send keeps every window at or under the limit.</summary>
        public DateTimeOffset NextFree() => sends.Count < limit ? DateTimeOffset.MinValue : sends.Peek() + length;

        public void Record(DateTimeOffset at)
        {
            sends.Enqueue(at);
            while (sends.Count > limit)
            {
                sends.Dequeue();
            }
        }

        public TimeSpan IdleSince(DateTimeOffset now) => sends.Count == 0 ? TimeSpan.MaxValue : now - sends.Last();
    }
}
