using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>The bot calls from many requests at once; the fake must count and number them as one Telegram would.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Concurrent_sends_at_one_instant_let_exactly_the_global_limit_through()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answers = await Task.WhenAll(Enumerable.Range(1, 100).Select(chat => api.SendMessageAsync(chat)));

        Assert.Equal(30, answers.Count(a => a.Ok));
        Assert.All(answers.Where(a => !a.Ok), a => Assert.Equal((429, 1), (a.Status, a.RetryAfter ?? 0)));
        var stats = fake.Stats();
        Assert.Equal(30, stats.Deliveries);
        Assert.Equal(70, stats.RateLimitViolations);
        Assert.Equal(100, stats.MaxGlobalRatePerSecond);
    }

    [Fact]
    public async Task Concurrent_sends_to_shared_chats_get_unique_increasing_ids_and_are_all_recorded()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);

        var answers = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => api.SendMessageAsync(1 + (i % 8), $"m{i}")));

        Assert.All(answers, a => Assert.True(a.Ok, a.ToString()));
        for (var chat = 1; chat <= 8; chat++)
        {
            var delivered = fake.Deliveries(chat);
            Assert.Equal(Enumerable.Range(1, 50), delivered.Select(d => d.MessageId));
        }

        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), fake.Calls().Select(c => c.Sequence).Order());
        Assert.Equal(400, fake.Stats().ByStatus["200"]);
    }
}
