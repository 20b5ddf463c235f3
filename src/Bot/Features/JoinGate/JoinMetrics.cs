using System.Diagnostics.Metrics;
using Bot.Telemetry;

namespace Bot.Features.JoinGate;

/// <summary>The join gate's instrument, on the bot's meter (<see cref="BotMetrics.MeterName"/>).</summary>
public sealed class JoinMetrics(IMeterFactory meterFactory)
{
    private readonly Counter<long> decisions = meterFactory.Create(BotMetrics.MeterName).CreateCounter<long>(
        "bot.join.decisions", "{request}",
        "Join requests decided, by outcome (approved, declined) and reason (member, correct_answer, wrong_answer, timeout, unreachable).");

    public void Decided(bool approved, string reason) =>
        decisions.Add(1, new("outcome", approved ? JoinDecisions.Approved : JoinDecisions.Declined), new("reason", reason));
}
