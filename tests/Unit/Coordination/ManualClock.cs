using System.Diagnostics;
using System.Globalization;

namespace Bot.Tests.Unit.Coordination;

/// <summary>
/// A <see cref="TimeProvider"/> that moves only when told to, timers included (<see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>,
/// <see cref="CancellationTokenSource(TimeSpan, TimeProvider)"/>), so a lease's timeline can be stepped through exactly.
/// <para>
/// <see cref="Now"/> is the true time: timers fall due on it and the monotonic timestamp follows it. The wall
/// clock (<see cref="GetUtcNow"/>) reads the same until <see cref="StepWallClock"/> moves it alone, as NTP or an
/// operator would. <see cref="OtherHost"/> is another machine on the same timeline, whose wall clock is off by
/// its own amount and whose timestamps count from an unrelated origin.
/// </para>
/// </summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private static readonly TimeSpan PatienceForTimer = TimeSpan.FromSeconds(10);
    private readonly Lock gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now = start;
    private TimeSpan wallError;

    /// <summary>The true time, whatever the wall clock says.</summary>
    public DateTimeOffset Now
    {
        get
        {
            lock (gate)
            {
                return now;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now + wallError;
        }
    }

    public override long GetTimestamp() => Now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Steps the wall clock only: timestamps and timers go on as before.</summary>
    public void StepWallClock(TimeSpan by)
    {
        lock (gate)
        {
            wallError += by;
        }
    }

    /// <summary>Another machine: its wall clock <paramref name="wallError"/> off the true time, timers shared with this clock.</summary>
    public HostClock OtherHost(TimeSpan wallError) => new(this, wallError);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // A CancellationTokenSource's timeout passes the source itself as the state (Task.Delay passes its own).
        var timer = new ManualTimer(this, callback, state) { IsTimeout = state is CancellationTokenSource };
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
    /// Waits (in real time) until something has set a timer for exactly <paramref name="due"/> (true time), then moves there.
    /// Steps through a schedule without racing the awaits that set its timers; a missing timer is a failure.
    /// </summary>
    public async Task AdvanceToAsync(DateTimeOffset due, bool delaysOnly = false)
    {
        var waited = Stopwatch.StartNew();
        while (!IsSet(due, delaysOnly))
        {
            if (waited.Elapsed > PatienceForTimer)
            {
                throw new TimeoutException($"No timer set for {due:HH:mm:ss.fff} (now {Now:HH:mm:ss.fff}); set: [{string.Join(", ", Pending())}]");
            }

            await Task.Delay(2);
        }

        Advance(due - Now);
    }

    private bool IsSet(DateTimeOffset due, bool delaysOnly)
    {
        lock (gate)
        {
            return timers.Any(t => t.Due == due && !(delaysOnly && t.IsTimeout));
        }
    }

    private List<string> Pending()
    {
        lock (gate)
        {
            return timers.Select(t => t.Due.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)).ToList();
        }
    }

    /// <summary>A machine other than the test's own, on the same timeline (see <see cref="OtherHost"/>).</summary>
    internal sealed class HostClock(ManualClock clock, TimeSpan wallError) : TimeProvider
    {
        // Timestamps of two machines cannot be compared: an origin of its own makes any such comparison fail.
        private static readonly long TimestampOrigin = TimeSpan.FromDays(4321).Ticks;
        private long wallErrorTicks = wallError.Ticks;

        public override DateTimeOffset GetUtcNow() => clock.Now + TimeSpan.FromTicks(Interlocked.Read(ref wallErrorTicks));

        public override long GetTimestamp() => clock.GetTimestamp() - TimestampOrigin;

        public override long TimestampFrequency => clock.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            clock.CreateTimer(callback, state, dueTime, period);

        /// <summary>Steps this machine's wall clock only.</summary>
        public void StepWallClock(TimeSpan by) => Interlocked.Add(ref wallErrorTicks, by.Ticks);
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        /// <summary>A CancellationTokenSource's timeout, not a delay or a periodic timer.</summary>
        public bool IsTimeout { get; init; }

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
