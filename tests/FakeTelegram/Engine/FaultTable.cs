namespace FakeTelegram;

/// <summary>Injected faults, consumed first-in first-out by the calls they match. Guarded by the state's lock.</summary>
internal sealed class FaultTable
{
    private readonly List<Entry> entries = [];

    public void Add(Fault fault) => entries.Add(new Entry(fault) { Remaining = fault.Count });

    /// <summary>The first fault that matches the call, with one use taken from it.</summary>
    public Fault? Take(string method, ChatRef? chat)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (!Matches(entry.Fault, method, chat))
            {
                continue;
            }

            if (--entry.Remaining == 0)
            {
                entries.RemoveAt(i);
            }

            return entry.Fault;
        }

        return null;
    }

    /// <summary>Faults still waiting, each with <see cref="Fault.Count"/> set to the uses left.</summary>
    public IReadOnlyList<Fault> Pending() => entries.Select(e => e.Fault with { Count = e.Remaining }).ToList();

    public void Clear() => entries.Clear();

    private static bool Matches(Fault fault, string method, ChatRef? chat) =>
        (fault.Method is null || string.Equals(fault.Method, method, StringComparison.OrdinalIgnoreCase))
        && (fault.ChatId is null || chat?.Id == fault.ChatId);

    private sealed class Entry(Fault fault)
    {
        public Fault Fault { get; } = fault;

        public int Remaining { get; set; }
    }
}
