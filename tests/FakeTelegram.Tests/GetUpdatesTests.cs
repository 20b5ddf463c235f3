using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

public sealed class GetUpdatesTests
{
    [Fact]
    public async Task Updates_come_in_order_until_an_offset_confirms_them()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        var ids = fake.EnqueueUpdates([Message("a"), Message("b"), Message("c")]);

        var unconfirmed = await GetUpdates(api, new JsonObject());
        var again = await GetUpdates(api, new JsonObject());
        var afterFirst = await GetUpdates(api, new JsonObject { ["offset"] = ids[0] + 1 });
        var limited = await GetUpdates(api, new JsonObject { ["limit"] = 1 });
        var afterAll = await GetUpdates(api, new JsonObject { ["offset"] = ids[2] + 1 });

        Assert.Equal([1L, 2L, 3L], ids);
        Assert.Equal(ids, unconfirmed);
        Assert.Equal(ids, again);
        Assert.Equal(ids.Skip(1), afterFirst);
        Assert.Equal([ids[1]], limited);
        Assert.Empty(afterAll);
        Assert.Equal(0, fake.PendingUpdateCount);
    }

    [Fact]
    public async Task A_negative_offset_keeps_only_the_last_updates_and_forgets_the_rest()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        var ids = fake.EnqueueUpdates([Message("a"), Message("b"), Message("c")]);

        var last = await GetUpdates(api, new JsonObject { ["offset"] = -1 });
        var rest = await GetUpdates(api, new JsonObject());

        Assert.Equal([ids[2]], last);
        Assert.Equal([ids[2]], rest);
    }

    [Fact]
    public async Task Updates_are_returned_as_queued_with_update_id_first()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.EnqueueUpdate("""{"update_id":41,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"text":"hi"}}""");
        fake.EnqueueUpdate(Message("next"));

        var answer = await api.CallAsync("getUpdates");

        var updates = answer.Result!.AsArray();
        Assert.Equal(41, updates[0]!["update_id"]!.GetValue<long>());
        Assert.Equal("hi", updates[0]!["message"]!["text"]!.GetValue<string>());
        Assert.Equal(42, updates[1]!["update_id"]!.GetValue<long>());
        Assert.Equal("update_id", updates[1]!.AsObject().First().Key);
    }

    [Fact]
    public async Task A_long_poll_waits_and_wakes_when_an_update_is_queued()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var poll = GetUpdates(api, new JsonObject { ["timeout"] = 50 });
        await Fakes.Eventually(() => fake.State.HasWaitingPoll, "the poll waits");
        Assert.False(poll.IsCompleted);
        var id = fake.EnqueueUpdate(Message("wake up"));

        Assert.Equal([id], await poll.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_long_poll_with_nothing_to_return_answers_an_empty_list_after_its_timeout()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);

        var poll = api.CallAsync("getUpdates", new JsonObject { ["timeout"] = 30 }, TestContext.Current.CancellationToken);
        await Fakes.Eventually(() => fake.State.HasWaitingPoll, "the poll waits");
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(poll.IsCompleted);
        var answer = await time.AdvanceUntilDone(poll, TimeSpan.FromSeconds(1));

        Assert.True(answer.Ok);
        Assert.Empty(answer.Result!.AsArray());
    }

    [Fact]
    public async Task A_second_getUpdates_ends_the_waiting_one_with_409_as_on_Telegram()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var first = new BotApiClient(fake);
        using var second = new BotApiClient(fake);

        var older = first.CallAsync("getUpdates", new JsonObject { ["timeout"] = 50 }, TestContext.Current.CancellationToken);
        await Fakes.Eventually(() => fake.State.HasWaitingPoll, "the first poll waits");
        var newer = GetUpdates(second, new JsonObject { ["timeout"] = 50 });
        var conflict = await older.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await Fakes.Eventually(() => fake.State.HasWaitingPoll, "the second poll waits");
        var id = fake.EnqueueUpdate(Message("for the survivor"));

        Assert.Equal(409, conflict.Status);
        Assert.Equal("Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", conflict.Description);
        Assert.Equal([id], await newer.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GetUpdates_while_a_webhook_is_set_is_409()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        await api.CallAsync("setWebhook", new JsonObject { ["url"] = "https://bot.example.org/telegram/webhook" });

        var answer = await api.CallAsync("getUpdates");

        Assert.Equal(409, answer.Status);
        Assert.StartsWith("Conflict: can't use getUpdates method while webhook is active", answer.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook_state_is_kept_and_reported_without_the_secret()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.EnqueueUpdate(Message("pending"));

        var set = await api.CallAsync("setWebhook", new JsonObject
        {
            ["url"] = "https://bot.example.org/telegram/webhook",
            ["secret_token"] = "s3cret_token-value",
            ["allowed_updates"] = new JsonArray("message", "chat_join_request"),
            ["max_connections"] = 10,
        });
        var info = (await api.CallAsync("getWebhookInfo")).Result!.AsObject();
        var deleted = await api.CallAsync("deleteWebhook", new JsonObject { ["drop_pending_updates"] = true });
        var after = (await api.CallAsync("getWebhookInfo")).Result!.AsObject();

        Assert.Equal("Webhook was set", set.Description);
        Assert.Equal("https://bot.example.org/telegram/webhook", info["url"]!.GetValue<string>());
        Assert.Equal(1, info["pending_update_count"]!.GetValue<int>());
        Assert.Equal(10, info["max_connections"]!.GetValue<int>());
        Assert.Equal(["message", "chat_join_request"], info["allowed_updates"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.DoesNotContain("s3cret", info.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("Webhook was deleted", deleted.Description);
        Assert.Equal("", after["url"]!.GetValue<string>());
        Assert.Equal(0, after["pending_update_count"]!.GetValue<int>());
        Assert.False(fake.Webhook.IsSet);
    }

    [Fact]
    public async Task The_typed_webhook_view_shows_what_was_registered()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        await api.CallAsync("setWebhook", new JsonObject { ["url"] = "https://bot.example.org/hook", ["secret_token"] = "abc_DEF-123" });

        Assert.Equal(new WebhookState("https://bot.example.org/hook", true, null, 40, 0), fake.Webhook);
        Assert.True(fake.IsWebhookSecretToken("abc_DEF-123"));
        Assert.False(fake.IsWebhookSecretToken("abc_DEF-124"));
    }

    [Theory]
    [InlineData("http://bot.example.org/hook", "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")]
    [InlineData("https://bot.example.org:8080/hook", "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")]
    [InlineData("not a url", "Bad Request: invalid webhook URL specified")]
    public async Task SetWebhook_refuses_what_Telegram_refuses(string url, string description)
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("setWebhook", new JsonObject { ["url"] = url });

        Assert.Equal((400, description), (answer.Status, answer.Description));
        Assert.False(fake.Webhook.IsSet);
    }

    [Fact]
    public async Task SetWebhook_takes_local_http_urls_when_validation_is_off()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { ValidateWebhookUrls = false });
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("setWebhook", new JsonObject { ["url"] = "http://127.0.0.1:8080/telegram/webhook" });

        Assert.True(answer.Ok, answer.ToString());
    }

    private static JsonObject Message(string text) => new()
    {
        ["message"] = new JsonObject
        {
            ["message_id"] = 1,
            ["date"] = 1,
            ["chat"] = new JsonObject { ["id"] = 7, ["type"] = "private" },
            ["text"] = text,
        },
    };

    private static async Task<IReadOnlyList<long>> GetUpdates(BotApiClient api, JsonObject parameters)
    {
        var answer = await api.CallAsync("getUpdates", parameters, TestContext.Current.CancellationToken);
        Assert.True(answer.Ok, answer.ToString());
        return answer.Result!.AsArray().Select(u => u!["update_id"]!.GetValue<long>()).ToList();
    }
}
