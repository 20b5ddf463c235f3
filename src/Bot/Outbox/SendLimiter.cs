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
    // How often Waiting looks for idle chats to forget: memory only, so not on every round.
    private static readonly TimeSpan ForgetInterval = TimeSpan.FromSeconds(1);

    private readonly Window global = new(options.GlobalPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
    private readonly Dictionary<long, Window> chats = new();
    private readonly Dictionary<long, DateTimeOffset> pausedChats = new();
    private DateTimeOffset pausedUntil;
    private DateTimeOffset nextForget;

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

        window.Start().Complete(completedAt);
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
        ticket.Global.Complete(completedAt);
        ticket.Chat.Complete(completedAt);
    }

    public void Pause(long chatId, TimeSpan retryAfter)
    {
        var until = time.GetUtcNow() + retryAfter;
        pausedChats[chatId] = until;
        pausedUntil = Max(pausedUntil, until);
    }

    /// <summary>How many calls may start now before the overall limit (or a 429's pause) stops them.</summary>
    public int Capacity()
    {
        var now = time.GetUtcNow();
        return pausedUntil > now ? 0 : global.Free(now);
    }

    /// <summary>
    /// When the overall limit (or a 429's pause) next lets a call start: <see cref="DateTimeOffset.MaxValue"/> when
    /// that depends on a call still in flight.
    /// </summary>
    public DateTimeOffset NextAllowedOverall() => Max(pausedUntil, global.NextFree(time.GetUtcNow()));

    /// <summary>
    /// The chats that may not be sent to now (a full window or a 429's pause), so the sender need not read their
    /// messages, and the earliest moment one of them frees, where known (<see cref="DateTimeOffset.MaxValue"/>: only
    /// completions free them). Forgets the chats with nothing left in their window on the way, so memory follows the
    /// active chats only (looked for at most once a second).
    /// </summary>
    public List<long> Waiting(out DateTimeOffset earliestFree)
    {
        var now = time.GetUtcNow();
        var waiting = new List<long>();
        var idle = new List<long>();
        var forget = now >= nextForget;
        if (forget)
        {
            nextForget = now + ForgetInterval;
        }

        earliestFree = DateTimeOffset.MaxValue;
        foreach (var (chat, window) in chats)
        {
            // A window holding fewer calls than its limit, expired ones still counted, has room: no closer look needed.
            var free = window.MayBeFull ? window.NextFree(now) : DateTimeOffset.MinValue;
            if (pausedChats.TryGetValue(chat, out var paused) && paused > now)
            {
                free = Max(free, paused);
            }

            if (free > now)
            {
                waiting.Add(chat);
                earliestFree = free < earliestFree ? free : earliestFree;
            }
            else if (forget && window.IsEmptyAt(now))
            {
                idle.Add(chat);
            }
        }

        idle.ForEach(chat => chats.Remove(chat));
        foreach (var (chat, paused) in pausedChats)
        {
            if (paused <= now)
            {
                pausedChats.Remove(chat);
            }
            else if (!chats.ContainsKey(chat))
            {
                waiting.Add(chat);
                earliestFree = paused < earliestFree ? paused : earliestFree;
            }
        }

        return waiting;
    }

    private static TimeSpan Margin(SenderOptions options) => TimeSpan.FromMilliseconds(options.SafetyMarginMilliseconds);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>One call's place in one window: counted while in flight, then until one window after it completed.</summary>
    internal sealed class Slot(Window window)
    {
        private bool completed;

        public void Complete(DateTimeOffset completedAt)
        {
            if (!completed)
            {
                completed = true;
                window.Completed(completedAt);
            }
        }
    }

    /// <summary>
    /// The calls in flight (a count) and, in order, when each completed call leaves the window. Completions arrive in
    /// about time order, so keeping them sorted is an append, and expiring them is a look at the front: the cost of a
    /// question is constant, not the number of calls in the window (a thousand at a paid broadcast's 1,000/s).
    /// </summary>
    internal sealed class Window(int limit, TimeSpan length)
    {
        private readonly List<DateTimeOffset> leaving = [];
        private int head;
        private int inFlight;

        private int Count => inFlight + leaving.Count - head;

        /// <summary>True when the window may be at its limit (calls whose time is over are still counted here).</summary>
        public bool MayBeFull => Count >= limit;

        public bool IsEmptyAt(DateTimeOffset now)
        {
            Expire(now);
            return Count == 0;
        }

        public Slot Start()
        {
            inFlight++;
            return new Slot(this);
        }

        /// <summary>How many calls may start now.</summary>
        public int Free(DateTimeOffset now)
        {
            Expire(now);
            return Math.Max(0, limit - Count);
        }

        public DateTimeOffset NextFree(DateTimeOffset now)
        {
            if (Free(now) > 0)
            {
                return DateTimeOffset.MinValue;
            }

            // The earliest moment enough completed calls leave the window; unknown while in-flight calls decide it.
            var mustLeave = Count - limit + 1;
            return leaving.Count - head >= mustLeave ? leaving[head + mustLeave - 1] : DateTimeOffset.MaxValue;
        }

        public void Completed(DateTimeOffset completedAt)
        {
            inFlight--;
            var leaves = completedAt + length;
            var at = leaving.Count;
            while (at > head && leaving[at - 1] > leaves)
            {
                at--;
            }

            leaving.Insert(at, leaves);
        }

        private void Expire(DateTimeOffset now)
        {
            while (head < leaving.Count && leaving[head] <= now)
            {
                head++;
            }

            if (head == leaving.Count)
            {
                leaving.Clear();
                head = 0;
            }
            else if (head >= 64 && head * 2 >= leaving.Count)
            {
                leaving.RemoveRange(0, head);
                head = 0;
            }
        }
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
