using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Features;

/// <summary>The join gate as requesters and admins see it: who gets in, who is asked, and what is stored.</summary>
public sealed partial class JoinGateTests(SharedPostgres postgres)
{
    private const long MainChat = -1001000000001;
    private const long Gated = -1001000000002;
    private const string AdminToken = "join-gate-admin-token-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_member_of_the_main_chat_is_approved_at_once_and_a_repeated_delivery_decides_nothing_twice()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long member = 701, admin = 702, restricted = 703;
        group.Telegram.SetChatMember(MainChat, member, "member");
        group.Telegram.SetChatMember(MainChat, admin, "administrator");
        group.Telegram.SetChatMember(MainChat, restricted, "restricted");
        foreach (var user in new[] { member, admin, restricted })
        {
            group.Telegram.AddJoinRequest(Gated, user);
        }

        // Telegram redelivers an update it got no 200 for: the second copy changes nothing.
        await BotGroup.PostAsync(bot, Updates.JoinRequest(10, Gated, member));
        await BotGroup.PostAsync(bot, Updates.JoinRequest(10, Gated, member));
        await BotGroup.PostAsync(bot, Updates.JoinRequest(11, Gated, admin));
        await BotGroup.PostAsync(bot, Updates.JoinRequest(12, Gated, restricted));

        var approvals = await group.Telegram.WaitForCallsAsync(3, Wait, "approveChatJoinRequest");
        Assert.All(approvals, call => Assert.Equal(200, call.Status));
        Assert.Equal(new[] { member, admin, restricted }, approvals.Select(c => (long)c.Body["user_id"]!).Order());
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 3, Wait);
        Assert.Equal(3, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND state = 'approved' AND reason = 'member' AND decided_at IS NOT NULL"));
        Assert.Empty(group.Telegram.Calls("sendMessage"));
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(3, group.Telegram.Calls("approveChatJoinRequest").Count);
    }

    [Fact]
    public async Task A_user_who_left_the_main_chat_is_asked_and_the_right_answer_approves_once_however_often_it_is_pressed()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long user = 711;
        group.Telegram.SetChatMember(MainChat, user, "left");
        group.Telegram.AddJoinRequest(Gated, user);

        await BotGroup.PostAsync(bot, Updates.JoinRequest(20, Gated, user));
        var check = await CheckAsync(group, user);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND state = 'pending' AND deadline > now()"));

        // Asking again while the check is open sends no second check.
        await BotGroup.PostAsync(bot, Updates.JoinRequest(21, Gated, user));
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 2, Wait);

        // A double tap: two presses of the right button, two updates.
        await BotGroup.PostAsync(bot, Updates.Callback(22, user, check.Right, check.MessageId));
        await BotGroup.PostAsync(bot, Updates.Callback(23, user, check.Right, check.MessageId));
        var approval = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "approveChatJoinRequest"));
        Assert.Equal(user, (long)approval.Body["user_id"]!);
        Assert.Equal(Gated, (long)approval.Body["chat_id"]!);
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 4, Wait);
        var edit = (await group.Telegram.WaitForCallsAsync(1, Wait, "editMessageText"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.approved").Replace("{chat}", "Gated Club", StringComparison.Ordinal), (string?)edit.Body["text"]);
        // The second press finds its token used: the check is over.
        var answers = await group.Telegram.WaitForCallsAsync(2, Wait, "answerCallbackQuery");
        Assert.Contains(answers, a => (string?)a.Body["text"] == BotTexts.Get("en", "JoinGate.expired"));

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(group.Telegram.Calls("approveChatJoinRequest"));
        Assert.Single(group.Telegram.Calls("sendMessage", user));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user}"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND state = 'approved' AND reason = 'correct_answer'"));
        Assert.Equal(0, await group.ScalarAsync($"SELECT count(*) FROM conversation_state WHERE user_id = {user}"));
    }

    [Fact]
    public async Task A_wrong_answer_declines_and_someone_else_pressing_the_button_changes_nothing()
    {
        await using var group = await CreateGroupAsync(new Dictionary<string, string?> { ["Bot__JoinAttempts"] = "1" });
        var bot = await group.StartAsync();
        const long user = 721, stranger = 722;
        group.Telegram.AddChat(MainChat);
        group.Telegram.AddJoinRequest(Gated, user);

        await BotGroup.PostAsync(bot, Updates.JoinRequest(30, Gated, user, languageCode: "ru"));
        var check = await CheckAsync(group, user);
        Assert.StartsWith(BotTexts.Prefix("ru", "JoinGate.request_check"), check.Text, StringComparison.Ordinal);

        await BotGroup.PostAsync(bot, Updates.Callback(31, stranger, check.Right, check.MessageId));
        var refused = (await group.Telegram.WaitForCallsAsync(1, Wait, "answerCallbackQuery"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.not_yours"), (string?)refused.Body["text"]);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND state = 'pending'"));

        await BotGroup.PostAsync(bot, Updates.Callback(32, user, check.Wrong, check.MessageId));
        var decline = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "declineChatJoinRequest"));
        Assert.Equal(user, (long)decline.Body["user_id"]!);
        var edit = (await group.Telegram.WaitForCallsAsync(1, Wait, "editMessageText"))[0];
        Assert.Equal(BotTexts.Get("ru", "JoinGate.wrong_answer").Replace("{chat}", "Gated Club", StringComparison.Ordinal), (string?)edit.Body["text"]);
        Assert.Empty(group.Telegram.Calls("approveChatJoinRequest"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND state = 'declined' AND reason = 'wrong_answer'"));

        // What admins audit: the decision through the admin API.
        using var http = new HttpClient { BaseAddress = bot.InternalUri };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        var audit = JsonNode.Parse(await http.GetStringAsync($"admin/join-requests?userId={user}"))!.AsArray();
        var row = Assert.Single(audit)!;
        Assert.Equal(Gated, (long)row["chatId"]!);
        Assert.Equal("declined", (string?)row["state"]);
        Assert.Equal("wrong_answer", (string?)row["reason"]);
        Assert.NotNull((string?)row["decidedAt"]);
        Assert.Empty(JsonNode.Parse(await http.GetStringAsync($"admin/join-requests?userId={user}&state=approved"))!.AsArray());
        using var bad = await http.GetAsync("admin/join-requests?state=maybe");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task No_answer_before_the_deadline_declines_a_requester_who_blocked_the_bot_is_declined_as_unreachable_and_no_access_to_the_main_chat_means_a_check()
    {
        await using var group = await CreateGroupAsync(new Dictionary<string, string?> { ["Bot__JoinCheckSeconds"] = "10" });
        var bot = await group.StartAsync();
        const long silent = 731, blocker = 732;
        group.Telegram.SetChatMember(MainChat, silent, "member");
        group.Telegram.AddJoinRequest(Gated, silent);
        group.Telegram.AddJoinRequest(Gated, blocker);
        group.Telegram.BlockChat(blocker);
        // The bot cannot see the main chat for this check (removed from it, say): a member is checked like anyone.
        group.Telegram.InjectFault(Fault.BadRequest("chat not found") with { Method = "getChatMember", Count = 1 });

        await BotGroup.PostAsync(bot, Updates.JoinRequest(40, Gated, silent));
        var check = await CheckAsync(group, silent);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(41, Gated, blocker));
        await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", blocker);
        Assert.Contains("Cannot tell whether user 731 is in the main chat", bot.Output, StringComparison.Ordinal);

        var declines = await group.Telegram.WaitForCallsAsync(2, TimeSpan.FromSeconds(40), "declineChatJoinRequest");
        Assert.Equal(new[] { silent, blocker }, declines.Select(c => (long)c.Body["user_id"]!).Order());
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = {silent} AND state = 'declined' AND reason = 'timeout'", 1, Wait);
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = {blocker} AND state = 'declined' AND reason = 'unreachable'", 1, Wait);
        var timeUp = BotTexts.Get("en", "JoinGate.timeout").Replace("{chat}", "Gated Club", StringComparison.Ordinal);
        await group.Telegram.WaitForCallsAsync(2, Wait, "sendMessage", silent);
        Assert.Equal(timeUp, (string?)group.Telegram.Calls("sendMessage", silent)[^1].Body["text"]);

        // Pressing the button after the deadline decides nothing more: the decision used up the check's tokens.
        await BotGroup.PostAsync(bot, Updates.Callback(42, silent, check.Right, check.MessageId));
        var answer = (await group.Telegram.WaitForCallsAsync(1, Wait, "answerCallbackQuery"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.expired"), (string?)answer.Body["text"]);
        Assert.Empty(group.Telegram.Calls("approveChatJoinRequest"));
        Assert.Equal(2, group.Telegram.Calls("declineChatJoinRequest").Count);
        Assert.False(bot.HasExited);
    }

    private Task<BotGroup> CreateGroupAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bot__MainChatId"] = MainChat.ToString(CultureInfo.InvariantCulture),
            ["Bot__GatedChatIds"] = Gated.ToString(CultureInfo.InvariantCulture),
            ["Admin__Token"] = AdminToken,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return BotGroup.CreateAsync(postgres.Cluster, settings);
    }

    /// <summary>The check sent to a requester: its text, message, and the data of a right and a wrong button.</summary>
    private static async Task<(string Text, int MessageId, string Right, string Wrong)> CheckAsync(BotGroup group, long user)
    {
        var call = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", user))[0];
        Assert.Equal(200, call.Status);
        var text = (string)call.Body["text"]!;
        var sum = Sum().Match(text);
        Assert.True(sum.Success, text);
        var answer = int.Parse(sum.Groups[1].Value, CultureInfo.InvariantCulture) + int.Parse(sum.Groups[2].Value, CultureInfo.InvariantCulture);
        var buttons = call.Body["reply_markup"]!["inline_keyboard"]!.AsArray().SelectMany(row => row!.AsArray()).Select(b => b!.AsObject()).ToList();
        Assert.Equal(4, buttons.Count);
        Assert.Equal(4, buttons.Select(b => (string?)b["text"]).Distinct().Count());
        var right = Assert.Single(buttons, b => (string?)b["text"] == answer.ToString(CultureInfo.InvariantCulture));
        var wrong = buttons.First(b => b != right);
        return (text, call.MessageId!.Value, (string)right["callback_data"]!, (string)wrong["callback_data"]!);
    }

    [GeneratedRegex(@"(\d+) \+ (\d+)")]
    private static partial Regex Sum();
}
