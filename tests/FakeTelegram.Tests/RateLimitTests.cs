using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>Telegram's limits per token: 30/s overall, 1/s per private chat, 20/min per group; a refused call is not delivered.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Private_chat_takes_one_message_per_second_sliding()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var first = await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromMilliseconds(999));
        var tooSoon = await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var onTime = await api.SendMessageAsync(7);

        Assert.True(first.Ok);
        Assert.Equal(429, tooSoon.Status);
        Assert.Equal("Too Many Requests: retry after 1", tooSoon.Description);
        Assert.Equal(1, tooSoon.RetryAfter);
        Assert.True(onTime.Ok, onTime.ToString());
        Assert.Equal(2, fake.Deliveries(7).Count);
    }

    [Fact]
    public async Task A_refused_call_is_not_delivered_and_does_not_hold_the_window()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromMilliseconds(500));
        var refused = await api.SendMessageAsync(7, "refused");
        time.Advance(TimeSpan.FromMilliseconds(500));
        var next = await api.SendMessageAsync(7, "next");

        Assert.Equal(429, refused.Status);
        Assert.True(next.Ok, next.ToString());
        Assert.Equal(["hello", "next"], fake.Deliveries(7).Select(d => d.Text));
        var call = fake.Calls("sendMessage", 7)[1];
        Assert.False(call.Delivered);
        Assert.True(call.RateLimited);
        Assert.False(call.Injected);
    }

    [Fact]
    public async Task Private_chat_leeway_lets_a_message_in_that_much_early()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.Telegram with { PrivateChatLeeway = TimeSpan.FromMilliseconds(100) } });
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromMilliseconds(899));
        var tooEarly = await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var withinLeeway = await api.SendMessageAsync(7);

        Assert.Equal(429, tooEarly.Status);
        Assert.True(withinLeeway.Ok, withinLeeway.ToString());
    }

    [Fact]
    public async Task Thirty_messages_per_second_overall_then_429_until_the_window_frees()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        for (var chat = 1; chat <= 30; chat++)
        {
            Assert.True((await api.SendMessageAsync(chat)).Ok);
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        // 300 ms after the first message: the window frees 700 ms from now, so retry after 1 second.
        var thirtyFirst = await api.SendMessageAsync(31);
        time.Advance(TimeSpan.FromMilliseconds(699));
        var stillFull = await api.SendMessageAsync(31);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var freed = await api.SendMessageAsync(31);
        var butOnlyOne = await api.SendMessageAsync(32);

        Assert.Equal(429, thirtyFirst.Status);
        Assert.Equal(1, thirtyFirst.RetryAfter);
        Assert.Equal(429, stillFull.Status);
        Assert.True(freed.Ok, freed.ToString());
        Assert.Equal(429, butOnlyOne.Status);
        Assert.Equal(31, fake.Stats().Deliveries);
    }

    [Fact]
    public async Task Twenty_messages_per_minute_to_a_group_with_retry_after_until_the_window_frees()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        const long group = -1001234567890;

        for (var i = 0; i < 20; i++)
        {
            Assert.True((await api.SendMessageAsync(group)).Ok);
            time.Advance(TimeSpan.FromSeconds(1)); // keep the overall limit out of it
        }

        // The first left at t=0, so the window frees at t=60; it is t=20 now.
        var twentyFirst = await api.SendMessageAsync(group);
        time.Advance(TimeSpan.FromSeconds(39.5));
        var halfASecondEarly = await api.SendMessageAsync(group);
        time.Advance(TimeSpan.FromSeconds(0.5));
        var freed = await api.SendMessageAsync(group);
        var otherGroup = await api.SendMessageAsync(-42);

        Assert.Equal(429, twentyFirst.Status);
        Assert.Equal(40, twentyFirst.RetryAfter);
        Assert.Equal(429, halfASecondEarly.Status);
        Assert.Equal(1, halfASecondEarly.RetryAfter);
        Assert.True(freed.Ok, freed.ToString());
        Assert.True(otherGroup.Ok, otherGroup.ToString());
    }

    [Fact]
    public async Task Retry_after_is_the_longest_wait_of_the_limits_broken()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.Telegram with { Global = new WindowLimit(1, TimeSpan.FromSeconds(5)) } });
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(7);
        var both = await api.SendMessageAsync(7);

        Assert.Equal(5, both.RetryAfter);
    }

    [Fact]
    public async Task Edits_count_towards_the_limits_but_chat_actions_do_not()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var sent = await api.SendMessageAsync(7, "v1");
        var action = await api.CallAsync("sendChatAction", new JsonObject { ["chat_id"] = 7, ["action"] = "typing" });
        var edit = await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = 7, ["message_id"] = sent.MessageId, ["text"] = "v2" });

        Assert.True(action.Ok);
        Assert.Equal(429, edit.Status);
        Assert.True(fake.Calls("editMessageText").Single().RateLimited);
    }

    [Fact]
    public async Task Limits_are_per_token()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var botA = new BotApiClient(fake, "1:token-a");
        using var botB = new BotApiClient(fake, "2:token-b");

        Assert.True((await botA.SendMessageAsync(7)).Ok);
        Assert.True((await botB.SendMessageAsync(7)).Ok);
        Assert.Equal(429, (await botA.SendMessageAsync(7)).Status);
    }

    [Fact]
    public async Task Disabled_limits_let_everything_through()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);

        for (var i = 0; i < 40; i++)
        {
            Assert.True((await api.SendMessageAsync(7)).Ok);
        }

        var stats = fake.Stats();
        Assert.Equal(0, stats.RateLimitViolations);
        Assert.Equal(40, stats.MaxGlobalRatePerSecond);
    }

    [Fact]
    public async Task Limits_change_at_run_time_through_the_control_API()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };

        using var off = await control.PostAsync(new Uri("/_fake/limits", UriKind.Relative), new StringContent("""{"enabled":false}"""), TestContext.Current.CancellationToken);
        Assert.True((await api.SendMessageAsync(7)).Ok);
        Assert.True((await api.SendMessageAsync(7)).Ok);

        using var strict = await control.PostAsync(new Uri("/_fake/limits", UriKind.Relative),
            new StringContent("""{"private_chat":{"count":1,"window_ms":2000}}"""), TestContext.Current.CancellationToken);
        var first = await api.SendMessageAsync(8);
        time.Advance(TimeSpan.FromMilliseconds(1500));
        var second = await api.SendMessageAsync(8);

        Assert.Equal(200, (int)off.StatusCode);
        Assert.Equal(200, (int)strict.StatusCode);
        Assert.True(first.Ok);
        Assert.Equal(429, second.Status);
        Assert.Null(fake.RateLimits.Global);
        Assert.Equal(TimeSpan.FromSeconds(2), fake.RateLimits.PrivateChat!.Window);
    }
}
