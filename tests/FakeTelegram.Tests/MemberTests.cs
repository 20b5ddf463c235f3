using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>restrictChatMember, banChatMember, unbanChatMember, getChatAdministrators and the bot's own place in a chat.</summary>
public sealed class MemberTests
{
    private const long Group = -1001000000001;
    private const long BasicGroup = -5;
    private const long BotId = 123456789;
    private const string BotKicked = "Forbidden: bot was kicked from the supergroup chat";

    private static readonly string[] Everything =
    [
        "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
        "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
        "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages", "can_manage_topics",
    ];

    [Fact]
    public async Task Restricting_a_member_records_the_permissions_and_getChatMember_shows_them()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 5, ChatMemberStatus.Member);

        var restrict = await api.CallAsync("restrictChatMember", new JsonObject
        {
            ["chat_id"] = Group,
            ["user_id"] = 5,
            ["until_date"] = 1_800_000_000,
            ["permissions"] = new JsonObject { ["can_send_messages"] = false, ["can_invite_users"] = true },
        });
        var member = await GetMember(api, Group, 5);

        Assert.True(restrict.Ok, restrict.ToString());
        Assert.Equal("restricted", member["status"]!.GetValue<string>());
        Assert.True(member["is_member"]!.GetValue<bool>());
        Assert.Equal(1_800_000_000, member["until_date"]!.GetValue<long>());
        Assert.False(member["can_send_messages"]!.GetValue<bool>());
        Assert.True(member["can_invite_users"]!.GetValue<bool>());
        Assert.All(Everything.Except(["can_invite_users"]), p => Assert.False(member[p]!.GetValue<bool>(), p));
        var recorded = fake.ChatMemberStatusOf(Group, 5);
        Assert.Equal(("restricted", true, false, 1_800_000_000L), (recorded.Status, recorded.IsMember, recorded.CanSendMessages, recorded.UntilDate));
        Assert.True(recorded.Permissions["can_invite_users"]);
    }

    [Fact]
    public async Task Restricting_with_every_permission_makes_a_member_again_and_a_stranger_stays_out()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 5, ChatMemberStatus.Restricted);
        var all = new JsonObject();
        foreach (var permission in Everything)
        {
            all[permission] = true;
        }

        var lifted = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["permissions"] = all.DeepClone() });
        var stranger = await api.CallAsync("restrictChatMember", new JsonObject
        {
            ["chat_id"] = Group,
            ["user_id"] = 6,
            ["permissions"] = new JsonObject { ["can_send_messages"] = false },
        });
        var strangerLifted = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 7, ["permissions"] = all.DeepClone() });

        Assert.True(lifted.Ok && stranger.Ok && strangerLifted.Ok);
        Assert.Equal("member", (await GetMember(api, Group, 5))["status"]!.GetValue<string>());
        var member = fake.ChatMemberStatusOf(Group, 5);
        Assert.Equal(("member", true, true), (member.Status, member.IsMember, member.CanSendMessages));
        Assert.Empty(member.Permissions);
        var restrictedStranger = await GetMember(api, Group, 6);
        Assert.Equal("restricted", restrictedStranger["status"]!.GetValue<string>());
        Assert.False(restrictedStranger["is_member"]!.GetValue<bool>());
        Assert.False(fake.ChatMemberStatusOf(Group, 6).IsMember);
        Assert.Equal("left", fake.ChatMemberStatusOf(Group, 7).Status);
    }

    [Fact]
    public async Task Permissions_are_read_as_Telegram_reads_them()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.AddChat(Group);

        await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 1 });
        await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 2, ["permissions"] = """{"can_send_polls":true,"can_pin_messages":true}""" });
        await api.CallAsync("restrictChatMember", new JsonObject
        {
            ["chat_id"] = Group,
            ["user_id"] = 3,
            ["use_independent_chat_permissions"] = true,
            ["permissions"] = new JsonObject { ["can_send_polls"] = true },
        });
        await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 4, ["permissions"] = new JsonObject { ["can_send_other_messages"] = true } });
        var parsed = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["permissions"] = "{" });
        var notObject = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["permissions"] = 5 });
        var notBoolean = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["permissions"] = new JsonObject { ["can_send_messages"] = 1 } });
        var noUser = await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["permissions"] = new JsonObject() });

        var nothing = fake.ChatMemberStatusOf(Group, 1);
        Assert.Equal("restricted", nothing.Status);
        Assert.All(Everything, p => Assert.False(nothing.Permissions[p], p));
        var polls = fake.ChatMemberStatusOf(Group, 2).Permissions;
        Assert.True(polls["can_send_messages"] && polls["can_manage_topics"]);
        Assert.False(polls["can_send_photos"]);
        Assert.False(fake.ChatMemberStatusOf(Group, 3).CanSendMessages);
        var other = fake.ChatMemberStatusOf(Group, 4).Permissions;
        Assert.True(other["can_send_messages"] && other["can_send_photos"] && other["can_send_voice_notes"]);
        Assert.False(other["can_send_polls"]);
        Assert.Equal((400, "Bad Request: can't parse permissions JSON object"), (parsed.Status, parsed.Description));
        Assert.Equal("Bad Request: object expected as permissions", notObject.Description);
        Assert.Equal("Bad Request: can't parse chat permissions: Field \"can_send_messages\" must be of type Boolean", notBoolean.Description);
        Assert.Equal("Bad Request: invalid user_id specified", noUser.Description);
    }

    [Fact]
    public async Task Restricting_is_refused_as_Telegram_refuses_it()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(Group, 2, ChatMemberStatus.Administrator);
        fake.AddChat(BasicGroup);
        fake.SetChatMember(-1001000000002, 3, ChatMemberStatus.Member);
        fake.SetBotRights(-1001000000002, canRestrictMembers: false);

        Task<ApiAnswer> Restrict(long chat, long user) => api.CallAsync("restrictChatMember", new JsonObject
        {
            ["chat_id"] = chat,
            ["user_id"] = user,
            ["permissions"] = new JsonObject { ["can_send_messages"] = false },
        });

        Assert.Equal("Bad Request: can't remove chat owner", (await Restrict(Group, 1)).Description);
        Assert.Equal("Bad Request: user is an administrator of the chat", (await Restrict(Group, 2)).Description);
        Assert.Equal("Bad Request: user is an administrator of the chat", (await Restrict(Group, BotId)).Description);
        Assert.Equal("Bad Request: method is available only for supergroups", (await Restrict(BasicGroup, 3)).Description);
        Assert.Equal("Bad Request: method is available only for supergroups", (await Restrict(42, 3)).Description);
        Assert.Equal("Bad Request: chat not found", (await Restrict(-1001000000099, 3)).Description);
        var noRights = await Restrict(-1001000000002, 3);
        Assert.Equal((400, "Bad Request: not enough rights to restrict/unrestrict chat member"), (noRights.Status, noRights.Description));
        Assert.Equal("member", fake.ChatMemberStatusOf(-1001000000002, 3).Status);
        Assert.Equal("creator", fake.ChatMemberStatusOf(Group, 1).Status);
    }

    [Fact]
    public async Task Banning_kicks_the_user_until_the_date_given()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 5, ChatMemberStatus.Member);
        fake.SetChatMember(BasicGroup, 6, ChatMemberStatus.Member);

        var ban = await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["until_date"] = 1_736_000_000, ["revoke_messages"] = true });
        var forever = await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = BasicGroup, ["user_id"] = 6 });
        var banned = await GetMember(api, Group, 5);

        Assert.True(ban.Ok && forever.Ok);
        Assert.Equal("kicked", banned["status"]!.GetValue<string>());
        Assert.Equal(1_736_000_000, banned["until_date"]!.GetValue<long>());
        Assert.Equal(0, (await GetMember(api, BasicGroup, 6))["until_date"]!.GetValue<long>());
        var recorded = fake.ChatMemberStatusOf(Group, 5);
        Assert.Equal(("kicked", false, false, 1_736_000_000L), (recorded.Status, recorded.IsMember, recorded.CanSendMessages, recorded.UntilDate));
        Assert.Empty(recorded.Permissions);
    }

    [Fact]
    public async Task Banning_is_refused_as_Telegram_refuses_it()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(Group, 2, ChatMemberStatus.Administrator);
        fake.SetChatMember(BasicGroup, 3, ChatMemberStatus.Member);
        fake.SetBotRights(BasicGroup, canRestrictMembers: false);

        Task<ApiAnswer> Ban(long chat, long user) => api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = chat, ["user_id"] = user });

        Assert.Equal("Bad Request: can't remove chat owner", (await Ban(Group, 1)).Description);
        Assert.Equal("Bad Request: user is an administrator of the chat", (await Ban(Group, 2)).Description);
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member", (await Ban(BasicGroup, 3)).Description);
        Assert.Equal("Bad Request: can't ban members in private chats", (await Ban(42, 3)).Description);
        Assert.Equal("Bad Request: chat not found", (await Ban(-1001000000099, 3)).Description);
        Assert.Equal("member", fake.ChatMemberStatusOf(BasicGroup, 3).Status);
    }

    [Fact]
    public async Task Unbanning_leaves_the_user_out_of_the_chat_free_to_join()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 1, ChatMemberStatus.Kicked);
        fake.SetChatMember(Group, 2, ChatMemberStatus.Member);
        fake.SetChatMember(Group, 3, ChatMemberStatus.Restricted);
        fake.SetChatMember(Group, 4, ChatMemberStatus.Kicked);

        Task<ApiAnswer> Unban(long user, bool onlyIfBanned) =>
            api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = user, ["only_if_banned"] = onlyIfBanned });

        Assert.True((await Unban(1, onlyIfBanned: true)).Ok);
        Assert.True((await Unban(2, onlyIfBanned: true)).Ok);
        Assert.True((await Unban(3, onlyIfBanned: false)).Ok);
        Assert.True((await Unban(4, onlyIfBanned: false)).Ok);
        Assert.True((await Unban(9, onlyIfBanned: false)).Ok);

        Assert.Equal("left", fake.ChatMemberStatusOf(Group, 1).Status);
        Assert.Equal("member", fake.ChatMemberStatusOf(Group, 2).Status);
        Assert.Equal("left", fake.ChatMemberStatusOf(Group, 3).Status);
        Assert.False(fake.ChatMemberStatusOf(Group, 3).IsMember);
        Assert.Equal("left", (await GetMember(api, Group, 4))["status"]!.GetValue<string>());
        Assert.Equal("left", fake.ChatMemberStatusOf(Group, 9).Status);
    }

    [Fact]
    public async Task Unbanning_is_refused_as_Telegram_refuses_it()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(Group, 2, ChatMemberStatus.Administrator);
        fake.SetChatMember(BasicGroup, 3, ChatMemberStatus.Kicked);
        const long NoRights = -1001000000002;
        fake.SetChatMember(NoRights, 4, ChatMemberStatus.Kicked);
        fake.SetChatMember(NoRights, 5, ChatMemberStatus.Member);
        fake.SetBotRights(NoRights, canRestrictMembers: false);

        Task<ApiAnswer> Unban(long chat, long user, bool onlyIfBanned = false) =>
            api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = chat, ["user_id"] = user, ["only_if_banned"] = onlyIfBanned });

        Assert.Equal("Bad Request: can't remove chat owner", (await Unban(Group, 1)).Description);
        Assert.Equal("Bad Request: user is an administrator of the chat", (await Unban(Group, 2)).Description);
        Assert.True((await Unban(Group, 2, onlyIfBanned: true)).Ok);
        Assert.Equal("Bad Request: method is available for supergroup and channel chats only", (await Unban(BasicGroup, 3)).Description);
        Assert.Equal("Bad Request: method is available for supergroup and channel chats only", (await Unban(42, 3)).Description);
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member", (await Unban(NoRights, 4, onlyIfBanned: true)).Description);
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member", (await Unban(NoRights, 5)).Description);
        Assert.True((await Unban(NoRights, 5, onlyIfBanned: true)).Ok);
        Assert.Equal("administrator", fake.ChatMemberStatusOf(Group, 2).Status);
        Assert.Equal("kicked", fake.ChatMemberStatusOf(NoRights, 4).Status);
    }

    [Fact]
    public async Task GetChatAdministrators_lists_the_owner_first_and_the_bot_with_its_rights()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 2, ChatMemberStatus.Administrator);
        fake.SetChatMember(Group, 3, ChatMemberStatus.Member);
        fake.SetChatMember(Group, 1, ChatMemberStatus.Creator);
        fake.SetBotRights(Group, canRestrictMembers: false, canDeleteMessages: true);

        var admins = await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = Group });
        var inPrivate = await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = 42 });
        var unknown = await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = -1001000000099 });

        var list = admins.Result!.AsArray();
        Assert.Equal([1L, 2L, BotId], list.Select(a => a!["user"]!["id"]!.GetValue<long>()));
        Assert.Equal(["creator", "administrator", "administrator"], list.Select(a => a!["status"]!.GetValue<string>()));
        var bot = list[2]!;
        Assert.True(bot["user"]!["is_bot"]!.GetValue<bool>());
        Assert.False(bot["can_restrict_members"]!.GetValue<bool>());
        Assert.True(bot["can_delete_messages"]!.GetValue<bool>());
        Assert.Equal((400, "Bad Request: there are no administrators in the private chat"), (inPrivate.Status, inPrivate.Description));
        Assert.Equal("Bad Request: chat not found", unknown.Description);
    }

    [Fact]
    public async Task The_bot_is_an_administrator_that_may_restrict_delete_and_invite_until_told_otherwise()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.AddChat(Group);

        var before = await GetMember(api, Group, BotId);
        fake.SetBotRights(Group, canRestrictMembers: false, canDeleteMessages: false);
        var after = await GetMember(api, Group, BotId);

        Assert.Equal("administrator", before["status"]!.GetValue<string>());
        Assert.Equal(BotId, before["user"]!["id"]!.GetValue<long>());
        Assert.True(before["can_restrict_members"]!.GetValue<bool>());
        Assert.True(before["can_delete_messages"]!.GetValue<bool>());
        Assert.True(before["can_invite_users"]!.GetValue<bool>());
        Assert.False(before["can_promote_members"]!.GetValue<bool>());
        Assert.False(after["can_restrict_members"]!.GetValue<bool>());
        Assert.False(after["can_delete_messages"]!.GetValue<bool>());
        Assert.True(after["can_invite_users"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_chat_the_bot_was_removed_from_refuses_every_call()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Group, 5, ChatMemberStatus.Member);
        var sent = await api.SendMessageAsync(Group, "check");
        fake.SetChatMember(BasicGroup, 5, ChatMemberStatus.Member);
        fake.RemoveBot(Group);
        fake.RemoveBot(BasicGroup);
        var user = new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 };

        var answers = new[]
        {
            await api.SendMessageAsync(Group, "hello"),
            await api.CallAsync("getChatMember", user.DeepClone().AsObject()),
            await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["permissions"] = new JsonObject() }),
            await api.CallAsync("banChatMember", user.DeepClone().AsObject()),
            await api.CallAsync("unbanChatMember", user.DeepClone().AsObject()),
            await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = Group }),
            await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Group, ["message_id"] = sent.MessageId }),
            await api.CallAsync("approveChatJoinRequest", user.DeepClone().AsObject()),
        };
        var basic = await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = BasicGroup, ["user_id"] = 5 });
        fake.UnblockChat(Group);
        var back = await api.CallAsync("banChatMember", user.DeepClone().AsObject());

        Assert.All(answers, a => Assert.Equal((403, BotKicked), (a.Status, a.Description)));
        Assert.Equal((403, "Forbidden: bot was kicked from the group chat"), (basic.Status, basic.Description));
        Assert.Equal("member", fake.ChatMemberStatusOf(BasicGroup, 5).Status);
        Assert.True(back.Ok);
        Assert.Single(fake.Deliveries(Group));
    }

    [Fact]
    public async Task Without_the_right_to_delete_the_bot_deletes_only_its_own_messages()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        fake.EnqueueUpdate($$$"""{"message":{"message_id":10,"date":1,"chat":{"id":{{{Group}}},"type":"supergroup","title":"G"},"from":{"id":5,"is_bot":false,"first_name":"U"},"text":"hi"}}""");
        fake.EnqueueUpdate("""{"message":{"message_id":10,"date":1,"chat":{"id":-1001000000002,"type":"supergroup","title":"G"},"from":{"id":5,"is_bot":false,"first_name":"U"},"text":"hi"}}""");
        fake.SetBotRights(Group, canRestrictMembers: true, canDeleteMessages: false);
        var own = await api.SendMessageAsync(Group, "check");

        var users = await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Group, ["message_id"] = 10 });
        var unseen = await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Group, ["message_id"] = 500 });
        var bots = await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Group, ["message_id"] = own.MessageId });
        var withRight = await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = -1001000000002, ["message_id"] = 10 });

        Assert.Equal((400, "Bad Request: message can't be deleted"), (users.Status, users.Description));
        Assert.Equal("Bad Request: message can't be deleted", unseen.Description);
        Assert.True(bots.Ok);
        Assert.True(withRight.Ok);
    }

    [Fact]
    public async Task SendMessage_echoes_the_topic_and_the_message_replied_to()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock(), o => o with { RateLimits = RateLimits.None });
        using var api = new BotApiClient(fake);
        var first = await api.SendMessageAsync(Group, "question");

        var reply = await api.CallAsync("sendMessage", new JsonObject
        {
            ["chat_id"] = Group,
            ["text"] = "answer",
            ["message_thread_id"] = 7,
            ["reply_parameters"] = new JsonObject { ["message_id"] = first.MessageId },
        });
        var plain = await api.SendMessageAsync(Group, "plain");
        await api.CallAsync("deleteMessage", new JsonObject { ["chat_id"] = Group, ["message_id"] = first.MessageId });
        var toDeleted = await api.CallAsync("sendMessage", new JsonObject
        {
            ["chat_id"] = Group,
            ["text"] = "x",
            ["reply_parameters"] = new JsonObject { ["message_id"] = first.MessageId },
        });
        var allowed = await api.CallAsync("sendMessage", new JsonObject
        {
            ["chat_id"] = Group,
            ["text"] = "x",
            ["reply_parameters"] = new JsonObject { ["message_id"] = first.MessageId, ["allow_sending_without_reply"] = true },
        });
        var unparsable = await api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = Group, ["text"] = "x", ["reply_parameters"] = "{" });

        Assert.Equal(7, reply.Result!["message_thread_id"]!.GetValue<int>());
        Assert.True(reply.Result["is_topic_message"]!.GetValue<bool>());
        var repliedTo = reply.Result["reply_to_message"]!;
        Assert.Equal(first.MessageId, repliedTo["message_id"]!.GetValue<int>());
        Assert.Equal(Group, repliedTo["chat"]!["id"]!.GetValue<long>());
        Assert.NotNull(repliedTo["date"]);
        Assert.Null(plain.Result!["message_thread_id"]);
        Assert.Null(plain.Result["is_topic_message"]);
        Assert.Equal("Bad Request: message to be replied not found", toDeleted.Description);
        Assert.True(allowed.Ok);
        Assert.Null(allowed.Result!["reply_to_message"]);
        Assert.Equal("Bad Request: can't parse reply parameters JSON object", unparsable.Description);
        Assert.Equal([null, 7, null, null], fake.Deliveries(Group).Select(d => d.MessageThreadId));
    }

    [Fact]
    public async Task Bot_rights_removal_and_member_states_go_through_the_control_API()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        using var control = new HttpClient { BaseAddress = fake.BaseUri };
        var cancel = TestContext.Current.CancellationToken;
        fake.SetChatMember(Group, 5, ChatMemberStatus.Member);
        await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5, ["until_date"] = 1_736_000_000 });

        using var rights = await control.PostAsync(new Uri("/_fake/bot-rights", UriKind.Relative),
            new StringContent($$"""{"chat_id":{{Group}},"can_restrict_members":false}"""), cancel);
        var refused = await api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = Group, ["user_id"] = 5 });
        var member = JsonNode.Parse(await control.GetStringAsync(new Uri($"/_fake/members?chat_id={Group}&user_id=5", UriKind.Relative), cancel))!;
        using var badRights = await control.PostAsync(new Uri("/_fake/bot-rights", UriKind.Relative),
            new StringContent($$"""{"chat_id":{{Group}},"can_restrict_members":"no"}"""), cancel);
        using var noUser = await control.GetAsync(new Uri($"/_fake/members?chat_id={Group}", UriKind.Relative), cancel);
        using var removed = await control.PostAsync(new Uri("/_fake/bot-removed", UriKind.Relative),
            new StringContent($$"""[{"chat_id":{{Group}}}]"""), cancel);
        var kicked = await api.SendMessageAsync(Group);

        Assert.Equal(204, (int)rights.StatusCode);
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member", refused.Description);
        Assert.Equal("kicked", member["status"]!.GetValue<string>());
        Assert.False(member["is_member"]!.GetValue<bool>());
        Assert.False(member["can_send_messages"]!.GetValue<bool>());
        Assert.Equal(1_736_000_000, member["until_date"]!.GetValue<long>());
        Assert.Equal(400, (int)badRights.StatusCode);
        Assert.Equal(400, (int)noUser.StatusCode);
        Assert.Equal(204, (int)removed.StatusCode);
        Assert.Equal(BotKicked, kicked.Description);
    }

    private static async Task<JsonNode> GetMember(BotApiClient api, long chatId, long userId)
    {
        var answer = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = chatId, ["user_id"] = userId });
        Assert.True(answer.Ok, answer.ToString());
        return answer.Result!;
    }
}
