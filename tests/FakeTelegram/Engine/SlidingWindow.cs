namespace FakeTelegram;

/// <summary>Times of the events in a sliding window; an event at t leaves the window at t + window.</summary>
internal sealed class SlidingWindow
{
    private readonly Queue<TimeSpan> events = new();

    public int Count => events.Count;

    public TimeSpan Newest { get; private set; }

    /// <summary>How long until one more event fits under <paramref name="limit"/>; zero when it fits now.</summary>
    public TimeSpan WaitTime(int limit, TimeSpan window, TimeSpan now)
    {
        Expire(window, now);
        if (events.Count < limit)
        {
            return TimeSpan.Zero;
        }

        // The window frees when the event that holds the limit-th place from the end leaves it.
        var blocking = events.Count == limit ? events.Peek() : events.ElementAt(events.Count - limit);
        return blocking + window - now;
    }

    public void Add(TimeSpan now)
    {
        events.Enqueue(now);
        Newest = now;
    }

    /// <summary>Adds an event and returns how many are in the window with it.</summary>
    public int AddAndCount(TimeSpan window, TimeSpan now)
    {
        Expire(window, now);
        Add(now);
        return events.Count;
    }

    public void Clear() => events.Clear();

    public bool IsIdle(TimeSpan window, TimeSpan now) => events.Count == 0 || Newest + window <= now;

    private void Expire(TimeSpan window, TimeSpan now)
    {
        while (events.TryPeek(out var oldest) && oldest + window <= now)
        {
            events.Dequeue();
        }
    }
}
