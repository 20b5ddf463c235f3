using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;
using static Bot.Tests.Integration.Infrastructure.MiniAppClient;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// The admin Mini App's API on the bot binary with the fake Bot API: who may call it (Telegram's signed initData and
/// nothing else; the admin API not with it), what a chat's admin may see and change (their chats only), the queue's
/// decisions reaching Telegram, the settings form, the overview's counts, its rate limit, its pages, and /admin.
/// </summary>
public sealed class MiniAppTests(SharedPostgres postgres)
{
    private const long BotAdmin = 9101;
    private const long ChatAdmin = 9102;
    private const long Stranger = 9103;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_api_takes_only_telegrams_initData_and_the_admin_api_never_takes_it()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        using var anonymous = For(bot, null);

        var (status, _) = await GetAsync(anonymous, "app/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, status);

        // The admin API's token, as a bearer or under the app's scheme word, is nothing here.
        foreach (var header in new[] { new AuthenticationHeaderValue("Bearer", AdminToken), new AuthenticationHeaderValue("tma", AdminToken) })
        {
            anonymous.DefaultRequestHeaders.Authorization = header;
            Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(anonymous, "app/api/me")).Status);
        }

        // Expired, tampered, another bot's, or missing its hash.
        string[] refused =
        [
            InitDataFor(BotAdmin, age: TimeSpan.FromHours(2)),
            InitDataFor(BotAdmin).Replace("Ann", "Eve", StringComparison.Ordinal),
            Bot.Features.MiniApp.InitData.Sign(new Dictionary<string, string> { ["user"] = $$"""{"id":{{BotAdmin}},"first_name":"A"}""", ["auth_date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) },
                Bot.Features.MiniApp.InitData.SecretKey("987654321:another-bots-token-xxxxxxxxxxxxxxx")),
            InitDataFor(BotAdmin)[..InitDataFor(BotAdmin).IndexOf("&hash=", StringComparison.Ordinal)],
        ];
        foreach (var initData in refused)
        {
            anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("tma", initData);
            Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(anonymous, "app/api/me")).Status);
        }

        // A bot admin's valid initData opens the app, and nothing of the admin API.
        using var admin = For(bot, BotAdmin);
        var (ok, me) = await GetAsync(admin, "app/api/me");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.True(me.GetProperty("botAdmin").GetBoolean());
        Assert.Equal(BotAdmin, me.GetProperty("user").GetProperty("id").GetInt64());
        Assert.Equal(new[] { Gated, OtherGated }.Order(), me.GetProperty("chats").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).Order().ToArray());
        using var internalPort = new HttpClient { BaseAddress = bot.InternalUri };
        internalPort.DefaultRequestHeaders.Authorization = admin.DefaultRequestHeaders.Authorization;
        Assert.Equal(HttpStatusCode.Unauthorized, (await internalPort.GetAsync("admin/stats")).StatusCode);
        internalPort.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin.DefaultRequestHeaders.Authorization!.Parameter);
        Assert.Equal(HttpStatusCode.Unauthorized, (await internalPort.GetAsync("admin/stats")).StatusCode);
        // The app's API is on the public port only.
        Assert.Equal(HttpStatusCode.NotFound, (await internalPort.GetAsync("app/api/me")).StatusCode);

        // Every spelling of the path is the same route or none: never an answer without the check.
        foreach (var path in new[] { "APP/API/ME", "app/Api/me", "app/api/me/", "app//api/me", "app/api/%6de", "app/api/chats/-1001000000002/overview", "app/api/broadcasts", "app/api/nothing" })
        {
            using var nobody = For(bot, null);
            var (spelled, _) = await GetAsync(nobody, path);
            Assert.True(spelled is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{path}: {spelled}");
        }
    }

    [Fact]
    public async Task A_chat_admin_sees_and_changes_only_their_chat_and_anyone_else_is_refused()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        group.Telegram.SetChatMember(OtherGated, ChatAdmin, "member");
        group.Telegram.SetChatMember(Gated, Stranger, "member");
        var bot = await group.StartAsync();
        using var chatAdmin = For(bot, ChatAdmin);
        using var stranger = For(bot, Stranger);

        var (status, me) = await GetAsync(chatAdmin, "app/api/me");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(me.GetProperty("botAdmin").GetBoolean());
        Assert.Equal(Gated, Assert.Single(me.GetProperty("chats").EnumerateArray()).GetProperty("id").GetInt64());

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(chatAdmin, $"app/api/chats/{Gated}/overview")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(chatAdmin, $"app/api/chats/{Gated}/queue")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(chatAdmin, $"app/api/chats/{OtherGated}/overview")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(chatAdmin, $"app/api/chats/{OtherGated}/queue")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(chatAdmin, HttpMethod.Put, $"app/api/chats/{OtherGated}/settings", """{"enabled":false}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(chatAdmin, $"app/api/chats/{OtherGated}/queue/1/approve")).Status);
        // A chat the bot does not manage, and the bot admins' broadcasts.
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(chatAdmin, "app/api/chats/-1009999999999/overview")).Status);
        using (var botAdmin = For(bot, BotAdmin))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(botAdmin, "app/api/chats/-1009999999999/overview")).Status);
        }

        // Telegram is not asked about a chat the bot does not manage: a valid initData cannot make it call getChatMember anywhere.
        Assert.DoesNotContain(group.Telegram.Calls("getChatMember"), c => (long?)c.Body["chat_id"] == -1009999999999);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(chatAdmin, "app/api/broadcasts")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(chatAdmin, "app/api/broadcasts", """{"text":"hi"}""")).Status);

        // Someone who administers nothing the bot manages gets the refusal, and no chat.
        var (refused, problem) = await GetAsync(stranger, "app/api/me");
        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal("Forbidden", problem.GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(stranger, $"app/api/chats/{Gated}/overview")).Status);
        Assert.Equal(0, await group.ScalarAsync($"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {OtherGated}"));
    }

    [Fact]
    public async Task Approve_decline_and_ban_from_the_queue_reach_telegram_once()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        var bot = await group.StartAsync();
        long[] users = [7201, 7202, 7203];
        foreach (var user in users)
        {
            group.Telegram.SetChatMember(MainChat, user, "left");
            group.Telegram.AddJoinRequest(Gated, user);
            await BotGroup.PostAsync(bot, Updates.JoinRequest(user, Gated, user));
        }

        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND state = 'pending'", 3, Wait);
        using var admin = For(bot, ChatAdmin);
        var (_, queue) = await GetAsync(admin, $"app/api/chats/{Gated}/queue");
        var requests = queue.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(users, requests.Select(r => r.GetProperty("userId").GetInt64()).Order().ToArray());
        Assert.All(requests, r =>
        {
            Assert.Equal("T", r.GetProperty("name").GetString());
            Assert.Equal("request", r.GetProperty("entry").GetString());
            Assert.Equal("arithmetic", r.GetProperty("checkKind").GetString());
        });
        var byUser = requests.ToDictionary(r => r.GetProperty("userId").GetInt64(), r => r.GetProperty("id").GetInt64());
        var ids = users.Select(u => byUser[u]).ToArray();

        var (approved, approval) = await PostAsync(admin, $"app/api/chats/{Gated}/queue/{ids[0]}/approve");
        Assert.Equal(HttpStatusCode.OK, approved);
        Assert.Equal("approved", approval.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(admin, $"app/api/chats/{Gated}/queue/{ids[1]}/decline")).Status);
        var (banned, ban) = await PostAsync(admin, $"app/api/chats/{Gated}/queue/{ids[2]}/ban");
        Assert.Equal(HttpStatusCode.OK, banned);
        Assert.True(ban.GetProperty("banned").GetBoolean());

        var approvals = await group.Telegram.WaitForCallsAsync(1, Wait, "approveChatJoinRequest");
        Assert.Equal(users[0], (long)Assert.Single(approvals).Body["user_id"]!);
        var declines = await group.Telegram.WaitForCallsAsync(2, Wait, "declineChatJoinRequest");
        Assert.Equal([users[1], users[2]], declines.Select(c => (long)c.Body["user_id"]!).Order().ToArray());
        var bans = await group.Telegram.WaitForCallsAsync(1, Wait, "banChatMember");
        Assert.Equal(users[2], (long)Assert.Single(bans).Body["user_id"]!);
        Assert.Equal(Gated, (long)bans[0].Body["chat_id"]!);

        // Decided once: a second press, or another chat's id, changes nothing.
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(admin, $"app/api/chats/{Gated}/queue/{ids[0]}/decline")).Status);
        group.Telegram.SetChatMember(OtherGated, ChatAdmin, "administrator");
        Assert.Equal(HttpStatusCode.NotFound, (await PostAsync(admin, $"app/api/chats/{OtherGated}/queue/{ids[0]}/approve")).Status);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(group.Telegram.Calls("approveChatJoinRequest"));
        Assert.Empty(group.Telegram.Calls("unbanChatMember"));
        Assert.Equal(3, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND decided_by = {ChatAdmin} AND reason IN ('admin', 'banned')"));
        Assert.Empty((await GetAsync(admin, $"app/api/chats/{Gated}/queue")).Body.GetProperty("requests").EnumerateArray());
    }

    [Fact]
    public async Task The_settings_form_checks_each_field_and_audits_each_change()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        var bot = await group.StartAsync();
        using var admin = For(bot, ChatAdmin);
        var path = $"app/api/chats/{Gated}/settings";

        var (bad, problem) = await SendAsync(admin, HttpMethod.Put, path, """{"attempts":11,"checkKind":"captcha","deadlineSeconds":61}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("attempts", out _));
        Assert.True(errors.TryGetProperty("checkKind", out _));
        Assert.True(errors.TryGetProperty("deadlineSeconds", out _));
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(admin, HttpMethod.Put, path, """{"attempts":"many"}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(admin, HttpMethod.Put, path, "not json")).Status);
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM gate_settings_audit"));

        var (ok, view) = await SendAsync(admin, HttpMethod.Put, path, """{"attempts":5,"checkKind":"emoji","deadlineSeconds":1800,"enabled":true}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        var settings = view.GetProperty("settings");
        Assert.Equal(5, settings.GetProperty("attempts").GetInt32());
        Assert.Equal("emoji", settings.GetProperty("checkKind").GetString());
        Assert.Equal(1800, settings.GetProperty("deadlineSeconds").GetInt32());
        var audit = view.GetProperty("audit").EnumerateArray().ToList();
        Assert.Equal(["attempts", "check_kind", "deadline_seconds"], audit.Select(a => a.GetProperty("setting").GetString()).Order().ToArray());
        Assert.All(audit, a => Assert.Equal(ChatAdmin, a.GetProperty("userId").GetInt64()));
        Assert.Equal(3, await group.ScalarAsync($"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {Gated} AND user_id = {ChatAdmin}"));
        Assert.Equal(5, await group.ScalarAsync($"SELECT attempts FROM gate_settings WHERE chat_id = {Gated}"));
    }

    [Fact]
    public async Task The_overview_counts_what_the_database_holds()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            $"""
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at, entry, check_kind, held, left_at)
            VALUES
                -- today: 2 approved after a check, 1 declined request, 1 removed direct join, 1 pending
                ({Gated}, 1, 1, 900001, now(), 'approved', 'correct_answer', now(), now(), 'request', 'arithmetic', false, NULL),
                ({Gated}, 2, 2, 900002, now(), 'approved', 'member', NULL, now(), 'request', 'arithmetic', false, NULL),
                ({Gated}, 3, 3, 900003, now(), 'declined', 'wrong_answer', now(), now(), 'request', 'arithmetic', false, NULL),
                ({Gated}, 4, 4, 900004, now(), 'declined', 'timeout', now(), now(), 'direct', 'arithmetic', false, NULL),
                ({Gated}, 5, 5, 900005, now(), 'pending', NULL, now() + interval '5 minutes', NULL, 'request', 'arithmetic', false, NULL),
                -- 10 days ago: passed and still in; passed and left after 2 days; held in a raid and declined
                ({Gated}, 6, 6, 900006, now() - interval '10 days', 'approved', 'correct_answer', now(), now() - interval '10 days', 'request', 'emoji', false, NULL),
                ({Gated}, 7, 7, 900007, now() - interval '10 days', 'approved', 'correct_answer', now(), now() - interval '10 days', 'request', 'emoji', false, now() - interval '8 days'),
                ({Gated}, 8, 8, 900008, now() - interval '10 days', 'declined', 'raid', now(), now() - interval '10 days', 'request', 'emoji', true, NULL),
                -- another chat, and older than the funnel's 30 days
                ({OtherGated}, 9, 9, 900009, now(), 'approved', 'correct_answer', now(), now(), 'request', 'arithmetic', false, NULL),
                ({Gated}, 10, 10, 900010, now() - interval '40 days', 'approved', 'correct_answer', now(), now() - interval '40 days', 'request', 'arithmetic', false, NULL);
            INSERT INTO flood_warnings (chat_id, user_id, warned_at) VALUES ({Gated}, 1, now()), ({Gated}, 2, now() - interval '3 days'), ({Gated}, 3, now() - interval '20 days'), ({OtherGated}, 4, now());
            INSERT INTO gate_raid_periods (chat_id, started_at, until, joins) VALUES ({Gated}, now() - interval '10 days' - interval '1 minute', now() - interval '10 days' + interval '10 minutes', 3);
            """);
        using var admin = For(bot, BotAdmin);

        var (status, overview) = await GetAsync(admin, $"app/api/chats/{Gated}/overview");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""{"approved":2,"declined":1,"removed":1,"pending":1}""", overview.GetProperty("today").GetRawText());
        Assert.Equal("""{"approved":2,"declined":1,"removed":1,"pending":1}""", overview.GetProperty("week").GetRawText());
        // requested 8 (the 40-day-old one is out); checked 6 (not the member let in at once, not the held one); passed 3; retained 1.
        Assert.Equal("""{"days":30,"requested":8,"checked":6,"passed":3,"retained":1}""", overview.GetProperty("funnel").GetRawText());
        var days = overview.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(14, days.Count);
        Assert.Equal(5, days[^1].GetProperty("requested").GetInt32());
        Assert.Equal(3, days[^11].GetProperty("requested").GetInt32());
        Assert.Equal(8, days.Sum(d => d.GetProperty("requested").GetInt32()));
        Assert.Equal("""{"today":1,"week":2}""", overview.GetProperty("floodWarnings").GetRawText());
        var raid = Assert.Single(overview.GetProperty("raids").EnumerateArray());
        Assert.Equal(3, raid.GetProperty("joins").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, raid.GetProperty("endedAt").ValueKind);
    }

    [Fact]
    public async Task What_the_overview_counts_is_recorded_as_it_happens()
    {
        await using var group = await CreateGroupAsync(new() { ["FeatureFlags__FloodControl"] = "true", ["Bot__FloodMaxUpdates"] = "3", ["Bot__RaidJoinsPerMinute"] = "2", ["Bot__RaidMinutes"] = "1" });
        var bot = await group.StartAsync();

        // A flood of commands in the gated chat: one warning, recorded in that chat.
        for (var i = 1; i <= 5; i++)
        {
            await BotGroup.PostAsync(bot, Updates.GroupMessage(100 + i, Gated, 7401, "/ping"));
        }

        await group.WaitForAsync($"SELECT count(*) FROM flood_warnings WHERE chat_id = {Gated} AND user_id = 7401", 1, Wait);

        // Three joins within a minute past a limit of two: one raid period.
        long[] joiners = [7411, 7412, 7413];
        foreach (var user in joiners)
        {
            group.Telegram.SetChatMember(MainChat, user, user == 7411 ? "member" : "left");
            group.Telegram.AddJoinRequest(Gated, user);
            await BotGroup.PostAsync(bot, Updates.JoinRequest(200 + user, Gated, user));
        }

        await group.WaitForAsync($"SELECT count(*) FROM gate_raid_periods WHERE chat_id = {Gated} AND until > started_at", 1, Wait);

        // The member let in at once leaves: their approval is marked, and the overview no longer counts them as retained.
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = 7411 AND state = 'approved'", 1, Wait);
        await BotGroup.PostAsync(bot, Updates.ChatMember(300, Gated, 7411, "member", "left"));
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = 7411 AND left_at IS NOT NULL", 1, Wait);

        using var admin = For(bot, BotAdmin);
        var (_, overview) = await GetAsync(admin, $"app/api/chats/{Gated}/overview");
        Assert.Equal(1, overview.GetProperty("floodWarnings").GetProperty("today").GetInt32());
        Assert.Equal(3, Assert.Single(overview.GetProperty("raids").EnumerateArray()).GetProperty("joins").GetInt32());
    }

    [Fact]
    public async Task Each_user_has_their_own_rate_limit()
    {
        await using var group = await CreateGroupAsync(new() { ["MiniApp__RequestsPerMinute"] = "5" });
        var bot = await group.StartAsync();
        using var admin = For(bot, BotAdmin);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await GetAsync(admin, "app/api/me")).Status);
        }

        using var response = await admin.GetAsync("app/api/me");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);

        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        using var other = For(bot, ChatAdmin);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(other, "app/api/me")).Status);
    }

    [Fact]
    public async Task The_pages_are_served_from_the_binary_with_their_policy_and_cache_headers()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{bot.PublicPort}/") };

        using (var redirect = await http.GetAsync("app"))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.Equal("/app/", redirect.Headers.Location!.OriginalString);
        }

        using var page = await http.GetAsync("app/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors https://web.telegram.org", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(page.Headers.CacheControl!.NoCache);
        var html = await page.Content.ReadAsStringAsync();
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(app\\.js\\?v=[0-9a-f]{16})\"");
        Assert.True(script.Success, html);

        using var js = await http.GetAsync("app/" + script.Groups[1].Value);
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        Assert.True(js.Headers.CacheControl!.MaxAge >= TimeSpan.FromDays(365));
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "app/" + script.Groups[1].Value);
        conditional.Headers.IfNoneMatch.Add(js.Headers.ETag!);
        using var notModified = await http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        foreach (var path in new[] { "app/nope.js", "app/..%2Fappsettings.json", "app/%2e%2e/appsettings.json", "app/Index.html" })
        {
            using var missing = await http.GetAsync(path);
            Assert.True(missing.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path}: {missing.StatusCode}");
        }
    }

    [Fact]
    public async Task Admin_in_private_offers_the_app_and_sets_the_menu_button_and_others_are_refused()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        var bot = await group.StartAsync();

        // The leader puts the app in the bot admins' menu button.
        var leaderButton = await group.Telegram.WaitForCallsAsync(1, Wait, "setChatMenuButton", BotAdmin);
        Assert.Equal(AppUrl, (string?)leaderButton[0].Body["menu_button"]!["web_app"]!["url"]);

        await BotGroup.PostAsync(bot, Updates.UserMessage(1, ChatAdmin, "/admin", languageCode: "ru"));
        var reply = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", ChatAdmin))[0];
        var button = reply.Body["reply_markup"]!["inline_keyboard"]![0]![0]!;
        Assert.Equal(AppUrl, (string?)button["web_app"]!["url"]);
        Assert.Equal(BotTexts.Get("ru", "MiniApp.button"), (string?)button["text"]);
        var menu = await group.Telegram.WaitForCallsAsync(1, Wait, "setChatMenuButton", ChatAdmin);
        Assert.Equal("web_app", (string?)menu[0].Body["menu_button"]!["type"]);

        await BotGroup.PostAsync(bot, Updates.UserMessage(2, Stranger, "/admin"));
        var refusal = (await group.Telegram.WaitForCallsAsync(1, Wait, "sendMessage", Stranger))[0];
        Assert.Equal(BotTexts.Get("en", "MiniApp.refused"), (string?)refusal.Body["text"]);
        Assert.Null(refusal.Body["reply_markup"]);
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 2, Wait);
        Assert.Empty(group.Telegram.Calls("setChatMenuButton", Stranger));
    }

    [Fact]
    public async Task A_broadcast_written_in_the_app_is_the_admins_own_message_copied_to_the_audience()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            "INSERT INTO users (user_id, status, subscribed_at, language_code) SELECT 300000 + n, 'active', now(), CASE WHEN n <= 3 THEN 'ru' ELSE 'en' END FROM generate_series(1, 8) n");
        using var admin = For(bot, BotAdmin);

        var (counted, count) = await PostAsync(admin, "app/api/broadcasts/audience-count", """{"audience":{"languages":["ru"]}}""");
        Assert.Equal(HttpStatusCode.OK, counted);
        Assert.Equal(3, count.GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(admin, "app/api/broadcasts", """{"text":"  "}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(admin, "app/api/broadcasts", """{"text":"x","scheduledAt":"2001-01-01T00:00:00Z"}""")).Status);

        var (created, broadcast) = await PostAsync(admin, "app/api/broadcasts", """{"text":"Meetup on Friday","audience":{"languages":["ru"]}}""");
        Assert.Equal(HttpStatusCode.Accepted, created);
        var id = broadcast.GetProperty("id").GetInt64();
        var own = Assert.Single(group.Telegram.Calls("sendMessage", BotAdmin));
        Assert.Equal("Meetup on Friday", (string?)own.Body["text"]);
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND state = 'done'", 1, Wait);
        var copies = group.Telegram.Calls("copyMessage").Where(c => c.Delivered).ToList();
        Assert.Equal([300001L, 300002L, 300003L], copies.Select(c => c.ChatId!.Value).Order().ToArray());
        Assert.All(copies, c => Assert.Equal(BotAdmin, (long)c.Body["from_chat_id"]!));

        var (_, list) = await GetAsync(admin, "app/api/broadcasts");
        var listed = list.GetProperty("broadcasts").EnumerateArray().First();
        Assert.Equal(id, listed.GetProperty("id").GetInt64());
        Assert.Equal(3, listed.GetProperty("sent").GetInt32());
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(admin, $"app/api/broadcasts/{id}/preview")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(admin, $"app/api/broadcasts/{id}/pause")).Status);
        Assert.Equal("miniapp:" + BotAdmin.ToString(CultureInfo.InvariantCulture), listed.GetProperty("requestedVia").GetString());
    }

    private Task<BotGroup> CreateGroupAsync(Dictionary<string, string?>? extra = null) => GroupAsync(postgres.Cluster, BotAdmin, extra);
}
