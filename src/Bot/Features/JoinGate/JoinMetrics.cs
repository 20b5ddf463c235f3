using System.Diagnostics.Metrics;
using Bot.Telemetry;

namespace Bot.Features.JoinGate;

/// <summary>The join gate's instruments, on the bot's meter (<see cref="BotMetrics.MeterName"/>).</summary>
public sealed class JoinMetrics
{
    private readonly Counter<long> decisions;
    private readonly Counter<long> retries;
    private readonly Counter<long> raids;

    public JoinMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(BotMetrics.MeterName);
        decisions = meter.CreateCounter<long>(
            "bot.join.decisions", "{request}",
            "Join requests and direct joins decided, by outcome (approved, declined) and reason (member, correct_answer, wrong_answer, timeout, unreachable, repeat, admin).");
        retries = meter.CreateCounter<long>("bot.join.retries", "{answer}", "Wrong answers to a join check that left attempts: a new check followed.");
        raids = meter.CreateCounter<long>("bot.join.raids", "{raid}", "Times a gated chat entered raid mode (joins past Bot:RaidJoinsPerMinute).");
    }

    public void Decided(bool approved, string reason) =>
        decisions.Add(1, new("outcome", approved ? JoinDecisions.Approved : JoinDecisions.Declined), new("reason", reason));

    public void Retried() => retries.Add(1);

    public void RaidStarted() => raids.Add(1);
}
