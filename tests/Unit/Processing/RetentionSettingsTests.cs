using Bot.Features.JoinGate;
using Bot.Outbox;
using Bot.Processing;

namespace Bot.Tests.Unit.Processing;

public sealed class RetentionSettingsTests
{
    [Fact]
    public void The_defaults_keep_two_days_of_updates_and_messages_two_weeks_of_dead_letters_and_half_a_year_of_join_decisions()
    {
        Assert.Equal(48, new ProcessingOptions().RetentionHours);
        Assert.Equal(14, new ProcessingOptions().DeadLetterRetentionDays);
        Assert.Equal(48, new OutboxOptions().RetentionHours);
        Assert.Equal(180, new JoinGateOptions().JoinDecisionRetentionDays);
        Assert.True(new ProcessingOptionsValidator().Validate(null, new ProcessingOptions()).Succeeded);
        Assert.True(new OutboxOptionsValidator().Validate(null, new OutboxOptions()).Succeeded);
        Assert.True(new JoinGateOptionsAttributesValidator().Validate(null, new JoinGateOptions()).Succeeded);
    }

    [Fact]
    public void Retentions_out_of_range_are_refused_by_name()
    {
        var outbox = new OutboxOptionsValidator().Validate(null, new OutboxOptions { RetentionHours = 23 });
        Assert.Contains(outbox.Failures!, f => f.Contains("RetentionHours", StringComparison.Ordinal) && f.Contains("between 24 and 8760", StringComparison.Ordinal));

        var dead = new ProcessingOptionsValidator().Validate(null, new ProcessingOptions { DeadLetterRetentionDays = 0 });
        Assert.Contains(dead.Failures!, f => f.Contains("DeadLetterRetentionDays", StringComparison.Ordinal));

        var linger = new ProcessingOptionsValidator().Validate(null, new ProcessingOptions { ClaimLingerMilliseconds = 101 });
        Assert.Contains(linger.Failures!, f => f.Contains("ClaimLingerMilliseconds", StringComparison.Ordinal) && f.Contains("between 0 and 100", StringComparison.Ordinal));

        var join = new JoinGateOptionsAttributesValidator().Validate(null, new JoinGateOptions { JoinDecisionRetentionDays = 4000 });
        Assert.Contains(join.Failures!, f => f.Contains("JoinDecisionRetentionDays", StringComparison.Ordinal));
    }
}
