namespace Bot.Outbox;

/// <summary>
/// Telegram's sending limits as Telegram counts them: at most N calls arriving in any window of the given
/// length, overall and per chat (private chats and groups have different windows).
/// <para>
/// A call's arrival at Telegram lies somewhere between its start and its completion here; network and
/// scheduling jitter decide where. Counting a call as occupying the window from its start until one window
/// after its completion therefore keeps every window at or under the limit whatever the jitter, at the cost
/// of one round trip per window. (Spacing by start times alone breaks the limit when one call is delayed
/// and the next is not.)
/// </para>
/// A 429's retry_after pauses the chat and, since Telegram does not say which limit tripped, everything.
/// Not thread-safe: the sender's scheduling loop is its only user.
/// </summary>
public sealed class SendLimiter(SenderOptions options, TimeProvider time)
{
    private readonly Window global = new(options.GlobalPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
    private readonly Dictionary<long, Window> chats = new();
    private readonly Dictionary<long, DateTimeOffset> pausedChats = new();
    private DateTimeOffset pausedUntil;

    /// <summary>
    /// When <paramref name="chatId"/> may next be sent to, as far as known now; <see cref="DateTimeOffset.MaxValue"/>
    /// when that depends on a call still in flight (its completion wakes the sender).
    /// </summary>
    public DateTimeOffset NextAllowed(long chatId)
    {
        var now = time.GetUtcNow();
        var next = Max(pausedUntil, global.NextFree(now));
        if (pausedChats.TryGetValue(chatId, out var chatPause))
        {
            next = Max(next, chatPause);
        }

        return chats.TryGetValue(chatId, out var window) ? Max(next, window.NextFree(now)) : next;
    }

    /// <summary>Takes a place for one call now, or returns null. Hand the ticket to <see cref="Complete"/> when the call ends.</summary>
    public SendTicket? TryAcquire(long chatId)
    {
        var now = time.GetUtcNow();
        if (NextAllowed(chatId) > now)
        {
            return null;
        }

        if (!chats.TryGetValue(chatId, out var window))
        {
            window = NewWindow(chatId);
            chats[chatId] = window;
        }

        return new SendTicket(chatId, global.Start(), window.Start());
    }

    /// <summary>Counts a call made elsewhere (by the previous leader) that completed at <paramref name="completedAt"/> against its chat's window.</summary>
    public void Seed(long chatId, DateTimeOffset completedAt)
    {
        if (!chats.TryGetValue(chatId, out var window))
        {
            window = NewWindow(chatId);
            chats[chatId] = window;
        }

        window.Start().CompletedAt = completedAt;
    }

    /// <summary>How long a group's call counts against its limit.</summary>
    public static TimeSpan GroupWindow(SenderOptions options) => TimeSpan.FromMinutes(1) + Margin(options);

    // Negative ids are groups, supergroups and channels; positive ones private chats.
    private Window NewWindow(long chatId) => chatId < 0
        ? new Window(options.GroupPerMinute, GroupWindow(options))
        : new Window(options.PrivateChatPerSecond, TimeSpan.FromSeconds(1) + Margin(options));

    /// <summary>Records when a call ended (answered, failed or timed out): from then on its window can run out.</summary>
    public static void Complete(SendTicket ticket, DateTimeOffset completedAt)
    {
        ticket.Global.CompletedAt = completedAt;
        ticket.Chat.CompletedAt = completedAt;
    }

    public void Pause(long chatId, TimeSpan retryAfter)
    {
        var until = time.GetUtcNow() + retryAfter;
        pausedChats[chatId] = until;
        pausedUntil = Max(pausedUntil, until);
    }

    /// <summary>Forgets chats with nothing left in their window, so memory follows the active chats only.</summary>
    public void Trim()
    {
        var now = time.GetUtcNow();
        foreach (var chat in chats.Where(c => c.Value.IsIdle(now)).Select(c => c.Key).ToList())
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

    internal sealed class Slot
    {
        public DateTimeOffset? CompletedAt { get; set; }
    }

    private sealed class Window(int limit, TimeSpan length)
    {
        private readonly List<Slot> slots = [];

        public Slot Start()
        {
            var slot = new Slot();
            slots.Add(slot);
            return slot;
        }

        public DateTimeOffset NextFree(DateTimeOffset now)
        {
            slots.RemoveAll(s => s.CompletedAt is { } done && done + length <= now);
            if (slots.Count < limit)
            {
                return DateTimeOffset.MinValue;
            }

            // The earliest moment enough completed calls leave the window; unknown while in-flight calls decide it.
            var completed = slots.Where(s => s.CompletedAt is not null).Select(s => s.CompletedAt!.Value + length).Order().ToList();
            var mustLeave = slots.Count - limit + 1;
            return completed.Count >= mustLeave ? completed[mustLeave - 1] : DateTimeOffset.MaxValue;
        }

        public bool IsIdle(DateTimeOffset now) => NextFree(now) == DateTimeOffset.MinValue && slots.Count == 0;
    }
}

/// <summary>A call's place in the windows it counts against.</summary>
public sealed class SendTicket
{
    internal SendTicket(long chatId, SendLimiter.Slot global, SendLimiter.Slot chat)
    {
        ChatId = chatId;
        Global = global;
        Chat = chat;
    }

    public long ChatId { get; }

    internal SendLimiter.Slot Global { get; }

    internal SendLimiter.Slot Chat { get; }
}
