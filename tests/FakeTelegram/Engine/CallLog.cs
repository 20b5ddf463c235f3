using System.Globalization;

namespace FakeTelegram;

/// <summary>Records, deliveries, counters and the tests waiting on them. Guarded by the state's lock.</summary>
internal sealed class CallLog(int maxRecords)
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly List<CallRecord> records = [];
    private readonly List<DeliveredMessage> deliveries = [];
    private readonly Dictionary<string, List<DeliveredMessage>> deliveriesByChat = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, long>> byMethod = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> byStatus = new(StringComparer.Ordinal);
    private readonly SlidingWindow attempts = new();
    private readonly SlidingWindow unpaidAttempts = new();
    private readonly SlidingWindow delivered = new();
    private readonly List<Waiter> waiters = [];
    private long calls;
    private long tooManyRequests;
    private long rateLimitViolations;
    private long paidCalls;
    private int maxAttemptRate;
    private int maxUnpaidAttemptRate;
    private int maxDeliveryRate;

    /// <summary>A call of a rate-limited method arrived, whatever becomes of it; an unpaid one is also counted on its own.</summary>
    public void ObserveAttempt(TimeSpan now, bool paid)
    {
        maxAttemptRate = Math.Max(maxAttemptRate, attempts.AddAndCount(OneSecond, now));
        if (!paid)
        {
            maxUnpaidAttemptRate = Math.Max(maxUnpaidAttemptRate, unpaidAttempts.AddAndCount(OneSecond, now));
        }
    }

    public CallRecord Append(CallContext context, ApiResult? answer)
    {
        var record = new CallRecord(
            context.Sequence, context.Method, context.Chat, TokenPolicy.BotId(context.Token),
            TokenPolicy.Fingerprint(context.Token), context.Parameters.Json, context.ReceivedAt,
            answer?.Status, answer?.Description, answer?.RetryAfter, answer?.RateLimited ?? false, context.Injected,
            context.Delivery, context);

        if (records.Count >= maxRecords)
        {
            // Drop a tenth at a time so that trimming stays amortized O(1) per call.
            records.RemoveRange(0, Math.Max(1, maxRecords / 10));
        }

        records.Add(record);
        Count(record, answer);
        if (context.Delivery is { } delivery)
        {
            deliveries.Add(delivery);
            var key = delivery.ChatId?.ToString(CultureInfo.InvariantCulture) ?? delivery.ChatUsername!.ToLowerInvariant();
            if (!deliveriesByChat.TryGetValue(key, out var list))
            {
                list = [];
                deliveriesByChat[key] = list;
            }

            list.Add(delivery);
            maxDeliveryRate = Math.Max(maxDeliveryRate, delivered.AddAndCount(OneSecond, context.Now));
        }

        if (waiters.Count > 0)
        {
            Notify(record);
        }

        return record;
    }

    public IReadOnlyList<CallRecord> Calls(string? method, ChatRef? chat) =>
        records.Where(r => Matches(r, method, chat)).ToList();

    public IReadOnlyList<DeliveredMessage> Deliveries(ChatRef? chat) =>
        chat is { } c ? [.. deliveriesByChat.GetValueOrDefault(c.Key) ?? []] : [.. deliveries];

    public FakeStats Stats() => new()
    {
        Calls = calls,
        ByMethod = byMethod.ToDictionary(
            m => m.Key, m => (IReadOnlyDictionary<string, long>)new Dictionary<string, long>(m.Value), StringComparer.Ordinal),
        ByStatus = new Dictionary<string, long>(byStatus, StringComparer.Ordinal),
        Deliveries = deliveries.Count,
        TooManyRequests = tooManyRequests,
        RateLimitViolations = rateLimitViolations,
        PaidCalls = paidCalls,
        MaxGlobalRatePerSecond = maxAttemptRate,
        MaxUnpaidRatePerSecond = maxUnpaidAttemptRate,
        MaxDeliveryRatePerSecond = maxDeliveryRate,
    };

    /// <summary>A waiter that completes once <paramref name="count"/> matching calls are recorded (counting earlier ones).</summary>
    public Waiter WaitForCalls(int count, string? method, ChatRef? chat)
    {
        var waiter = new Waiter(count, r => Matches(r, method, chat));
        waiter.Add(records.Count(waiter.Matches));
        return Register(waiter);
    }

    public Waiter WaitForDeliveries(int count)
    {
        var waiter = new Waiter(count, r => r.Delivered);
        waiter.Add(deliveries.Count);
        return Register(waiter);
    }

    public void Forget(Waiter waiter) => waiters.Remove(waiter);

    public void Clear()
    {
        records.Clear();
        deliveries.Clear();
        deliveriesByChat.Clear();
        byMethod.Clear();
        byStatus.Clear();
        calls = tooManyRequests = rateLimitViolations = paidCalls = 0;
        maxAttemptRate = maxUnpaidAttemptRate = maxDeliveryRate = 0;
        attempts.Clear();
        unpaidAttempts.Clear();
        delivered.Clear();
        foreach (var waiter in waiters)
        {
            waiter.Reset(0);
        }
    }

    private Waiter Register(Waiter waiter)
    {
        if (!waiter.TryComplete())
        {
            waiters.Add(waiter);
        }

        return waiter;
    }

    private void Count(CallRecord record, ApiResult? answer)
    {
        calls++;
        var status = record.Status?.ToString(CultureInfo.InvariantCulture) ?? "none";
        if (!byMethod.TryGetValue(record.Method, out var statuses))
        {
            statuses = new Dictionary<string, long>(StringComparer.Ordinal);
            byMethod[record.Method] = statuses;
        }

        statuses[status] = statuses.GetValueOrDefault(status) + 1;
        byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
        if (record.Status == 429)
        {
            tooManyRequests++;
        }

        if (answer?.RateLimited == true)
        {
            rateLimitViolations++;
        }

        if (record.Paid)
        {
            paidCalls++;
        }
    }

    private void Notify(CallRecord record)
    {
        for (var i = waiters.Count - 1; i >= 0; i--)
        {
            var waiter = waiters[i];
            if (waiter.Matches(record))
            {
                waiter.Add(1);
                if (waiter.TryComplete())
                {
                    waiters.RemoveAt(i);
                }
            }
        }
    }

    private static bool Matches(CallRecord record, string? method, ChatRef? chat) =>
        (method is null || string.Equals(record.Method, method, StringComparison.OrdinalIgnoreCase))
        && (chat is not { } c || (c.Id is { } id ? record.ChatId == id : string.Equals(record.ChatUsername, c.Username, StringComparison.OrdinalIgnoreCase)));

    /// <summary>A test waiting until enough calls or deliveries have been recorded.</summary>
    internal sealed class Waiter(int target, Func<CallRecord, bool> matches)
    {
        private readonly TaskCompletionSource completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int seen;

        public Task Completed => completed.Task;

        public int Seen => seen;

        public bool Matches(CallRecord record) => matches(record);

        public void Add(int count) => seen += count;

        public void Reset(int count) => seen = count;

        public bool TryComplete() => seen >= target && completed.TrySetResult();
    }
}
