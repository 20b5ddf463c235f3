using System.Text.Json.Nodes;
using FakeTelegram.Tests.Infrastructure;

namespace FakeTelegram.Tests;

/// <summary>restrictChatMember, banChatMember, unbanChatMember and getChatAdministrators as Telegram answers them.</summary>
public sealed class MemberAdministrationTests
{
    private const long Supergroup = -1001000000001;
    private const long BasicGroup = -4001;

    private static JsonObject Permissions(bool all) => new()
    {
        ["can_send_messages"] = all, ["can_send_audios"] = all, ["can_send_documents"] = all, ["can_send_photos"] = all,
        ["can_send_videos"] = all, ["can_send_video_notes"] = all, ["can_send_voice_notes"] = all, ["can_send_polls"] = all,
        ["can_send_other_messages"] = all, ["can_add_web_page_previews"] = all, ["can_change_info"] = all, ["can_invite_users"] = all,
        ["can_pin_messages"] = all, ["can_manage_topics"] = all,
    };

    [Fact]
    public async Task Restricting_and_lifting_with_every_permission_and_a_ban_then_unban_leaves_the_user_free_to_return()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Supergroup, 5, ChatMemberStatus.Member);

        Assert.True((await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5, ["permissions"] = Permissions(false) })).Ok);
        Assert.Equal(ChatMemberStatus.Restricted, fake.MemberStatus(Supergroup, 5));
        var restricted = await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5 });
        Assert.True(restricted.Result!["is_member"]!.GetValue<bool>());

        Assert.True((await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5, ["permissions"] = Permissions(true) })).Ok);
        Assert.Equal(ChatMemberStatus.Member, fake.MemberStatus(Supergroup, 5));

        Assert.True((await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5 })).Ok);
        Assert.Equal(ChatMemberStatus.Kicked, fake.MemberStatus(Supergroup, 5));
        Assert.True((await api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5, ["only_if_banned"] = true })).Ok);
        Assert.Equal(ChatMemberStatus.Left, fake.MemberStatus(Supergroup, 5));
    }

    [Fact]
    public async Task Unban_removes_a_member_unless_only_if_banned()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Supergroup, 5, ChatMemberStatus.Member);
        fake.SetChatMember(Supergroup, 6, ChatMemberStatus.Member);

        Assert.True((await api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 5, ["only_if_banned"] = true })).Ok);
        Assert.True((await api.CallAsync("unbanChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 6 })).Ok);

        Assert.Equal(ChatMemberStatus.Member, fake.MemberStatus(Supergroup, 5));
        Assert.Equal(ChatMemberStatus.Left, fake.MemberStatus(Supergroup, 6));
    }

    [Fact]
    public async Task Telegram_refuses_without_rights_for_the_owner_and_admins_outside_supergroups_and_once_the_bot_is_removed()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Supergroup, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(Supergroup, 2, ChatMemberStatus.Administrator);
        fake.SetChatMember(Supergroup, 3, ChatMemberStatus.Member);
        fake.SetChatMember(BasicGroup, 3, ChatMemberStatus.Member);

        async Task<string?> Restrict(long chat, long user) =>
            (await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = chat, ["user_id"] = user, ["permissions"] = Permissions(false) })).Description;

        Assert.Equal("Bad Request: can't remove chat owner", await Restrict(Supergroup, 1));
        Assert.Equal("Bad Request: user is an administrator of the chat", await Restrict(Supergroup, 2));
        Assert.Equal("Bad Request: method is available only for supergroups", await Restrict(BasicGroup, 3));
        Assert.Equal("Bad Request: chat not found", await Restrict(-1009999, 3));
        Assert.Equal("Bad Request: parameter \"permissions\" is required",
            (await api.CallAsync("restrictChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 3 })).Description);

        fake.SetBotRights(Supergroup, canRestrictMembers: false);
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member", await Restrict(Supergroup, 3));
        Assert.Equal("Bad Request: not enough rights to restrict/unrestrict chat member",
            (await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 3 })).Description);

        fake.RemoveBot(Supergroup);
        var removed = await api.CallAsync("banChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 3 });
        Assert.Equal((403, "Forbidden: bot was kicked from the supergroup chat"), (removed.Status, removed.Description));
        Assert.Equal(403, (await api.CallAsync("getChatMember", new JsonObject { ["chat_id"] = Supergroup, ["user_id"] = 3 })).Status);
        Assert.Equal(403, (await api.CallAsync("sendMessage", new JsonObject { ["chat_id"] = Supergroup, ["text"] = "hi" })).Status);
        Assert.Equal(ChatMemberStatus.Member, fake.MemberStatus(Supergroup, 3));
    }

    [Fact]
    public async Task GetChatAdministrators_lists_the_owner_first_then_the_admins()
    {
        await using var fake = await Fakes.StartAsync(Fakes.Clock());
        using var api = new BotApiClient(fake);
        fake.SetChatMember(Supergroup, 2, ChatMemberStatus.Administrator);
        fake.SetChatMember(Supergroup, 1, ChatMemberStatus.Creator);
        fake.SetChatMember(Supergroup, 3, ChatMemberStatus.Member);
        fake.AddChat(42);

        var admins = (await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = Supergroup })).Result!.AsArray();

        Assert.Equal([1L, 2L], admins.Select(a => a!["user"]!["id"]!.GetValue<long>()));
        Assert.Equal("creator", admins[0]!["status"]!.GetValue<string>());
        Assert.Equal("Bad Request: there are no administrators in the private chat",
            (await api.CallAsync("getChatAdministrators", new JsonObject { ["chat_id"] = 42 })).Description);
    }
}
