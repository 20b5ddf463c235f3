using Bot.Outbox;

namespace Bot.Tests.Unit.Outbox;

public sealed class SendLimiterTests
{
    private readonly ManualTime time = new();
    private readonly SendLimiter limiter;

    public SendLimiterTests() =>
        limiter = new SendLimiter(new SenderOptions { GlobalPerSecond = 30, PrivateChatPerSecond = 1, GroupPerMinute = 20, SafetyMarginMilliseconds = 25 }, time);

    [Fact]
    public void A_private_chat_gets_one_message_per_second_plus_the_margin()
    {
        Assert.True(limiter.TryAcquire(42));
        Assert.False(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromMilliseconds(1024));
        Assert.False(limiter.TryAcquire(42));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(limiter.TryAcquire(42));
    }

    [Fact]
    public void A_group_gets_twenty_messages_in_any_minute()
    {
        for (var i = 0; i < 20; i++)
        {
            Assert.True(limiter.TryAcquire(-100), $"message {i + 1}");
            time.Advance(TimeSpan.FromMilliseconds(40));
        }

        Assert.False(limiter.TryAcquire(-100));
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromMilliseconds(800) + TimeSpan.FromSeconds(60.025), limiter.NextAllowed(-100));
    }

    [Fact]
    public void All_chats_together_get_thirty_per_second()
    {
        for (var chat = 1; chat <= 30; chat++)
        {
            Assert.True(limiter.TryAcquire(chat));
        }

        Assert.False(limiter.TryAcquire(31));
        time.Advance(TimeSpan.FromMilliseconds(1025));
        Assert.True(limiter.TryAcquire(31));
    }

    [Fact]
    public void Thirty_a_second_is_sustained_when_chats_take_turns()
    {
        var sends = new List<int>();
        for (var tick = 0; tick < 60_000; tick++)
        {
            if (limiter.TryAcquire(1 + (sends.Count % 100)))
            {
                sends.Add(tick);
            }

            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // Telegram's rule: never more than 30 in any one-second window; and the limit is used, not wasted.
        for (var i = 30; i < sends.Count; i++)
        {
            Assert.True(sends[i] - sends[i - 30] >= 1000, $"31 sends within {sends[i] - sends[i - 30]} ms");
        }

        Assert.True(sends.Count >= 29 * 60, $"{sends.Count} sends in 60 s");
    }

    [Fact]
    public void A_retry_after_pauses_the_chat_and_everything_else()
    {
        Assert.True(limiter.TryAcquire(1));
        limiter.Pause(1, TimeSpan.FromSeconds(5));

        Assert.False(limiter.TryAcquire(2));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(limiter.TryAcquire(2));
        Assert.True(limiter.TryAcquire(1));
    }

    internal sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
