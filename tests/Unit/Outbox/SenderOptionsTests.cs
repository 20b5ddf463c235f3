using Bot.Outbox;

namespace Bot.Tests.Unit.Outbox;

public sealed class SenderOptionsTests
{
    [Fact]
    public void Paid_calls_default_to_telegrams_thousand_a_second()
    {
        var options = new SenderOptions();

        Assert.Equal(1000, options.PaidPerSecond);
        Assert.Equal(30, options.GlobalPerSecond);
        Assert.True(new SenderOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void A_paid_rate_outside_one_to_a_thousand_is_refused_by_name(int perSecond)
    {
        var result = new SenderOptionsValidator().Validate(null, new SenderOptions { PaidPerSecond = perSecond });

        Assert.True(result.Failed);
        Assert.Contains("PaidPerSecond", result.FailureMessage, StringComparison.Ordinal);
    }
}
