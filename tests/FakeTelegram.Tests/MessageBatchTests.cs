using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>copyMessages and deleteMessages, and what edits and deletes do to messages the fake copied.</summary>
public sealed class MessageBatchTests
{
    private const long Channel = -1001000000009;

    [Fact]
    public async Task CopyMessages_delivers_each_message_with_new_ids_in_one_call_that_counts_as_one_message()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time);
        using var api = new BotApiClient(fake);
        var sources = await SeedChannelAsync(fake, time, api, "one", "two", "three");
        await api.SendMessageAsync(7, "before");
        time.Advance(TimeSpan.FromSeconds(1));

        var copied = await api.CallAsync("copyMessages", CopyOf(7, sources));
        var tooSoon = await api.CallAsync("copyMessages", CopyOf(7, sources));

        Assert.True(copied.Ok, copied.ToString());
        var ids = copied.Result!.AsArray().Select(m => m!["message_id"]!.GetValue<int>()).ToList();
        Assert.Equal([2, 3, 4], ids);
        Assert.Equal((429, 1), (tooSoon.Status, tooSoon.RetryAfter));
        var call = fake.Calls("copyMessages", 7)[0];
        Assert.True(call.Delivered);
        Assert.Equal(ids, call.MessageIds);
        Assert.Equal(sources, call.SourceMessageIds);
        Assert.Equal(["one", "two", "three"], ids.Select(id => fake.Message(7, id)!.Text));
        Assert.Equal(2, fake.Deliveries(7).Count);
    }

    [Theory]
    [InlineData("[]", "Bad Request: message identifiers are not specified")]
    [InlineData("[3, 2]", "Bad Request: message identifiers must be in strictly increasing order")]
    [InlineData("[2, 2]", "Bad Request: message identifiers must be in strictly increasing order")]
    [InlineData("[0]", "Bad Request: message identifier is invalid")]
    public async Task CopyMessages_refuses_ids_out_of_order_or_missing(string ids, string description)
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("copyMessages", new JsonObject { ["chat_id"] = 7, ["from_chat_id"] = Channel, ["message_ids"] = JsonNode.Parse(ids) });

        Assert.Equal((400, description), (answer.Status, answer.Description));
        Assert.Empty(fake.Deliveries());
    }

    [Fact]
    public async Task CopyMessages_takes_at_most_a_hundred_refuses_a_blocked_user_and_skips_deleted_sources()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sources = await SeedChannelAsync(fake, time, api, "a", "b");
        await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Channel, ["message_id"] = sources[0] });
        fake.BlockChat(8);

        var tooMany = await api.CallAsync("copyMessages", new JsonObject
        {
            ["chat_id"] = 7,
            ["from_chat_id"] = Channel,
            ["message_ids"] = new JsonArray(Enumerable.Range(1, 101).Select(i => (JsonNode?)i).ToArray()),
        });
        var blocked = await api.CallAsync("copyMessages", CopyOf(8, sources));
        var skipping = await api.CallAsync("copyMessages", CopyOf(7, sources));
        var none = await api.CallAsync("copyMessages", CopyOf(7, [sources[0]]));

        Assert.Equal((400, "Bad Request: too many message identifiers specified"), (tooMany.Status, tooMany.Description));
        Assert.Equal((403, "Forbidden: bot was blocked by the user"), (blocked.Status, blocked.Description));
        Assert.Equal([1], skipping.Result!.AsArray().Select(m => m!["message_id"]!.GetValue<int>()));
        Assert.Equal([sources[1]], fake.Calls("copyMessages", 7)[1].SourceMessageIds);
        Assert.Equal("b", fake.Message(7, 1)!.Text);
        Assert.Equal("Bad Request: message to copy not found", none.Description);
    }

    [Fact]
    public async Task DeleteMessages_deletes_what_is_there_skips_the_rest_and_records_which()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sources = await SeedChannelAsync(fake, time, api, "a", "b", "c");
        var copies = (await api.CallAsync("copyMessages", CopyOf(7, sources))).Result!.AsArray().Select(m => m!["message_id"]!.GetValue<int>()).ToList();
        await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = 7, ["message_id"] = copies[0] });

        var deleted = await api.CallAsync("deleteMessages", new JsonObject { ["chat_id"] = 7, ["message_ids"] = new JsonArray(copies[2], copies[0], copies[1], 500) });
        var empty = await api.CallAsync("deleteMessages", new JsonObject { ["chat_id"] = 7, ["message_ids"] = new JsonArray() });
        var again = await api.CallAsync("deleteMessages", new JsonObject { ["chat_id"] = 7, ["message_ids"] = new JsonArray(copies[1]) });

        Assert.True(deleted.Ok, deleted.ToString());
        Assert.True(deleted.Result!.GetValue<bool>());
        Assert.Equal([copies[2], copies[1]], fake.Calls("deleteMessages", 7)[0].MessageIds);
        Assert.All(copies, id => Assert.True(fake.Message(7, id)!.Deleted));
        Assert.Equal("Bad Request: message identifiers are not specified", empty.Description);
        Assert.True(again.Ok);
        Assert.Equal([], fake.Calls("deleteMessages", 7)[2].MessageIds!);
    }

    [Fact]
    public async Task DeleteMessage_deletes_a_copy_once_and_finds_no_message_the_chat_never_had()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sources = await SeedChannelAsync(fake, time, api, "news");
        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = 7, ["from_chat_id"] = Channel, ["message_id"] = sources[0] });
        var album = await api.CallAsync("copyMessages", CopyOf(7, sources));
        var fromAlbum = album.Result!.AsArray()[0]!["message_id"]!.GetValue<int>();

        var first = await Delete(api, copy.MessageId);
        var second = await Delete(api, copy.MessageId);
        var albumCopy = await Delete(api, fromAlbum);
        var neverSent = await Delete(api, 99);

        Assert.True(first.Ok, first.ToString());
        Assert.Equal((400, "Bad Request: message to delete not found"), (second.Status, second.Description));
        Assert.True(albumCopy.Ok, albumCopy.ToString());
        Assert.Equal("Bad Request: message to delete not found", neverSent.Description);
        Assert.Equal([copy.MessageId], fake.Calls("deleteMessage", 7)[0].MessageIds);
    }

    [Fact]
    public async Task A_message_sent_48_hours_ago_can_no_longer_be_deleted()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var old = await api.SendMessageAsync(7, "old");
        var older = await api.SendMessageAsync(7, "older");
        time.Advance(TimeSpan.FromHours(48) - TimeSpan.FromSeconds(1));
        var recent = await api.SendMessageAsync(7, "recent");
        var justInTime = await Delete(api, old.MessageId);
        time.Advance(TimeSpan.FromSeconds(1));

        var tooOld = await Delete(api, older.MessageId);
        var batch = await api.CallAsync("deleteMessages", new JsonObject { ["chat_id"] = 7, ["message_ids"] = new JsonArray(older.MessageId, recent.MessageId) });

        Assert.True(justInTime.Ok, justInTime.ToString());
        Assert.Equal((400, "Bad Request: message can't be deleted"), (tooOld.Status, tooOld.Description));
        Assert.True(batch.Ok);
        Assert.Equal([recent.MessageId], fake.Calls("deleteMessages", 7)[0].MessageIds);
        Assert.False(fake.Message(7, older.MessageId)!.Deleted);
    }

    [Fact]
    public async Task Editing_a_copy_of_a_text_changes_it_is_recorded_and_the_same_text_is_not_modified()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };
        var cancel = TestContext.Current.CancellationToken;
        var sources = await SeedChannelAsync(fake, time, api, "draft");
        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = 7, ["from_chat_id"] = Channel, ["message_id"] = sources[0] });

        var same = await Edit(api, copy.MessageId, "draft");
        var edited = await Edit(api, copy.MessageId, "final");
        var again = await Edit(api, copy.MessageId, "final");
        var shown = await control.GetFromJsonAsync<JsonObject>(new Uri($"/_fake/messages?chat_id=7&message_id={copy.MessageId}", UriKind.Relative), cancel);
        using var unknown = await control.GetAsync(new Uri("/_fake/messages?chat_id=7&message_id=99", UriKind.Relative), cancel);

        Assert.StartsWith("Bad Request: message is not modified", same.Description, StringComparison.Ordinal);
        Assert.True(edited.Ok, edited.ToString());
        Assert.Equal("final", edited.Result!["text"]!.GetValue<string>());
        Assert.StartsWith("Bad Request: message is not modified", again.Description, StringComparison.Ordinal);
        Assert.Equal(new MessageState(copy.MessageId, "final", FromBot: true, Edited: true, Deleted: false), fake.Message(7, copy.MessageId));
        Assert.Equal("draft", fake.Message(Channel, sources[0])!.Text);
        var call = fake.Calls("editMessageText", 7).Single(c => c.Status == 200);
        Assert.Equal((copy.MessageId, "final"), (call.MessageId, call.Text));
        Assert.Equal("final", shown!["text"]!.GetValue<string>());
        Assert.True(shown["edited"]!.GetValue<bool>());
        Assert.Equal(404, (int)unknown.StatusCode);
    }

    /// <summary>Messages the bot posted in a channel, one a second, to be copied from there.</summary>
    private static async Task<List<int>> SeedChannelAsync(FakeTelegramServer fake, Microsoft.Extensions.Time.Testing.FakeTimeProvider time, BotApiClient api, params string[] texts)
    {
        fake.AddChat(Channel, "channel");
        var ids = new List<int>();
        foreach (var text in texts)
        {
            ids.Add((await api.SendMessageAsync(Channel, text)).MessageId);
            time.Advance(TimeSpan.FromSeconds(3));
        }

        fake.ClearCalls();
        return ids;
    }

    private static JsonObject CopyOf(long chatId, IEnumerable<int> ids) =>
        new() { ["chat_id"] = chatId, ["from_chat_id"] = Channel, ["message_ids"] = new JsonArray(ids.Select(i => (JsonNode?)i).ToArray()) };

    private static Task<ApiAnswer> Delete(BotApiClient api, int messageId) =>
        api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = 7, ["message_id"] = messageId });

    private static Task<ApiAnswer> Edit(BotApiClient api, int messageId, string text) =>
        api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = 7, ["message_id"] = messageId, ["text"] = text });
}
