using System.Text.Json.Nodes;

namespace FakeTelegram;

/// <summary>
/// The updates waiting for getUpdates, with Telegram's offset rules, and the one long poll that may be
/// waiting for them. Guarded by the state's lock.
/// </summary>
internal sealed class UpdateQueue
{
    // Sorted by update_id. Kept as JSON text: a JsonNode has one parent, and answers are built concurrently.
    private readonly List<(long Id, string Json)> pending = [];

    // Not reset with the rest: a running bot remembers its offset, and ids that started again at 1 would be
    // confirmed away before it saw them.
    private long nextId = 1;

    private PollTicket? activePoll;

    public int Count => pending.Count;

    public bool HasWaitingPoll => activePoll is not null;

    /// <summary>Queues an update, numbering it when it has no update_id, and wakes the waiting long poll.</summary>
    public long Enqueue(JsonObject update)
    {
        var id = update["update_id"] is JsonValue given && given.TryGetValue<long>(out var explicitId) ? explicitId : nextId;
        nextId = Math.Max(nextId, id + 1);
        var json = WithIdFirst(update, id).ToJsonString();
        var at = pending.FindLastIndex(u => u.Id <= id);
        if (at >= 0 && pending[at].Id == id)
        {
            pending[at] = (id, json);
        }
        else
        {
            pending.Insert(at + 1, (id, json));
        }

        activePoll?.Wake(PollOutcome.Woken);
        return id;
    }

    /// <summary>
    /// Telegram: an update is confirmed once getUpdates is called with a higher offset, and forgotten; a
    /// negative offset keeps only the last -offset updates.
    /// </summary>
    public void Confirm(long offset)
    {
        if (offset > 0)
        {
            pending.RemoveAll(u => u.Id < offset);
        }
        else if (offset < 0)
        {
            var keep = offset == long.MinValue ? 0 : (int)Math.Min(-offset, pending.Count);
            pending.RemoveRange(0, pending.Count - keep);
        }
    }

    public JsonArray Take(int limit)
    {
        var result = new JsonArray();
        foreach (var (_, json) in pending.Take(limit))
        {
            result.Add(JsonNode.Parse(json));
        }

        return result;
    }

    public PollTicket StartPoll(CallContext context, int limit, TimeSpan timeout, TimeSpan delay)
    {
        activePoll = new PollTicket(context, limit, timeout, delay);
        return activePoll;
    }

    public void EndPoll(PollTicket ticket)
    {
        if (ReferenceEquals(activePoll, ticket))
        {
            activePoll = null;
        }
    }

    /// <summary>Ends the waiting long poll, if any, with a 409 of this description.</summary>
    public void Terminate(string description)
    {
        if (activePoll is { } poll)
        {
            poll.Terminate(description);
            activePoll = null;
        }
    }

    /// <summary>Telegram puts update_id first; bots and people reading recordings expect it there.</summary>
    private static JsonObject WithIdFirst(JsonObject update, long id)
    {
        var ordered = new JsonObject { ["update_id"] = id };
        foreach (var name in update.Select(p => p.Key).Where(k => k != "update_id").ToList())
        {
            var value = update[name];
            update.Remove(name);
            ordered[name] = value;
        }

        return ordered;
    }

    /// <summary>Drops pending updates; a waiting long poll stays and simply finds none.</summary>
    public void Clear() => pending.Clear();
}

internal enum PollOutcome
{
    Woken,
    TimedOut,
    Terminated,
    Abandoned,
}

/// <summary>A getUpdates request waiting for updates.</summary>
internal sealed class PollTicket(CallContext context, int limit, TimeSpan timeout, TimeSpan delay)
{
    private readonly TaskCompletionSource<PollOutcome> outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CallContext Context { get; } = context;

    public int Limit { get; } = limit;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary>An injected slow fault still applies once the poll ends.</summary>
    public TimeSpan Delay { get; } = delay;

    public string? TerminatedBecause { get; private set; }

    public void Wake(PollOutcome why) => outcome.TrySetResult(why);

    public void Terminate(string description)
    {
        TerminatedBecause = description;
        outcome.TrySetResult(PollOutcome.Terminated);
    }

    public async Task<PollOutcome> WaitAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            return await outcome.Task.WaitAsync(Timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return PollOutcome.TimedOut;
        }
        catch (OperationCanceledException)
        {
            return PollOutcome.Abandoned;
        }
    }
}
