using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bot.Features.JoinGate;
using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// The gate with no side door, as members and a chat's admins see it: users who join without a request, the checks'
/// kinds and tokens, the attempts, the settings changed from Telegram and their audit, the log chat and Approve anyway.
/// </summary>
public sealed partial class JoinGateDirectTests(SharedPostgres postgres)
{
    private const long MainChat = -1001000000001;
    private const long Gated = -1001000000002;
    private const long LogChat = -1001000000099;
    private const string AdminToken = "join-gate-admin-token-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_direct_joiner_is_restricted_and_let_write_on_the_right_answer_once_however_often_telegram_delivers_the_join()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long user = 801;
        group.Telegram.SetChatMember(MainChat, user, "left");
        group.Telegram.SetChatMember(Gated, user, "member");

        var join = Updates.ChatMember(100, Gated, user, "left", "member");
        await BotGroup.PostAsync(bot, join);
        await BotGroup.PostAsync(bot, join);
        // A second join while still being checked (left and came back): the check already shown stands.
        await BotGroup.PostAsync(bot, Updates.ChatMember(101, Gated, user, "left", "member"));

        var restrict = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "restrictChatMember"));
        Assert.Equal(user, (long)restrict.Body["user_id"]!);
        // Telegram.Bot leaves false permissions out, and Telegram reads a missing one as false.
        Assert.False((bool?)restrict.Body["permissions"]!["can_send_messages"] ?? false);

        // A user who never started the bot is asked in the group, mentioned.
        var check = await CheckAsync(group, Gated);
        Assert.Contains($"tg://user?id={user}", check.Text, StringComparison.Ordinal);
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 2, Wait);
        Assert.Single(group.Telegram.Calls("sendMessage", Gated));

        // Someone else's press changes nothing.
        await BotGroup.PostAsync(bot, Updates.GroupCallback(102, Gated, 899, check.Right, check.MessageId));
        var refused = (await group.Telegram.WaitForCallsAsync(1, Wait, "answerCallbackQuery"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.not_yours"), (string?)refused.Body["text"]);

        await BotGroup.PostAsync(bot, Updates.GroupCallback(103, Gated, user, check.Right, check.MessageId));
        var lifted = await group.Telegram.WaitForCallsAsync(2, Wait, "restrictChatMember");
        Assert.True((bool)lifted[^1].Body["permissions"]!["can_send_messages"]!);
        var deleted = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "deleteMessage"));
        Assert.Equal(check.MessageId, (int)deleted.Body["message_id"]!);

        // The same press again (a replayed button) finds its token used.
        await BotGroup.PostAsync(bot, Updates.GroupCallback(104, Gated, user, check.Right, check.MessageId));
        var answers = await group.Telegram.WaitForCallsAsync(3, Wait, "answerCallbackQuery");
        Assert.Equal(BotTexts.Get("en", "JoinGate.expired"), (string?)answers[^1].Body["text"]);

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(2, group.Telegram.Calls("restrictChatMember").Count);
        Assert.Empty(group.Telegram.Calls("banChatMember"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user}"));
        Assert.Equal(1, await group.ScalarAsync(
            $"SELECT count(*) FROM join_requests WHERE user_id = {user} AND entry = 'direct' AND state = 'approved' AND reason = 'correct_answer'"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM join_check_tokens"));
    }

    [Fact]
    public async Task Three_wrong_answers_remove_a_direct_joiner_who_may_come_back_later_and_a_rejoin_soon_after_is_removed_without_a_check()
    {
        await using var group = await CreateGroupAsync(new() { ["Bot__JoinRetryCooldownSeconds"] = "1" });
        var bot = await group.StartAsync();
        const long user = 802;
        group.Telegram.SetChatMember(MainChat, user, "left");
        group.Telegram.SetChatMember(Gated, user, "member");

        await BotGroup.PostAsync(bot, Updates.ChatMember(200, Gated, user, "left", "member"));
        var check = await CheckAsync(group, Gated);
        var firstWrong = check.Wrong;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await BotGroup.PostAsync(bot, Updates.GroupCallback(200 + (attempt * 10), Gated, user, check.Wrong, check.MessageId));
            if (attempt < 3)
            {
                // A new question on the same message, with new tokens, answered after the cooldown.
                var edit = (await group.Telegram.WaitForCallsAsync(attempt, Wait, "editMessageText"))[^1];
                var retry = BotTexts.Get("en", "JoinGate.retry");
                Assert.StartsWith(retry[..retry.IndexOf("{attempts}", StringComparison.Ordinal)] + (3 - attempt), RemoveMention((string)edit.Body["text"]!), StringComparison.Ordinal);
                check = Check(edit, check.MessageId);
                Assert.NotEqual(firstWrong, check.Wrong);
                if (attempt == 1)
                {
                    // Too soon: the cooldown holds, nothing is used.
                    await BotGroup.PostAsync(bot, Updates.GroupCallback(215, Gated, user, check.Right, check.MessageId));
                    var wait = (await group.Telegram.WaitForCallsAsync(2, Wait, "answerCallbackQuery"))[^1];
                    Assert.Equal(BotTexts.Get("en", "JoinGate.cooldown"), (string?)wait.Body["text"]);
                }

                await Task.Delay(TimeSpan.FromSeconds(1.5));
            }
        }

        var ban = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "banChatMember"));
        Assert.Equal(user, (long)ban.Body["user_id"]!);
        var unban = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "unbanChatMember"));
        Assert.True((bool)unban.Body["only_if_banned"]!);
        Assert.True(unban.Sequence > ban.Sequence);
        Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "deleteMessage"));

        // The first check's wrong button, pressed again: its token went with the first answer.
        await BotGroup.PostAsync(bot, Updates.GroupCallback(250, Gated, user, firstWrong, check.MessageId));
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done' AND update_id = 250", 1, Wait);
        Assert.Single(group.Telegram.Calls("banChatMember"));

        // Back within the repeat period: removed at once, without a check.
        group.Telegram.SetChatMember(Gated, user, "member");
        await BotGroup.PostAsync(bot, Updates.ChatMember(260, Gated, user, "left", "member"));
        await group.Telegram.WaitForCallsAsync(2, Wait, "banChatMember");
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND reason = 'repeat' AND state = 'declined'", 1, Wait);
        Assert.Single(group.Telegram.Calls("sendMessage", Gated));
        Assert.Equal(1, await group.ScalarAsync(
            $"SELECT count(*) FROM join_requests WHERE user_id = {user} AND entry = 'direct' AND state = 'declined' AND reason = 'wrong_answer' AND attempts_left = 1"));
    }

    [Fact]
    public async Task A_direct_joiner_who_never_answers_is_removed_at_the_deadline_and_their_check_deleted()
    {
        await using var group = await CreateGroupAsync(new() { ["Bot__JoinCheckSeconds"] = "10" });
        var bot = await group.StartAsync();
        const long user = 803;
        group.Telegram.SetChatMember(MainChat, user, "left");
        group.Telegram.SetChatMember(Gated, user, "member");

        await BotGroup.PostAsync(bot, Updates.ChatMember(300, Gated, user, "left", "member"));
        var check = await CheckAsync(group, Gated);
        Assert.Single(await group.Telegram.WaitForCallsAsync(1, TimeSpan.FromSeconds(40), "banChatMember"));
        Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "unbanChatMember"));
        var deleted = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "deleteMessage"));
        Assert.Equal(check.MessageId, (int)deleted.Body["message_id"]!);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {user} AND state = 'declined' AND reason = 'timeout'"));
        await group.WaitForAsync("SELECT count(*) FROM join_check_messages", 0, Wait);
    }

    [Fact]
    public async Task A_member_of_the_main_chat_who_joins_directly_is_not_restricted_and_a_user_who_talked_to_the_bot_is_asked_in_private()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long member = 804, known = 805;
        group.Telegram.SetChatMember(MainChat, member, "member");
        group.Telegram.SetChatMember(MainChat, known, "left");

        await BotGroup.PostAsync(bot, Updates.UserMessage(400, known, "/start"));
        await BotGroup.PostAsync(bot, Updates.ChatMember(401, Gated, member, "left", "member"));
        await BotGroup.PostAsync(bot, Updates.ChatMember(402, Gated, known, "left", "member"));
        var check = await CheckAsync(group, known);
        Assert.StartsWith(BotTexts.Prefix("en", "JoinGate.direct_check_private"), check.Text, StringComparison.Ordinal);
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 3, Wait);
        var restrict = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "restrictChatMember"));
        Assert.Equal(known, (long)restrict.Body["user_id"]!);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {member} AND state = 'approved' AND reason = 'member'"));

        await BotGroup.PostAsync(bot, Updates.Callback(403, known, check.Right, check.MessageId));
        var edit = (await group.Telegram.WaitForCallsAsync(1, Wait, "editMessageText"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.direct_approved").Replace("{chat}", "Gated Club", StringComparison.Ordinal), (string?)edit.Body["text"]);
        Assert.Equal(2, (await group.Telegram.WaitForCallsAsync(2, Wait, "restrictChatMember")).Count);
        Assert.Empty(group.Telegram.Calls("sendMessage", Gated));
    }

    [Fact]
    public async Task Chat_admins_change_the_gate_from_telegram_with_every_change_audited_and_a_former_admins_press_refused()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long admin = 811, member = 812, emojiUser = 813, quizUser = 814;
        group.Telegram.SetChatMember(Gated, admin, "administrator");
        group.Telegram.SetChatMember(Gated, member, "member");
        group.Telegram.AddChat(MainChat);

        // Not an admin: refused, and nothing stored.
        await BotGroup.PostAsync(bot, Updates.GroupMessage(500, Gated, member, "/settings"));
        var refusal = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", Gated))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.settings_refused"), (string?)refusal.Body["text"]);

        await BotGroup.PostAsync(bot, Updates.GroupMessage(501, Gated, admin, "/settings"));
        var menu = (await group.Telegram.WaitForCallsAsync(2, Wait, "sendMessage", Gated))[^1];
        Assert.StartsWith(BotTexts.Prefix("en", "JoinGate.settings_title"), (string)menu.Body["text"]!, StringComparison.Ordinal);
        var kinds = Buttons(menu).Where(b => ((string)b["callback_data"]!).Contains(":kind:", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, kinds.Count);

        // A member pressing the admin's menu is refused too.
        await BotGroup.PostAsync(bot, Updates.GroupCallback(502, Gated, member, Data(menu, ":kind:emoji"), menu.MessageId!.Value));
        var alert = (await group.Telegram.WaitForCallsAsync(1, Wait, "answerCallbackQuery"))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.settings_refused"), (string?)alert.Body["text"]);
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM gate_settings_audit"));

        await BotGroup.PostAsync(bot, Updates.GroupCallback(503, Gated, admin, Data(menu, ":kind:emoji"), menu.MessageId!.Value));
        await group.WaitForAsync(
            $"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {Gated} AND user_id = {admin} AND setting = 'check_kind' AND old_value = 'arithmetic' AND new_value = 'emoji'", 1, Wait);
        var edited = (await group.Telegram.WaitForCallsAsync(1, Wait, "editMessageText"))[0];
        Assert.Contains(Buttons(edited), b => (string?)b["text"] == "● " + BotTexts.Get("en", "JoinGate.kind_emoji"));

        // The next request gets the emoji check.
        group.Telegram.AddJoinRequest(Gated, emojiUser);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(504, Gated, emojiUser));
        var emoji = await CheckAsync(group, emojiUser);
        Assert.Equal(8, emoji.Buttons);
        await BotGroup.PostAsync(bot, Updates.Callback(505, emojiUser, emoji.Right, emoji.MessageId));
        Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "approveChatJoinRequest"));

        // A question of the chat's own, written in private (its answers are not for the group), then the kind set to questions.
        await BotGroup.PostAsync(bot, Updates.UserMessage(506, admin, $"/gatequestion {Gated} Capital of France? | Paris | Rome | Berlin"));
        var added = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", admin))[0];
        Assert.Equal(BotTexts.Get("en", "JoinGate.question_added").Replace("{count}", "1", StringComparison.Ordinal), (string?)added.Body["text"]);
        await BotGroup.PostAsync(bot, Updates.GroupCallback(507, Gated, admin, Data(menu, ":kind:questions"), menu.MessageId!.Value));
        await group.WaitForAsync($"SELECT count(*) FROM gate_settings WHERE chat_id = {Gated} AND check_kind = 'questions'", 1, Wait);

        group.Telegram.AddJoinRequest(Gated, quizUser);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(508, Gated, quizUser));
        var call = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", quizUser))[0];
        Assert.Contains("Capital of France?", (string)call.Body["text"]!, StringComparison.Ordinal);
        var paris = Buttons(call).Single(b => (string?)b["text"] == "Paris");
        Assert.Equal(["Berlin", "Paris", "Rome"], Buttons(call).Select(b => (string)b["text"]!).Order());
        Assert.DoesNotContain("Paris", call.Body["reply_markup"]!.ToJsonString().Replace("\"text\":\"Paris\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await BotGroup.PostAsync(bot, Updates.Callback(509, quizUser, (string)paris["callback_data"]!, call.MessageId!.Value));
        Assert.Equal(2, (await group.Telegram.WaitForCallsAsync(2, Wait, "approveChatJoinRequest")).Count);

        // No longer an admin: the old menu's buttons are refused, nothing changes.
        group.Telegram.SetChatMember(Gated, admin, "member");
        await BotGroup.PostAsync(bot, Updates.GroupCallback(510, Gated, admin, Data(menu, ":toggle"), menu.MessageId!.Value));
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done' AND update_id = 510", 1, Wait);
        // The press's answer goes out through the outbox after the update is done: wait for the answer to this press.
        var deadline = DateTime.UtcNow + Wait;
        CallRecord? last;
        while ((last = group.Telegram.Calls("answerCallbackQuery").LastOrDefault(c => (string?)c.Body["callback_query_id"] == "cb-510")) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the press was not answered");
            await Task.Delay(50);
        }

        Assert.Equal(BotTexts.Get("en", "JoinGate.settings_refused"), (string?)last.Body["text"]);
        Assert.Equal(3, await group.ScalarAsync($"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {Gated}"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM gate_settings WHERE chat_id = {Gated} AND enabled IS NULL"));

        // What the platform team audits: the same through the admin API.
        using var http = new HttpClient { BaseAddress = bot.InternalUri };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        using var auditResponse = await http.GetAsync($"admin/gate-settings-audit?chatId={Gated}");
        Assert.True(auditResponse.IsSuccessStatusCode, $"{auditResponse.StatusCode} {auditResponse.Headers} {await auditResponse.Content.ReadAsStringAsync()}\n{bot.Output}");
        var audit = JsonNode.Parse(await auditResponse.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(["check_kind", "questions", "check_kind"], audit.Select(a => (string)a!["setting"]!));
        Assert.All(audit, a => Assert.Equal(admin, (long)a!["userId"]!));
        var settings = JsonNode.Parse(await http.GetStringAsync($"admin/gate-settings/{Gated}"))!;
        Assert.Equal("questions", (string?)settings["checkKind"]);
        Assert.Equal("Capital of France?", (string?)settings["questions"]![0]!["q"]);
    }

    [Fact]
    public async Task The_log_chat_receives_every_decision_and_approve_anyway_from_an_admin_lets_a_declined_user_in()
    {
        await using var group = await CreateGroupAsync(new() { ["Bot__JoinAttempts"] = "1" });
        var bot = await group.StartAsync();
        const long admin = 821, member = 822, passer = 823, failer = 824;
        group.Telegram.SetChatMember(Gated, admin, "administrator");
        group.Telegram.SetChatMember(LogChat, admin, "administrator");
        group.Telegram.SetChatMember(Gated, member, "member");
        group.Telegram.SetChatMember(MainChat, member, "member");

        await BotGroup.PostAsync(bot, Updates.GroupMessage(600, LogChat, admin, $"/gatelog {Gated}"));
        await group.WaitForAsync($"SELECT count(*) FROM gate_settings WHERE chat_id = {Gated} AND log_chat_id = {LogChat}", 1, Wait);

        foreach (var user in new[] { member, passer, failer })
        {
            group.Telegram.AddJoinRequest(Gated, user);
        }

        await BotGroup.PostAsync(bot, Updates.JoinRequest(601, Gated, member));
        await BotGroup.PostAsync(bot, Updates.JoinRequest(602, Gated, passer));
        await BotGroup.PostAsync(bot, Updates.JoinRequest(603, Gated, failer));
        var pass = await CheckAsync(group, passer);
        var fail = await CheckAsync(group, failer);
        await BotGroup.PostAsync(bot, Updates.Callback(604, passer, pass.Right, pass.MessageId));
        await BotGroup.PostAsync(bot, Updates.Callback(605, failer, fail.Wrong, fail.MessageId));

        // The answer to /gatelog, then the log: the setting's change and three decisions.
        var lines = (await group.Telegram.WaitForCallsAsync(5, Wait, "sendMessage", LogChat)).Skip(1).ToList();
        Assert.Equal(BotTexts.Get("en", "JoinGate.settings_saved"), (string?)group.Telegram.Calls("sendMessage", LogChat)[0].Body["text"]);
        // Telegram reads parse_mode case-insensitively; Telegram.Bot spells it "Html".
        Assert.All(lines, l => Assert.Equal("html", ((string?)l.Body["parse_mode"])?.ToLowerInvariant()));
        Assert.Contains(lines, l => ((string)l.Body["text"]!).Contains($"tg://user?id={member}", StringComparison.Ordinal) && ((string)l.Body["text"]!).Contains("(member)", StringComparison.Ordinal));
        Assert.Contains(lines, l => ((string)l.Body["text"]!).Contains($"tg://user?id={passer}", StringComparison.Ordinal) && ((string)l.Body["text"]!).Contains("(correct_answer)", StringComparison.Ordinal));
        var declined = Assert.Single(lines, l => ((string)l.Body["text"]!).Contains($"tg://user?id={failer}", StringComparison.Ordinal));
        var approveAnyway = Assert.Single(Buttons(declined));
        Assert.Equal(BotTexts.Get("en", "JoinGate.log_approve_anyway"), (string?)approveAnyway["text"]);

        // A member of the log chat who is not an admin of the gated chat may not press it.
        await BotGroup.PostAsync(bot, Updates.GroupCallback(606, LogChat, member, (string)approveAnyway["callback_data"]!, declined.MessageId!.Value));
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done' AND update_id = 606", 1, Wait);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {failer} AND state = 'declined'"));

        await BotGroup.PostAsync(bot, Updates.GroupCallback(607, LogChat, admin, (string)approveAnyway["callback_data"]!, declined.MessageId!.Value));
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = {failer} AND state = 'approved' AND reason = 'admin' AND decided_by = {admin}", 1, Wait);
        var told = (await group.Telegram.WaitForCallsAsync(2, Wait, "sendMessage", failer))[^1];
        Assert.Equal(BotTexts.Get("en", "JoinGate.allowed_user").Replace("{chat}", "Gated Club", StringComparison.Ordinal), (string?)told.Body["text"]);

        // Their next request is approved without a check, once.
        group.Telegram.AddJoinRequest(Gated, failer);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(608, Gated, failer));
        var approvals = await group.Telegram.WaitForCallsAsync(3, Wait, "approveChatJoinRequest");
        Assert.Equal(failer, (long)approvals[^1].Body["user_id"]!);
        Assert.Equal(0, await group.ScalarAsync($"SELECT count(*) FROM join_verdicts WHERE user_id = {failer}"));
    }

    [Fact]
    public async Task Two_hundred_join_requests_in_a_minute_put_the_chat_in_raid_mode_and_other_chats_keep_their_answers()
    {
        await using var group = await CreateGroupAsync(new()
        {
            ["Bot__RaidJoinsPerMinute"] = "20",
            ["Bot__GateLogChatId"] = LogChat.ToString(CultureInfo.InvariantCulture),
        });
        var bot = await group.StartAsync();
        const long admin = 841, firstRaider = 50_000;
        const int raiders = 200;
        group.Telegram.AddChat(MainChat);
        group.Telegram.SetChatMember(Gated, admin, "administrator");

        // Replies to other users before the raid: the usual latency on this machine.
        var before = await PingLatenciesAsync(group, bot, 700, 860, 5);

        var posting = Task.Run(async () =>
        {
            for (var i = 0; i < raiders; i += 10)
            {
                await Task.WhenAll(Enumerable.Range(i, 10).Select(n => BotGroup.PostAsync(bot, Updates.JoinRequest(1000 + n, Gated, firstRaider + n))));
            }
        });
        var during = await PingLatenciesAsync(group, bot, 800, 870, 10);
        await posting;
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated}", raiders, Wait);

        // The first twenty got their check; the rest are held without one; the admins were told once.
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM gate_raids WHERE chat_id = {Gated} AND until > now()"));
        Assert.Equal(raiders - 20, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND held AND state = 'pending'"));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var checks = group.Telegram.Calls("sendMessage").Count(c => c.ChatId >= firstRaider && c.ChatId < firstRaider + raiders);
        Assert.Equal(20, checks);
        var raidLine = Assert.Single(group.Telegram.Calls("sendMessage", LogChat));
        Assert.StartsWith("🚨", (string)raidLine.Body["text"]!, StringComparison.Ordinal);

        // Other chats kept their answers: each within a few seconds, all of them answered.
        TestContext.Current.TestOutputHelper?.WriteLine($"ping reply latency before the raid: median {Median(before):F0} ms, max {before.Max():F0} ms; during: median {Median(during):F0} ms, max {during.Max():F0} ms");
        Assert.All(during, ms => Assert.InRange(ms, 0, 5000));

        // An admin lets everyone held in from the log chat.
        var approveAll = Buttons(raidLine).Single(b => ((string)b["callback_data"]!).StartsWith("gl:raid-approve:", StringComparison.Ordinal));
        await BotGroup.PostAsync(bot, Updates.GroupCallback(1500, LogChat, admin, (string)approveAll["callback_data"]!, raidLine.MessageId!.Value));
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND state = 'approved' AND reason = 'admin' AND decided_by = {admin}", raiders - 20, Wait);
        await group.Telegram.WaitForCallsAsync(raiders - 20, TimeSpan.FromSeconds(60), "approveChatJoinRequest");
    }

    [Fact]
    public async Task The_gate_pauses_when_the_bot_loses_its_rights_and_a_block_in_private_is_marked_at_once()
    {
        await using var group = await CreateGroupAsync(new() { ["Bot__GateLogChatId"] = LogChat.ToString(CultureInfo.InvariantCulture) });
        var bot = await group.StartAsync();
        const long owner = 851, requester = 852, fan = 853;
        group.Telegram.AddChat(MainChat);

        await BotGroup.PostAsync(bot, Updates.MyChatMember(1600, Gated, "administrator", "member", owner));
        await group.WaitForAsync($"SELECT count(*) FROM gate_settings WHERE chat_id = {Gated} AND paused_reason IS NOT NULL", 1, Wait);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {Gated} AND setting = 'paused_reason' AND user_id = {owner}"));
        var paused = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", LogChat))[0];
        Assert.StartsWith("⏸", (string)paused.Body["text"]!, StringComparison.Ordinal);

        // Paused: a request is left to the chat's admins.
        await BotGroup.PostAsync(bot, Updates.JoinRequest(1601, Gated, requester));
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done' AND update_id = 1601", 1, Wait);
        Assert.Equal(0, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE user_id = {requester}"));

        // The rights back: the gate works again.
        await BotGroup.PostAsync(bot, Updates.MyChatMember(1602, Gated, "member", "administrator", owner));
        await group.WaitForAsync($"SELECT count(*) FROM gate_settings WHERE chat_id = {Gated} AND paused_reason IS NULL", 1, Wait);
        Assert.StartsWith("▶️", (string)(await group.Telegram.WaitForCallsAsync(2, Wait, "sendMessage", LogChat))[^1].Body["text"]!, StringComparison.Ordinal);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(1603, Gated, requester));
        await CheckAsync(group, requester);

        // A subscriber who blocks the bot is marked blocked by the update itself; unblocking lets messages go out again.
        await BotGroup.PostAsync(bot, Updates.UserMessage(1604, fan, "/start"));
        await group.WaitForAsync($"SELECT count(*) FROM users WHERE user_id = {fan} AND status = 'active'", 1, Wait);
        await BotGroup.PostAsync(bot, Updates.MyChatMember(1605, fan, "member", "kicked", fan));
        await group.WaitForAsync($"SELECT count(*) FROM users WHERE user_id = {fan} AND status = 'blocked'", 1, Wait);
        await BotGroup.PostAsync(bot, Updates.MyChatMember(1606, fan, "kicked", "member", fan));
        await group.WaitForAsync($"SELECT count(*) FROM users WHERE user_id = {fan} AND status = 'none'", 1, Wait);
    }

    [Fact]
    public async Task Forged_buttons_malformed_commands_and_broken_updates_change_nothing_and_each_is_answered()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        const long otherChat = -1001000000077, adminElsewhere = 861, admin = 862;
        group.Telegram.SetChatMember(otherChat, adminElsewhere, "administrator");
        group.Telegram.SetChatMember(Gated, adminElsewhere, "member");
        group.Telegram.SetChatMember(Gated, admin, "administrator");

        // An admin of another chat forges its menu's data for the gated chat; garbage of every shape.
        string[] forged =
        [
            $"gs:{Gated}:toggle", $"gs:{Gated}:kind:questions", "gs:abc:toggle", "gs:", $"gs:{Gated}:kind:evil", $"gs:{Gated}:qdel:99",
            $"gs:{Gated}:att:++", "gl:approve:x", "gl:approve:999999", $"gl:raid-approve:{Gated}", $"gl:raid-decline:{Gated}", "gl:",
            "join:AAAAAAAAAAAAAAAA", "join:", "join:1:2:3", "join:1:x", "join:-5:1",
        ];
        var update = 1700L;
        foreach (var data in forged)
        {
            await BotGroup.PostAsync(bot, Updates.GroupCallback(update++, otherChat, adminElsewhere, data, 1));
        }

        // An admin's commands with bad arguments: told how to write them.
        string[] commands =
        [
            "/gatequestion only a question", "/gatequestion Q | right", "/gatequestion Q | a | a", "/setwelcome xx Hello", "/setwelcome en",
            "/gatelog", "/gatelog abc", $"/gatelog {Gated} maybe",
        ];
        foreach (var command in commands)
        {
            await BotGroup.PostAsync(bot, Updates.GroupMessage(update++, Gated, admin, command));
        }

        // Updates Telegram would never send: no new member, no user.
        await BotGroup.PostAsync(bot, $$$"""{"update_id":{{{update++}}},"chat_member":{"chat":{"id":{{{Gated}}},"type":"supergroup","title":"G"},"from":{"id":1,"is_bot":false,"first_name":"T"},"date":1700000000}}""");
        await BotGroup.PostAsync(bot, $$$"""{"update_id":{{{update++}}},"my_chat_member":{"chat":{"id":{{{Gated}}},"type":"supergroup","title":"G"},"date":1700000000}}""");
        await BotGroup.PostAsync(bot, $$$"""{"update_id":{{{update++}}},"chat_join_request":{"chat":{"id":{{{Gated}}},"type":"supergroup","title":"G"},"date":1700000000,"user_chat_id":5}}""");

        var total = forged.Length + commands.Length + 3;
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", total, Wait);
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE state <> 'done'"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM gate_settings"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM gate_settings_audit"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM join_requests"));
        Assert.Equal(forged.Length, (await group.Telegram.WaitForCallsAsync(forged.Length, Wait, "answerCallbackQuery")).Count);
        var replies = (await group.Telegram.WaitForCallsAsync(commands.Length, Wait, "sendMessage", Gated)).Select(c => (string)c.Body["text"]!).ToList();
        Assert.Equal(commands.Length, replies.Count);
        Assert.Contains(BotTexts.Get("en", "JoinGate.question_format"), replies);
        Assert.Contains(BotTexts.Get("en", "JoinGate.question_duplicate"), replies);
        Assert.Contains(BotTexts.Get("en", "JoinGate.gatelog_format"), replies);
        Assert.Empty(group.Telegram.Calls("restrictChatMember"));
        Assert.Empty(group.Telegram.Calls("banChatMember"));
        Assert.False(bot.HasExited);
    }

    /// <summary>Sends /ping from <paramref name="count"/> users one after another; the time each waited for its answer, in ms.</summary>
    private static async Task<List<double>> PingLatenciesAsync(BotGroup group, BotProcess bot, long firstUpdate, long firstUser, int count)
    {
        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var user = firstUser + i;
            var sent = DateTimeOffset.UtcNow;
            await BotGroup.PostAsync(bot, Updates.UserMessage(firstUpdate + i, user, "/ping"));
            var answer = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", user))[0];
            latencies.Add((answer.ReceivedAt - sent).TotalMilliseconds);
            await Task.Delay(200);
        }

        return latencies;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

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

    private sealed record Shown(string Text, int MessageId, string Right, string Wrong, int Buttons);

    /// <summary>The first check sent to <paramref name="chatId"/>, with the data of a right and a wrong button.</summary>
    private static async Task<Shown> CheckAsync(BotGroup group, long chatId)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            if (group.Telegram.Calls("sendMessage", chatId).FirstOrDefault(c => c.Body["reply_markup"] is not null && c.Status == 200) is { } call)
            {
                return Check(call, call.MessageId!.Value);
            }

            Assert.True(DateTime.UtcNow < deadline, $"no check sent to {chatId} in {Wait}");
            await Task.Delay(50);
        }
    }

    /// <summary>A check as sent or edited: which button is right, worked out from the question as a user would.</summary>
    private static Shown Check(CallRecord call, int messageId)
    {
        var text = (string)call.Body["text"]!;
        var buttons = Buttons(call);
        JsonObject right;
        if (Sum().Match(text) is { Success: true } sum)
        {
            var answer = int.Parse(sum.Groups[1].Value, CultureInfo.InvariantCulture) + int.Parse(sum.Groups[2].Value, CultureInfo.InvariantCulture);
            right = Assert.Single(buttons, b => (string?)b["text"] == answer.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            var named = GateChecks.EmojiPool.Single(e => text.Contains(BotTexts.Get("en", "JoinGate.check_emoji").Replace("{name}", BotTexts.Get("en", $"JoinGate.emoji_{e.Name}"), StringComparison.Ordinal), StringComparison.Ordinal));
            right = Assert.Single(buttons, b => (string?)b["text"] == named.Symbol);
        }

        Assert.All(buttons, b => Assert.StartsWith(JoinDecisions.CallbackPrefix, (string)b["callback_data"]!, StringComparison.Ordinal));
        var wrong = buttons.First(b => b != right);
        return new Shown(text, messageId, (string)right["callback_data"]!, (string)wrong["callback_data"]!, buttons.Count);
    }

    private static List<JsonObject> Buttons(CallRecord call) =>
        call.Body["reply_markup"]!["inline_keyboard"]!.AsArray().SelectMany(row => row!.AsArray()).Select(b => b!.AsObject()).ToList();

    /// <summary>The callback data of the menu's button whose data ends with <paramref name="suffix"/>.</summary>
    private static string Data(CallRecord menu, string suffix) =>
        Buttons(menu).Select(b => (string)b["callback_data"]!).Single(d => d.EndsWith(suffix, StringComparison.Ordinal));

    private static string RemoveMention(string text) => Mention().Replace(text, "{user}");

    [GeneratedRegex(@"(\d+) \+ (\d+)")]
    private static partial Regex Sum();

    [GeneratedRegex("<a href=\"tg://user\\?id=\\d+\">[^<]*</a>")]
    private static partial Regex Mention();
}
