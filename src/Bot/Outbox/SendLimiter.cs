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
/// <para>
/// Windows are measured on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), as the time since the
/// limiter was made: a step of the wall clock (NTP, an operator) neither lets extra calls through nor holds calls
/// back. Moments are handed out as wall-clock times only for the caller to subtract the wall clock from at once.
/// </para>
/// <para>
/// A paid call (<c>allow_paid_broadcast</c>) counts against a second overall window, Telegram's paid limit (up to
/// 1000/s), instead of the 30/s one; an unpaid call against the 30/s one only. The per-chat windows hold both: paying
/// lifts the overall limit, not a chat's. So a full 30/s window stops no paid call and a paid broadcast at full speed
/// stops no reply.
/// </para>
/// A 429's retry_after pauses the chat and, since Telegram does not say which limit tripped, everything, paid or not.
/// Not thread-safe: the sender's scheduling loop is its only user.
/// </summary>
public sealed class SendLimiter
{
    // How often Waiting looks for idle chats to forget: memory only, so not on every round.
    private static readonly TimeSpan ForgetInterval = TimeSpan.FromSeconds(1);

    // On the limiter's time line (Now): "free now" and "unknown until a call in flight completes".
    private static readonly TimeSpan FreeNow = TimeSpan.MinValue;
    private static readonly TimeSpan Unknown = TimeSpan.MaxValue;

    private readonly SenderOptions options;
    private readonly TimeProvider time;
    private readonly long origin;
    private readonly Window global;
    private readonly Window paid;
    private readonly Dictionary<long, Window> chats = new();
    private readonly Dictionary<long, TimeSpan> pausedChats = new();
    private TimeSpan pausedUntil = FreeNow;
    private TimeSpan nextForget = FreeNow;

    public SendLimiter(SenderOptions options, TimeProvider time)
    {
        this.options = options;
        this.time = time;
        origin = time.GetTimestamp();
        global = new Window(options.GlobalPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
        paid = new Window(options.PaidPerSecond, TimeSpan.FromSeconds(1) + Margin(options));
    }

    /// <summary>
    /// When <paramref name="chatId"/> may next be sent to, as far as known now; <see cref="DateTimeOffset.MaxValue"/>
    /// when that depends on a call still in flight (its completion wakes the sender). A paid call is held by the
    /// paid overall window instead of the 30/s one.
    /// </summary>
    public DateTimeOffset NextAllowed(long chatId, bool paid = false) => ToWallClock(NextAllowedAt(chatId, paid, Now()));

    /// <summary>
    /// Takes a place for one call now (a paid one in the paid overall window), or returns null. Hand the ticket to
    /// <see cref="Complete(SendTicket, long)"/> when the call ends.
    /// </summary>
    public SendTicket? TryAcquire(long chatId, bool paid = false)
    {
        var now = Now();
        if (NextAllowedAt(chatId, paid, now) > now)
        {
            return null;
        }

        return new SendTicket(this, chatId, paid, now, Overall(paid).Start(), WindowOf(chatId).Start());
    }

    /// <summary>
    /// Counts a call made elsewhere (by the previous leader) that completed at <paramref name="completedAt"/> (wall
    /// clock, read just before) against its chat's window.
    /// </summary>
    public void Seed(long chatId, DateTimeOffset completedAt) => Seed(chatId, time.GetUtcNow() - completedAt);

    /// <summary>Counts a call made elsewhere (by the previous leader) that completed <paramref name="age"/> ago against its chat's window.</summary>
    public void Seed(long chatId, TimeSpan age)
    {
        // A completion reported in the future (a wall clock step while the age was worked out) counts from now.
        var now = Now();
        WindowOf(chatId).Start().Complete(age > TimeSpan.Zero ? now - age : now);
    }

    /// <summary>How long a group's call counts against its limit.</summary>
    public static TimeSpan GroupWindow(SenderOptions options) => TimeSpan.FromMinutes(1) + Margin(options);

    // Negative ids are groups, supergroups and channels; positive ones private chats.
    private Window NewWindow(long chatId) => chatId < 0
        ? new Window(options.GroupPerMinute, GroupWindow(options))
        : new Window(options.PrivateChatPerSecond, TimeSpan.FromSeconds(1) + Margin(options));

    /// <summary>
    /// Records when a call ended (answered, failed or timed out), as a wall-clock reading taken then: from then on its
    /// window can run out. The reading is placed on the monotonic time line by the wall clock's distance from now;
    /// one that falls outside the call's lifetime (the wall clock stepped since) counts as now, later than the truth
    /// and never earlier, so that the window cannot run out too soon.
    /// </summary>
    public static void Complete(SendTicket ticket, DateTimeOffset completedAt)
    {
        var limiter = ticket.Limiter;
        var now = limiter.Now();
        ticket.Complete(now, now - (limiter.time.GetUtcNow() - completedAt));
    }

    /// <summary>Records when a call ended, as a <see cref="TimeProvider.GetTimestamp"/> of the limiter's clock taken then.</summary>
    public static void Complete(SendTicket ticket, long completedTimestamp)
    {
        var limiter = ticket.Limiter;
        ticket.Complete(limiter.Now(), limiter.time.GetElapsedTime(limiter.origin, completedTimestamp));
    }

    public void Pause(long chatId, TimeSpan retryAfter)
    {
        var until = Now() + retryAfter;
        pausedChats[chatId] = until;
        pausedUntil = Max(pausedUntil, until);
    }

    /// <summary>How many calls (paid ones, or unpaid ones) may start now before their overall limit (or a 429's pause) stops them.</summary>
    public int Capacity(bool paid = false)
    {
        var now = Now();
        return pausedUntil > now ? 0 : Overall(paid).Free(now);
    }

    /// <summary>
    /// When the overall limit of paid or of unpaid calls (or a 429's pause) next lets one start:
    /// <see cref="DateTimeOffset.MaxValue"/> when that depends on a call still in flight.
    /// </summary>
    public DateTimeOffset NextAllowedOverall(bool paid = false) => ToWallClock(Max(pausedUntil, Overall(paid).NextFree(Now())));

    /// <summary>
    /// The chats that may not be sent to now (a full window or a 429's pause), so the sender need not read their
    /// messages, and the earliest moment one of them frees, where known (<see cref="DateTimeOffset.MaxValue"/>: only
    /// completions free them). Forgets the chats with nothing left in their window on the way, so memory follows the
    /// active chats only (looked for at most once a second).
    /// </summary>
    public List<long> Waiting(out DateTimeOffset earliestFree)
    {
        var now = Now();
        var waiting = new List<long>();
        var idle = new List<long>();
        var forget = now >= nextForget;
        if (forget)
        {
            nextForget = now + ForgetInterval;
        }

        var earliest = Unknown;
        foreach (var (chat, window) in chats)
        {
            // A window holding fewer calls than its limit, expired ones still counted, has room: no closer look needed.
            var free = window.MayBeFull ? window.NextFree(now) : FreeNow;
            if (pausedChats.TryGetValue(chat, out var paused) && paused > now)
            {
                free = Max(free, paused);
            }

            if (free > now)
            {
                waiting.Add(chat);
                earliest = free < earliest ? free : earliest;
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
                earliest = paused < earliest ? paused : earliest;
            }
        }

        earliestFree = ToWallClock(earliest);
        return waiting;
    }

    private static TimeSpan Margin(SenderOptions options) => TimeSpan.FromMilliseconds(options.SafetyMarginMilliseconds);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Monotonic time since the limiter was made: the time line of every window and pause.</summary>
    private TimeSpan Now() => time.GetElapsedTime(origin);

    private Window Overall(bool paid) => paid ? this.paid : global;

    private TimeSpan NextAllowedAt(long chatId, bool paid, TimeSpan now)
    {
        var next = Max(pausedUntil, Overall(paid).NextFree(now));
        if (pausedChats.TryGetValue(chatId, out var chatPause))
        {
            next = Max(next, chatPause);
        }

        return chats.TryGetValue(chatId, out var window) ? Max(next, window.NextFree(now)) : next;
    }

    private Window WindowOf(long chatId)
    {
        if (!chats.TryGetValue(chatId, out var window))
        {
            window = NewWindow(chatId);
            chats[chatId] = window;
        }

        return window;
    }

    /// <summary>A moment of the time line as the wall clock reads now: as far from the wall clock's now as from Now.</summary>
    private DateTimeOffset ToWallClock(TimeSpan at) =>
        at == FreeNow ? DateTimeOffset.MinValue
        : at == Unknown ? DateTimeOffset.MaxValue
        : time.GetUtcNow() + (at - Now());

    /// <summary>One call's place in one window: counted while in flight, then until one window after it completed.</summary>
    internal sealed class Slot(Window window)
    {
        private bool completed;

        public void Complete(TimeSpan completedAt)
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
        private readonly List<TimeSpan> leaving = [];
        private int head;
        private int inFlight;

        private int Count => inFlight + leaving.Count - head;

        /// <summary>True when the window may be at its limit (calls whose time is over are still counted here).</summary>
        public bool MayBeFull => Count >= limit;

        public bool IsEmptyAt(TimeSpan now)
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
        public int Free(TimeSpan now)
        {
            Expire(now);
            return Math.Max(0, limit - Count);
        }

        public TimeSpan NextFree(TimeSpan now)
        {
            if (Free(now) > 0)
            {
                return FreeNow;
            }

            // The earliest moment enough completed calls leave the window; unknown while in-flight calls decide it.
            var mustLeave = Count - limit + 1;
            return leaving.Count - head >= mustLeave ? leaving[head + mustLeave - 1] : Unknown;
        }

        public void Completed(TimeSpan completedAt)
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

        private void Expire(TimeSpan now)
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
    internal SendTicket(SendLimiter limiter, long chatId, bool paid, TimeSpan startedAt, SendLimiter.Slot global, SendLimiter.Slot chat)
    {
        Limiter = limiter;
        ChatId = chatId;
        Paid = paid;
        StartedAt = startedAt;
        Global = global;
        Chat = chat;
    }

    public long ChatId { get; }

    /// <summary>The call counts against the paid overall window, not the 30/s one.</summary>
    public bool Paid { get; }

    internal SendLimiter Limiter { get; }

    /// <summary>When the call started, on its limiter's time line.</summary>
    internal TimeSpan StartedAt { get; }

    /// <summary>Its place in the overall window of its kind (paid or not).</summary>
    internal SendLimiter.Slot Global { get; }

    internal SendLimiter.Slot Chat { get; }

    /// <summary>
    /// Ends the call at <paramref name="completedAt"/>, or at <paramref name="now"/> when that lies outside the
    /// call's lifetime: a completion cannot precede its start nor follow now, and counting from now is the safe side.
    /// </summary>
    internal void Complete(TimeSpan now, TimeSpan completedAt)
    {
        var at = completedAt >= StartedAt && completedAt <= now ? completedAt : now;
        Global.Complete(at);
        Chat.Complete(at);
    }
}
