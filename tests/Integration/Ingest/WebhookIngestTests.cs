using System.Net;
using System.Text;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Ingest;

public sealed class WebhookIngestTests(SharedPostgres postgres) : IAsyncLifetime
{
    private static readonly HttpClient Http = new();
    private TestBot bot = null!;

    public async ValueTask InitializeAsync() =>
        bot = await TestBot.StartAsync(postgres.Cluster, new Dictionary<string, string?> { ["Ingest__MaxBodyBytes"] = "65536" });

    public ValueTask DisposeAsync() => bot.DisposeAsync();

    [Fact]
    public async Task An_update_is_stored_by_the_time_it_is_acknowledged()
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(1001, 42)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 1001 AND chat_id = 42 AND kind = 'message'"));
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 1001 AND payload::jsonb -> 'message' ->> 'text' = 'hello' AND trace_context LIKE '00-%'"));
    }

    [Theory]
    [InlineData("my_chat_member", -5L, """{"update_id":8101,"my_chat_member":{"chat":{"id":-5,"type":"group","title":"G"},"from":{"id":7,"is_bot":false,"first_name":"A"},"date":1,"old_chat_member":{"status":"left","user":{"id":9,"is_bot":true,"first_name":"B"}},"new_chat_member":{"status":"administrator","user":{"id":9,"is_bot":true,"first_name":"B"},"can_be_edited":false,"is_anonymous":false,"can_manage_chat":true,"can_delete_messages":true,"can_manage_video_chats":true,"can_restrict_members":true,"can_promote_members":false,"can_change_info":true,"can_invite_users":true}}}""")]
    [InlineData("message", 42L, """{"update_id":8102,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"text":"/start ref_1","entities":[{"type":"bot_command","offset":0,"length":6}],"reply_markup":{"inline_keyboard":[[{"text":"Yes","callback_data":"y"},{"text":"Site","url":"https://example.com"}]]}}}""")]
    [InlineData("callback_query", 42L, """{"update_id":8103,"callback_query":{"id":"1","from":{"id":42,"is_bot":false,"first_name":"A"},"chat_instance":"c","data":"y","message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"},"text":"Q?","reply_markup":{"inline_keyboard":[[{"text":"Yes","callback_data":"y"}]]}}}}""")]
    [InlineData("message", -100L, """{"update_id":8104,"message":{"message_id":2,"date":1,"chat":{"id":-100,"type":"supergroup","title":"S"},"from":{"id":3,"is_bot":false,"first_name":"C"},"photo":[{"file_id":"f","file_unique_id":"u","width":1,"height":1}],"caption":"c","reply_to_message":{"message_id":1,"date":1,"chat":{"id":-100,"type":"supergroup"}}}}""")]
    public async Task Updates_with_polymorphic_members_and_keyboards_are_parsed_and_stored(string kind, long chat, string body)
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await bot.ScalarAsync($"SELECT count(*) FROM inbox WHERE kind = '{kind}' AND chat_id = {chat}"));
    }

    [Fact]
    public async Task A_redelivered_update_is_acknowledged_and_stored_once()
    {
        for (var i = 0; i < 3; i++)
        {
            using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(2002, 7)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 2002"));
    }

    [Theory]
    [InlineData("{\"update_id\":")]
    [InlineData("{\"update_id\":\"abc\"}")]
    [InlineData("{\"update_id\":99999999999999999999999}")]
    [InlineData("{\"message\":{\"message_id\":1}}")]
    [InlineData("[1,2,3]")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("{\"update_id\":5,\"message\":{\"chat\":\"not an object\"}}")]
    public async Task Malformed_input_is_400_and_stores_nothing(string body)
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
        Assert.False(bot.Process.HasExited);
    }

    [Fact]
    public async Task Deeply_nested_json_is_400()
    {
        var body = "{\"update_id\":9,\"message\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-secret-of-similar-length")]
    [InlineData("integration-test-webhook-secreT")]
    public async Task A_missing_or_wrong_secret_is_401_and_stores_nothing(string? secret)
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(3003, 1), secret));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
    }

    [Fact]
    public async Task An_oversized_body_is_413_whether_declared_or_streamed()
    {
        var huge = "{\"update_id\":4004,\"message\":{\"text\":\"" + new string('x', 70_000) + "\"}}";

        using var declared = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, huge));
        var streamed = Updates.Post(bot.Process.WebhookUri, "");
        streamed.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        streamed.Content.Headers.ContentType = new("application/json");
        streamed.Headers.TransferEncodingChunked = true;
        using var chunked = await Http.SendAsync(streamed);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=latin1")]
    public async Task A_body_that_is_not_json_is_415(string contentType)
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(5005, 1), contentType: contentType));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
    }

    [Fact]
    public async Task Json_that_postgres_jsonb_would_refuse_is_still_stored()
    {
        // \u0000 is valid JSON that jsonb refuses; the inbox keeps text so no Telegram update is lost for it.
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(6006, 3, "a\\u0000b")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 6006"));
    }

    [Fact]
    public async Task The_public_port_serves_nothing_but_the_webhook()
    {
        var publicBase = new Uri($"http://127.0.0.1:{bot.Process.PublicPort}/");
        foreach (var path in new[] { "healthz", "readyz", "admin/stats", "openapi/v1.json", "" })
        {
            using var response = await Http.GetAsync(new Uri(publicBase, path));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        // The Host header is the client's to choose; the gate goes by the port the request came in on.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, new Uri(publicBase, "readyz"));
        spoofed.Headers.Host = $"127.0.0.1:{bot.Process.InternalPort}";
        using var spoofedResponse = await Http.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.NotFound, spoofedResponse.StatusCode);

        using var internalWebhook = await Http.SendAsync(Updates.Post(new Uri(bot.Process.InternalUri, "telegram/webhook"), Updates.Message(7007, 1)));
        Assert.Equal(HttpStatusCode.NotFound, internalWebhook.StatusCode);
        Assert.Equal(0, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
    }

    [Fact]
    public async Task Concurrent_posts_with_duplicates_store_exactly_the_distinct_updates()
    {
        // 1,000 requests: 900 distinct ids and 100 repeats of some of them, all at once.
        var ids = Enumerable.Range(100_000, 900).Select(i => (long)i).ToList();
        var requests = ids.Concat(ids.Where((_, i) => i % 9 == 0).Take(100)).ToList();
        Assert.Equal(1000, requests.Count);
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(requests));

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        using var client = new HttpClient(handler);
        var statuses = await Task.WhenAll(requests.Select(async id =>
        {
            using var response = await client.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(id, id % 50)));
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(900, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
        Assert.Equal(900, await bot.ScalarAsync("SELECT count(DISTINCT update_id) FROM inbox WHERE update_id BETWEEN 100000 AND 100899"));
    }
}
