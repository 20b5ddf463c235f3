namespace Bot.Telemetry;

/// <summary>The queue figures last read by <see cref="QueueSampler"/>: what the observable gauges report.</summary>
public sealed class QueueSnapshot(TimeProvider time)
{
    // A reading older than this is not reported: the replica has stopped sampling (lost leadership, or its
    // queries fail), and a frozen figure would hide the problem better than a gap.
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private volatile Sample? sample;

    public Sample? Current => sample is { } s && time.GetUtcNow() - s.TakenAt <= MaxAge ? s : null;

    public void Set(Sample value) => sample = value;

    public void Clear() => sample = null;

    internal IEnumerable<System.Diagnostics.Metrics.Measurement<double>> Observe(Func<Sample, double> read) =>
        Current is { } s ? [new(read(s))] : [];

    public sealed record Sample(DateTimeOffset TakenAt, double InboxLagSeconds, long InboxDepth, long OutboxInteractive, long OutboxBulk);
}
