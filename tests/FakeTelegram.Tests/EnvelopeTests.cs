using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

public sealed class EnvelopeTests
{
    [Fact]
    public async Task Success_is_ok_true_with_the_result()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var me = await api.CallAsync("getMe");

        Assert.Equal(200, me.Status);
        Assert.True(me.Ok);
        Assert.Equal(123456789, me.Result!["id"]!.GetValue<long>());
        Assert.True(me.Result["is_bot"]!.GetValue<bool>());
        Assert.Equal("fake_bot", me.Result["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task Error_is_ok_false_with_error_code_and_description_only()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = 1 });

        Assert.Equal(400, answer.Status);
        Assert.Equal(["ok", "error_code", "description"], answer.Body!.Select(p => p.Key));
        Assert.False(answer.Ok);
        Assert.Equal(400, answer.ErrorCode);
        Assert.Equal("Bad Request: message text is empty", answer.Description);
    }

    [Fact]
    public async Task Unknown_method_is_404_method_not_found()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("sendTelepathy");

        Assert.Equal(404, answer.Status);
        Assert.Equal("Not Found: method not found", answer.Description);
    }

    [Fact]
    public async Task Method_names_are_case_insensitive_and_recorded_in_Telegrams_spelling()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("GETME");

        Assert.True(answer.Ok);
        Assert.Equal("getMe", Assert.Single(fake.Calls()).Method);
    }

    [Fact]
    public async Task A_token_not_configured_gets_401_and_the_call_is_not_done()
    {
        const string good = "111:good-secret";
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { Tokens = [good] });
        using var right = new BotApiClient(fake, good);
        using var wrong = new BotApiClient(fake, "111:bad-secret");

        var refused = await wrong.SendMessageAsync(5);
        var accepted = await right.SendMessageAsync(5);

        Assert.Equal(401, refused.Status);
        Assert.Equal("Unauthorized", refused.Description);
        Assert.True(accepted.Ok);
        Assert.Single(fake.Deliveries(5));
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("abc:def")]
    [InlineData("123:")]
    public async Task By_default_any_well_formed_token_is_accepted_and_a_malformed_one_gets_401(string malformed)
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake, "987:any_Secret-at-all");
        using var bad = new BotApiClient(fake, malformed);

        Assert.True((await api.CallAsync("getMe")).Ok);
        Assert.Equal(401, (await bad.CallAsync("getMe")).Status);
    }

    [Fact]
    public async Task Records_identify_the_token_by_bot_id_and_fingerprint_never_the_token()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        await api.SendMessageAsync(5);

        var call = Assert.Single(fake.Calls());
        Assert.Equal(123456789, call.BotId);
        Assert.Equal(FakeTelegramServer.TokenFingerprint(BotApiClient.DefaultToken), call.TokenFingerprint);
        Assert.DoesNotContain("TEST-token", call.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("TEST-token", call.BodyJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Form_fields_and_query_parameters_work_like_a_JSON_body()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var form = await api.CallFormAsync("sendMessage", [new("chat_id", "-100"), new("text", "from a form")]);
        var query = await api.GetAsync("sendMessage?chat_id=-200&text=from%20a%20query");

        Assert.True(form.Ok, form.ToString());
        Assert.True(query.Ok, query.ToString());
        Assert.Equal("from a form", Assert.Single(fake.Deliveries(-100)).Text);
        Assert.Equal("from a query", Assert.Single(fake.Deliveries(-200)).Text);
    }

    [Fact]
    public async Task Sent_message_is_shaped_like_Telegrams_and_echoes_an_inline_keyboard()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        var keyboard = new JsonObject { ["inline_keyboard"] = new JsonArray(new JsonArray(new JsonObject { ["text"] = "Yes", ["callback_data"] = "y" })) };

        var sent = await api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = 42, ["text"] = "Ready?", ["reply_markup"] = keyboard });

        var message = sent.Result!.AsObject();
        Assert.Equal(1, message["message_id"]!.GetValue<int>());
        Assert.Equal(42, message["chat"]!["id"]!.GetValue<long>());
        Assert.Equal("private", message["chat"]!["type"]!.GetValue<string>());
        Assert.True(message["from"]!["is_bot"]!.GetValue<bool>());
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), message["date"]!.GetValue<long>());
        Assert.Equal("Ready?", message["text"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(keyboard, message["reply_markup"]));
    }

    [Fact]
    public async Task Message_ids_increase_per_chat()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);

        var a1 = await api.SendMessageAsync(1);
        var b1 = await api.SendMessageAsync(2);
        var a2 = await api.SendMessageAsync(1);
        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = 1, ["from_chat_id"] = 2, ["message_id"] = 1 });

        Assert.Equal([1, 1, 2, 3], new[] { a1.MessageId, b1.MessageId, a2.MessageId, copy.MessageId });
        Assert.Equal(["message_id"], copy.Result!.AsObject().Select(p => p.Key));
        Assert.Equal("hello", fake.Deliveries(1)[^1].Text);
    }

    [Fact]
    public async Task A_path_outside_the_Bot_API_is_404_not_found()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var http = new HttpClient { BaseAddress = fake.BaseUri };

        using var response = await http.GetAsync(new Uri("/nothing/here", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("\"ok\":false", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}
