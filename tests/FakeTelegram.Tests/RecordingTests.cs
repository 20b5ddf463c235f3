using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

public sealed class RecordingTests
{
    [Fact]
    public async Task Every_call_is_recorded_in_order_with_its_outcome()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(7, "one");
        await api.SendMessageAsync(7, "two");
        time.Advance(TimeSpan.FromSeconds(1));
        await api.CallAsync("getMe");

        var calls = fake.Calls();
        Assert.Equal([1L, 2L, 3L], calls.Select(c => c.Sequence));
        Assert.Equal(["sendMessage", "sendMessage", "getMe"], calls.Select(c => c.Method));
        Assert.Equal([200, 429, 200], calls.Select(c => c.Status ?? 0));
        Assert.Equal([true, false, false], calls.Select(c => c.Delivered));
        Assert.Equal(7, calls[0].ChatId);
        Assert.Null(calls[2].ChatId);
        Assert.Equal("one", calls[0].Body["text"]!.GetValue<string>());
        Assert.Equal(1, calls[0].MessageId);
        Assert.Equal(time.GetUtcNow(), calls[2].ReceivedAt);
    }

    [Fact]
    public async Task Calls_filter_by_method_and_chat()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(1);
        await api.SendMessageAsync(2);
        await api.CallAsync("sendChatAction", new JsonObject { ["chat_id"] = 1, ["action"] = "typing" });

        Assert.Equal(2, fake.Calls(chatId: 1).Count);
        Assert.Single(fake.Calls("SENDMESSAGE", 1));
        Assert.Equal(2, fake.Calls("sendMessage").Count);
    }

    [Fact]
    public async Task Stats_count_methods_statuses_deliveries_and_429s()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        fake.InjectFault(Fault.TooManyRequests(2) with { Method = "getMe" });

        await api.SendMessageAsync(1);
        await api.SendMessageAsync(1);
        await api.SendMessageAsync(2);
        await api.CallAsync("getMe");

        var stats = fake.Stats();
        Assert.Equal(4, stats.Calls);
        Assert.Equal(2, stats.ByMethod["sendMessage"]["200"]);
        Assert.Equal(1, stats.ByMethod["sendMessage"]["429"]);
        Assert.Equal(1, stats.ByMethod["getMe"]["429"]);
        Assert.Equal(2, stats.ByStatus["200"]);
        Assert.Equal(2, stats.Deliveries);
        Assert.Equal(2, stats.TooManyRequests);
        Assert.Equal(1, stats.RateLimitViolations);
        Assert.Equal(3, stats.MaxGlobalRatePerSecond);
        Assert.Equal(2, stats.MaxDeliveryRatePerSecond);
    }

    [Fact]
    public async Task Deliveries_per_chat_are_in_order_and_waiting_for_them_wakes_on_arrival()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);

        var waiting = fake.WaitForDeliveriesAsync(3, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);
        await api.SendMessageAsync(1, "a");
        await api.SendMessageAsync(2, "b");
        await api.SendMessageAsync(1, "c");
        var all = await waiting;

        Assert.Equal(["a", "b", "c"], all.Select(d => d.Text));
        Assert.Equal(["a", "c"], fake.Deliveries(1).Select(d => d.Text));
        Assert.Equal([1, 2], fake.Deliveries(1).Select(d => d.MessageId));
    }

    [Fact]
    public async Task Waiting_for_calls_that_do_not_come_times_out_with_what_did()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        await api.CallAsync("getMe");

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            fake.WaitForCallsAsync(1, TimeSpan.FromMilliseconds(100), "approveChatJoinRequest", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("approveChatJoinRequest", error.Message, StringComparison.Ordinal);
        Assert.Contains("#1 getMe", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clearing_calls_forgets_records_and_counters_but_not_the_world()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        fake.BlockChat(9);
        await api.SendMessageAsync(1);

        fake.ClearCalls();

        Assert.Empty(fake.Calls());
        Assert.Empty(fake.Deliveries());
        Assert.Equal(0, fake.Stats().Calls);
        Assert.Equal(429, (await api.SendMessageAsync(1)).Status);
        Assert.Equal(403, (await api.SendMessageAsync(9)).Status);
    }

    [Fact]
    public async Task Reset_returns_to_the_start()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        fake.BlockChat(9);
        fake.InjectFault(Fault.InternalServerError() with { Method = "getMe" });
        fake.SetRateLimits(RateLimits.None);
        await api.CallAsync("setWebhook", new JsonObject { ["url"] = "https://bot.example.org/hook" });
        await api.SendMessageAsync(1);

        fake.Reset();

        Assert.Empty(fake.Calls());
        Assert.Empty(fake.PendingFaults());
        Assert.False(fake.Webhook.IsSet);
        Assert.Equal(RateLimits.Telegram, fake.RateLimits);
        Assert.True((await api.SendMessageAsync(9)).Ok);
        Assert.True((await api.CallAsync("getMe")).Ok);
        Assert.Equal(1, fake.Calls()[0].Sequence);
    }

    [Fact]
    public async Task The_control_API_lists_calls_stats_and_deliveries_and_takes_updates()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };
        var cancel = TestContext.Current.CancellationToken;
        await api.SendMessageAsync(1, "привет");
        await api.SendMessageAsync(2);

        var calls = await control.GetFromJsonAsync<JsonArray>(new Uri("/_fake/calls?method=sendMessage&chat_id=1", UriKind.Relative), cancel);
        var stats = await control.GetFromJsonAsync<JsonObject>(new Uri("/_fake/stats", UriKind.Relative), cancel);
        var deliveries = await control.GetFromJsonAsync<JsonArray>(new Uri("/_fake/deliveries?chat_id=2", UriKind.Relative), cancel);
        using var enqueued = await control.PostAsync(new Uri("/_fake/updates", UriKind.Relative), new StringContent("""[{"message":{"text":"a"}},{"message":{"text":"b"}}]"""), cancel);
        var ids = (await enqueued.Content.ReadFromJsonAsync<JsonObject>(cancel))!["update_ids"]!.AsArray();
        using var cleared = await control.DeleteAsync(new Uri("/_fake/calls", UriKind.Relative), cancel);

        var call = Assert.Single(calls!)!.AsObject();
        Assert.Equal("sendMessage", call["method"]!.GetValue<string>());
        Assert.Equal(1, call["chat_id"]!.GetValue<long>());
        Assert.Equal(200, call["status"]!.GetValue<int>());
        Assert.True(call["delivered"]!.GetValue<bool>());
        Assert.Equal("привет", call["body"]!["text"]!.GetValue<string>());
        Assert.Equal(FakeTelegramServer.TokenFingerprint(BotApiClient.DefaultToken), call["token_fingerprint"]!.GetValue<string>());
        Assert.Equal(2, stats!["deliveries"]!.GetValue<long>());
        Assert.Equal(2, stats["by_method"]!["sendMessage"]!["200"]!.GetValue<long>());
        Assert.NotNull(stats["max_global_rate_per_second"]);
        Assert.Equal(2, Assert.Single(deliveries!)!["chat_id"]!.GetValue<long>());
        Assert.Equal([1L, 2L], ids.Select(i => i!.GetValue<long>()));
        Assert.Equal(2, fake.PendingUpdateCount);
        Assert.Equal(204, (int)cleared.StatusCode);
        Assert.Empty(fake.Calls());
    }
}
