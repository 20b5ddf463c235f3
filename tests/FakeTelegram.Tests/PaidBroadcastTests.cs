using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>
/// allow_paid_broadcast: such calls count against a window of their own (1000/s), not the 30/s one; the per-chat
/// limits hold for both, and every call records whether it was paid.
/// </summary>
public sealed class PaidBroadcastTests
{
    [Fact]
    public async Task Paid_calls_go_past_thirty_a_second_and_unpaid_ones_stay_at_thirty()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var unpaid = new List<ApiAnswer>();
        for (var chat = 1; chat <= 31; chat++)
        {
            unpaid.Add(await api.SendMessageAsync(chat));
        }

        var paid = new List<ApiAnswer>();
        for (var chat = 101; chat <= 200; chat++)
        {
            paid.Add(await PaidSendAsync(api, chat));
        }

        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = 300, ["from_chat_id"] = 101, ["message_id"] = 1, ["allow_paid_broadcast"] = true });

        Assert.All(unpaid.Take(30), a => Assert.True(a.Ok, a.ToString()));
        Assert.Equal(429, unpaid[30].Status);
        Assert.All(paid, a => Assert.True(a.Ok, a.ToString()));
        Assert.True(copy.Ok, copy.ToString());
        Assert.Equal(30, fake.Calls("sendMessage").Count(c => c.Delivered && !c.Paid));
        Assert.Equal(100, fake.Calls("sendMessage").Count(c => c.Delivered && c.Paid));
        Assert.True(fake.Calls("copyMessage").Single().Paid);
        var stats = fake.Stats();
        Assert.Equal(101, stats.PaidCalls);
        Assert.Equal(31, stats.MaxUnpaidRatePerSecond);
        Assert.Equal(132, stats.MaxGlobalRatePerSecond);
        Assert.Equal(1, stats.RateLimitViolations);
    }

    [Fact]
    public async Task The_paid_window_has_its_own_limit()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.Telegram with { Paid = new WindowLimit(5, TimeSpan.FromSeconds(1)) } });
        using var api = new BotApiClient(fake);

        var answers = new List<ApiAnswer>();
        for (var chat = 1; chat <= 6; chat++)
        {
            answers.Add(await PaidSendAsync(api, chat));
        }

        var unpaid = await api.SendMessageAsync(7);
        time.Advance(TimeSpan.FromSeconds(1));
        var later = await PaidSendAsync(api, 6);

        Assert.All(answers.Take(5), a => Assert.True(a.Ok, a.ToString()));
        Assert.Equal((429, 1), (answers[5].Status, answers[5].RetryAfter));
        Assert.True(unpaid.Ok, unpaid.ToString());
        Assert.True(later.Ok, later.ToString());
    }

    [Fact]
    public async Task A_paid_call_still_gets_one_message_per_second_in_a_private_chat_and_twenty_a_minute_in_a_group()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var first = await PaidSendAsync(api, 7);
        var second = await PaidSendAsync(api, 7);
        var group = new List<ApiAnswer>();
        for (var i = 0; i < 21; i++)
        {
            group.Add(await PaidSendAsync(api, -100));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var third = await PaidSendAsync(api, 7);

        Assert.True(first.Ok);
        Assert.Equal((429, 1), (second.Status, second.RetryAfter));
        Assert.True(third.Ok, third.ToString());
        Assert.All(group.Take(20), a => Assert.True(a.Ok, a.ToString()));
        Assert.Equal(429, group[20].Status);
        Assert.True(fake.Calls("sendMessage", 7)[1] is { Paid: true, RateLimited: true, Delivered: false });
    }

    [Fact]
    public async Task Only_methods_that_take_the_parameter_are_paid()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sent = await PaidSendAsync(api, 7);

        await api.CallAsync("forwardMessage", new JsonObject { ["chat_id"] = 8, ["from_chat_id"] = 7, ["message_id"] = sent.MessageId, ["allow_paid_broadcast"] = true });
        await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = 7, ["message_id"] = sent.MessageId, ["text"] = "x", ["allow_paid_broadcast"] = true });
        await api.CallFormAsync("sendMessage", [new("chat_id", "9"), new("text", "form"), new("allow_paid_broadcast", "true")]);

        Assert.Equal([true, false, false, true], fake.Calls().Select(c => c.Paid));
    }

    [Fact]
    public async Task The_control_API_shows_paid_calls_the_paid_count_and_the_paid_limit()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };
        var cancel = TestContext.Current.CancellationToken;
        await PaidSendAsync(api, 1);
        await api.SendMessageAsync(2);

        var calls = await control.GetFromJsonAsync<JsonArray>(new Uri("/_fake/calls?method=sendMessage", UriKind.Relative), cancel);
        var stats = await control.GetFromJsonAsync<JsonObject>(new Uri("/_fake/stats", UriKind.Relative), cancel);
        var limits = await control.GetFromJsonAsync<JsonObject>(new Uri("/_fake/limits", UriKind.Relative), cancel);
        using var set = await control.PostAsJsonAsync(new Uri("/_fake/limits", UriKind.Relative), new JsonObject { ["paid"] = new JsonObject { ["count"] = 50, ["window_ms"] = 1000 } }, cancel);

        Assert.Equal([true, false], calls!.Select(c => c!["paid"]!.GetValue<bool>()));
        Assert.Equal(1, stats!["paid_calls"]!.GetValue<long>());
        Assert.Equal(1, stats["max_unpaid_rate_per_second"]!.GetValue<int>());
        Assert.Equal(1000, limits!["paid"]!["count"]!.GetValue<int>());
        Assert.True(set.IsSuccessStatusCode);
        Assert.Equal(new WindowLimit(50, TimeSpan.FromSeconds(1)), fake.RateLimits.Paid);
        Assert.Equal(30, fake.RateLimits.Global!.Count);
    }

    private static Task<ApiAnswer> PaidSendAsync(BotApiClient api, long chatId) =>
        api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = chatId, ["text"] = "paid", ["allow_paid_broadcast"] = true });
}
