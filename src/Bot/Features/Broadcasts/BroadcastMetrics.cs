using System.Diagnostics.Metrics;
using Bot.Telemetry;

namespace Bot.Features.Broadcasts;

/// <summary>The broadcasts' instruments, on the bot's meter (<see cref="BotMetrics.MeterName"/>).</summary>
public sealed class BroadcastMetrics
{
    private readonly Counter<long> messages;
    private readonly UpDownCounter<long> active;

    public BroadcastMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(BotMetrics.MeterName);
        messages = meter.CreateCounter<long>("bot.broadcast.messages", "{message}", "Broadcast deliveries by outcome (sent, failed, blocked).");
        active = meter.CreateUpDownCounter<long>("bot.broadcasts.active", "{broadcast}", "Broadcasts being sent by this replica.");
    }

    /// <summary>Recipients settled since the runner's last count. Outcomes: sent, failed, blocked.</summary>
    public void Messages(string outcome, long count = 1) => messages.Add(count, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>+1 when a broadcast starts on this replica, -1 when it stops.</summary>
    public void Active(int delta) => active.Add(delta);
}
