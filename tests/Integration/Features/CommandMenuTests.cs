using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// The leader registers the command menu with Telegram when it takes the lead: everyone's commands in the default
/// scope, per language, the chat admins' commands too for every group's administrators, and the admins' commands too
/// in each bot admin's own chat.
/// </summary>
public sealed class CommandMenuTests(SharedPostgres postgres)
{
    private const long Admin = 4242;

    [Fact]
    public async Task The_leader_registers_everyones_commands_and_the_admins_in_their_chats()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Admin__UserIds"] = Admin.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await group.StartAsync();

        // Default and chat administrators' scopes without a language, then per language (en, ru) those and the admin's chat.
        var calls = await group.Telegram.WaitForCallsAsync(8, TimeSpan.FromSeconds(60), "setMyCommands");
        var menus = calls.Select(c => JsonDocument.Parse(c.BodyJson).RootElement).ToList();
        var everyone = menus.Where(m => m.GetProperty("scope").GetProperty("type").GetString() == "default").ToList();
        var admin = menus.Where(m => m.GetProperty("scope").GetProperty("type").GetString() == "chat").ToList();
        var chatAdmins = menus.Where(m => m.GetProperty("scope").GetProperty("type").GetString() == "all_chat_administrators").ToList();
        Assert.Equal(3, everyone.Count);
        Assert.Equal(3, chatAdmins.Count);
        Assert.Equal(2, admin.Count);
        Assert.All(admin, m => Assert.Equal(Admin, m.GetProperty("scope").GetProperty("chat_id").GetInt64()));

        static List<string> Names(JsonElement menu) => [.. menu.GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("command").GetString()!)];
        Assert.All(everyone, m => Assert.Equal(["start", "stop", "lang", "ping", "help"], Names(m)));
        Assert.All(chatAdmins, m => Assert.Equal(["start", "stop", "lang", "ping", "help", "settings", "gatequestion", "setwelcome", "gatelog"], Names(m)));
        Assert.All(admin, m => Assert.Equal(
            ["start", "stop", "lang", "ping", "help", "settings", "gatequestion", "setwelcome", "gatelog", "broadcast", "audience", "schedule", "quiet", "timezone", "paid", "edit", "withdraw", "cancel", "stats", "admin"], Names(m)));
        var russian = everyone.Single(m => m.TryGetProperty("language_code", out var l) && l.GetString() == "ru");
        Assert.Equal(BotTexts.Get("ru", "Subscriptions.command_start"),
            russian.GetProperty("commands").EnumerateArray().First().GetProperty("description").GetString());
    }

    [Fact]
    public async Task In_a_group_help_shows_a_chat_admin_the_chat_admins_commands_and_a_member_only_everyones()
    {
        const long Chat = -1001000000077, ChatAdmin = 771, Member = 772;
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        var bot = await group.StartAsync();
        group.Telegram.SetChatMember(Chat, ChatAdmin, "administrator");
        group.Telegram.SetChatMember(Chat, Member, "member");

        await BotGroup.PostAsync(bot, Updates.GroupMessage(1, Chat, ChatAdmin, "/help"));
        await BotGroup.PostAsync(bot, Updates.GroupMessage(2, Chat, Member, "/help"));
        var answers = await group.Telegram.WaitForCallsAsync(2, TimeSpan.FromSeconds(30), "sendMessage", Chat);

        string TextFor(int messageId) => (string)answers.Single(c => (int)c.Body["reply_parameters"]!["message_id"]! == messageId).Body["text"]!;
        Assert.Contains("/settings", TextFor(1), StringComparison.Ordinal);
        Assert.Contains(BotTexts.Get("en", "Help.help_chat_admin"), TextFor(1), StringComparison.Ordinal);
        Assert.DoesNotContain("/broadcast", TextFor(1), StringComparison.Ordinal);
        Assert.Contains("/help", TextFor(2), StringComparison.Ordinal);
        Assert.DoesNotContain("/settings", TextFor(2), StringComparison.Ordinal);
    }
}
