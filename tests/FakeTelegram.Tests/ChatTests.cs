using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

public sealed class ChatTests
{
    private const long Group = -1001000000001;

    [Fact]
    public async Task GetChatMember_answers_from_the_table_and_left_for_anyone_else()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 5, ChatMemberStatus.Administrator);

        var admin = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });
        var stranger = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 6 });

        Assert.Equal("administrator", admin.Result!["status"]!.GetValue<string>());
        Assert.Equal(5, admin.Result["user"]!["id"]!.GetValue<long>());
        Assert.Equal("left", stranger.Result!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetChatMember_in_a_chat_the_bot_is_not_in_is_chat_not_found()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var answer = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });

        Assert.Equal((400, "Bad Request: chat not found"), (answer.Status, answer.Description));
    }

    [Fact]
    public async Task Join_requests_are_accepted_freely_until_the_test_registers_some()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var untracked = await api.CallAsync("declineChatJoinRequest", new JsonObject { ["chat_id"] = -77, ["user_id"] = 1 });
        fake.AddJoinRequest(Group, 5);
        var approved = await api.CallAsync("approveChatJoinRequest", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });
        var twice = await api.CallAsync("approveChatJoinRequest", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });
        var unknown = await api.CallAsync("declineChatJoinRequest", new JsonObject { ["chat_id"] = Group, ["user_id"] = 6 });
        var member = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });

        Assert.True(untracked.Ok);
        Assert.True(approved.Ok);
        Assert.Equal("Bad Request: USER_ALREADY_PARTICIPANT", twice.Description);
        Assert.Equal("Bad Request: HIDE_REQUESTER_MISSING", unknown.Description);
        Assert.Equal("member", member.Result!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Editing_to_the_same_content_is_message_is_not_modified()
    {
        var time = Fakes.Clock();
        await using var fake = await Fakes.StartAsync(time, o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sent = await api.SendMessageAsync(-5, "50%");

        var edited = await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = -5, ["message_id"] = sent.MessageId, ["text"] = "60%" });
        var same = await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = -5, ["message_id"] = sent.MessageId, ["text"] = "60%" });

        Assert.Equal("60%", edited.Result!["text"]!.GetValue<string>());
        Assert.NotNull(edited.Result["edit_date"]);
        Assert.Equal(400, same.Status);
        Assert.StartsWith("Bad Request: message is not modified", same.Description, StringComparison.Ordinal);
        Assert.Single(fake.Deliveries(-5));
    }

    [Fact]
    public async Task A_deleted_message_cannot_be_deleted_or_edited_again()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var sent = await api.SendMessageAsync(-5);
        var message = new JsonObject { ["chat_id"] = -5, ["message_id"] = sent.MessageId };

        var deleted = await api.CallAsync("deleteMessage", message.DeepClone().AsObject());
        var again = await api.CallAsync("deleteMessage", message.DeepClone().AsObject());
        var edit = await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = -5, ["message_id"] = sent.MessageId, ["text"] = "x" });

        Assert.True(deleted.Ok);
        Assert.Equal("Bad Request: message to delete not found", again.Description);
        Assert.Equal("Bad Request: message to edit not found", edit.Description);
    }

    [Fact]
    public async Task Copying_a_message_seen_in_an_update_delivers_its_text_with_a_new_id_after_it()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.EnqueueUpdate("""{"message":{"message_id":90,"date":1,"chat":{"id":100,"type":"private"},"text":"announcement"}}""");

        var copy = await api.CallAsync("copyMessage", new JsonObject { ["chat_id"] = 200, ["from_chat_id"] = 100, ["message_id"] = 90 });
        var reply = await api.SendMessageAsync(100, "done");
        var editUsers = await api.CallAsync("editMessageText", new JsonObject { ["chat_id"] = 100, ["message_id"] = 90, ["text"] = "x" });

        Assert.True(copy.Ok);
        Assert.Equal("announcement", Assert.Single(fake.Deliveries(200)).Text);
        Assert.Equal(91, reply.MessageId);
        Assert.Equal("Bad Request: message can't be edited", editUsers.Description);
    }

    [Fact]
    public async Task A_chat_registered_as_a_channel_gets_channel_shaped_messages()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };

        using var channel = await control.PostAsync(new Uri("/_fake/chats", UriKind.Relative),
            new StringContent("""{"chat_id":-1001000000009,"type":"channel"}"""), TestContext.Current.CancellationToken);
        using var unknownType = await control.PostAsync(new Uri("/_fake/chats", UriKind.Relative),
            new StringContent("""{"chat_id":-1001000000010,"type":"forum"}"""), TestContext.Current.CancellationToken);
        var post = await api.SendMessageAsync(-1001000000009, "news");

        Assert.Equal(204, (int)channel.StatusCode);
        Assert.Equal(400, (int)unknownType.StatusCode);
        Assert.Equal("channel", post.Result!["chat"]!["type"]!.GetValue<string>());
        Assert.NotNull(post.Result["sender_chat"]);
        Assert.Null(post.Result["from"]);
    }

    [Fact]
    public async Task Missing_parameters_get_Telegrams_descriptions()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);

        var noChat = await api.CallAsync("sendMessage", new JsonObject { ["text"] = "x" });
        var badChat = await api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = "nobody", ["text"] = "x" });
        var tooLong = await api.SendMessageAsync(1, new string('x', 4097));

        Assert.Equal("Bad Request: chat_id is empty", noChat.Description);
        Assert.Equal("Bad Request: chat not found", badChat.Description);
        Assert.Equal("Bad Request: message is too long", tooLong.Description);
    }

    [Fact]
    public async Task Members_chats_and_join_requests_can_be_set_through_the_control_API()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };

        using var members = await control.PostAsync(new Uri("/_fake/members", UriKind.Relative),
            new StringContent("""[{"chat_id":-300,"user_id":1,"status":"creator"},{"chat_id":"-300","user_id":2,"status":"kicked"}]"""), TestContext.Current.CancellationToken);
        using var chat = await control.PostAsync(new Uri("/_fake/chats", UriKind.Relative),
            new StringContent("""{"chat_id":-400}"""), TestContext.Current.CancellationToken);
        using var request = await control.PostAsync(new Uri("/_fake/join-requests", UriKind.Relative),
            new StringContent("""{"chat_id":-400,"user_id":3}"""), TestContext.Current.CancellationToken);
        using var badStatus = await control.PostAsync(new Uri("/_fake/members", UriKind.Relative),
            new StringContent("""{"chat_id":-300,"user_id":1,"status":"owner"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(204, (int)members.StatusCode);
        Assert.Equal(204, (int)chat.StatusCode);
        Assert.Equal(204, (int)request.StatusCode);
        Assert.Equal(400, (int)badStatus.StatusCode);
        Assert.Equal("creator", (await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = -300, ["user_id"] = 1 })).Result!["status"]!.GetValue<string>());
        Assert.Equal("kicked", (await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = -300, ["user_id"] = 2 })).Result!["status"]!.GetValue<string>());
        Assert.Equal("left", (await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = -400, ["user_id"] = 3 })).Result!["status"]!.GetValue<string>());
        Assert.True((await api.CallAsync("approveChatJoinRequest", new JsonObject { ["chat_id"] = -400, ["user_id"] = 3 })).Ok);
    }
}
