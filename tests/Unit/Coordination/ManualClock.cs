using System.Diagnostics;
using System.Globalization;

namespace Bot.Tests.Unit.Coordination;

/// <summary>
/// A <see cref="TimeProvider"/> that moves only when told to, timers included (<see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>,
/// <see cref="CancellationTokenSource(TimeSpan, TimeProvider)"/>), so a lease's timeline can be stepped through exactly.
/// </summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private static readonly TimeSpan PatienceForTimer = TimeSpan.FromSeconds(10);
    private readonly Lock gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time forward, firing the timers that fall due on the way in order, each at its own time.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset target;
        lock (gate)
        {
            target = now + by;
        }

        while (true)
        {
            ManualTimer? due;
            lock (gate)
            {
                due = timers.Where(t => t.Due <= target).MinBy(t => t.Due);
                if (due is null)
                {
                    now = target;
                    return;
                }

                now = due.Due;
                if (due.Period is { } period)
                {
                    due.Due = now + period;
                }
                else
                {
                    timers.Remove(due);
                }
            }

            due.Fire();
        }
    }

    /// <summary>
    /// Waits (in real time) until something has set a timer for exactly <paramref name="due"/>, then moves there.
    /// Steps through a schedule without racing the awaits that set its timers; a missing timer is a failure.
    /// </summary>
    public async Task AdvanceToAsync(DateTimeOffset due)
    {
        var waited = Stopwatch.StartNew();
        while (!IsSet(due))
        {
            if (waited.Elapsed > PatienceForTimer)
            {
                throw new TimeoutException($"No timer set for {due:HH:mm:ss.fff} (now {GetUtcNow():HH:mm:ss.fff}); set: [{string.Join(", ", Pending())}]");
            }

            await Task.Delay(2);
        }

        Advance(due - GetUtcNow());
    }

    private bool IsSet(DateTimeOffset due)
    {
        lock (gate)
        {
            return timers.Any(t => t.Due == due);
        }
    }

    private List<string> Pending()
    {
        lock (gate)
        {
            return timers.Select(t => t.Due.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)).ToList();
        }
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset Due { get; set; }

        public TimeSpan? Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }

                Due = clock.now + dueTime;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
                clock.timers.Add(this);
                return true;
            }
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock.gate)
            {
                clock.timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
