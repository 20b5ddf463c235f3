using System.Globalization;
using Bot.Tests.Integration.Infrastructure;
using static Bot.Tests.Integration.Infrastructure.MiniAppClient;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// The admin Mini App in headless Chromium: the real page, served by the bot binary under test (the AOT binary in CI),
/// opened as Telegram opens it (signed initData and theme in the URL's fragment), over real PostgreSQL and the fake Bot
/// API. Each test saves screenshots of the pages it visits (artifacts/test-results/screenshots) and fails on any
/// Content-Security-Policy violation or script error.
/// </summary>
public sealed class MiniAppBrowserTests(SharedPostgres postgres)
{
    private const long BotAdmin = 9201;
    private const long ChatAdmin = 9202;
    private const long Stranger = 9203;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_overview_draws_its_charts_from_the_database()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            $"""
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at, entry, check_kind, held, chat_title)
            SELECT {Gated}, n, n, 800000 + n, now() - make_interval(days => n % 9), CASE WHEN n % 4 = 0 THEN 'declined' ELSE 'approved' END,
                   'correct_answer', now(), now() - make_interval(days => n % 9), CASE WHEN n % 8 = 0 THEN 'direct' ELSE 'request' END, 'arithmetic', false, 'Gated Club'
            FROM generate_series(1, 40) n;
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, deadline, entry, check_kind, chat_title)
            VALUES ({Gated}, 99, 99, 899999, now(), 'pending', now() + interval '5 minutes', 'request', 'emoji', 'Gated Club');
            INSERT INTO flood_warnings (chat_id, user_id, warned_at) VALUES ({Gated}, 1, now()), ({Gated}, 2, now() - interval '2 days');
            INSERT INTO gate_raid_periods (chat_id, started_at, until, joins) VALUES ({Gated}, now() - interval '3 days', now() - interval '3 days' + interval '12 minutes', 26);
            """);
        var expectedToday = await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND requested_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'");
        var expectedApproved = await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE chat_id = {Gated} AND state = 'approved' AND requested_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'");
        await using var browser = await Browser.StartAsync();

        await OpenAsync(browser, bot, BotAdmin);
        // A bot admin sees every gated chat; this one is picked.
        await browser.WaitForAsync($"#chat-select option[value=\"{OtherGated}\"]");
        await browser.SelectAsync("#chat-select", Gated.ToString(CultureInfo.InvariantCulture));
        await browser.WaitForAsync("svg#funnel-chart rect[data-step=\"requested\"][data-value=\"41\"]");
        Assert.Equal(["requested", "checked", "passed", "retained"], await browser.AttrsAsync("svg#funnel-chart rect[data-step]", "data-step"));
        Assert.Equal(["41", "41", "30"], (await browser.AttrsAsync("svg#funnel-chart rect[data-step]", "data-value")).Take(3));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.Equal(expectedToday.ToString(CultureInfo.InvariantCulture),
            await browser.AttrAsync($"svg#days-chart rect[data-day=\"{today}\"][data-series=\"requested\"]", "data-value"));
        Assert.Equal(14, (await browser.AttrsAsync("svg#days-chart rect[data-series=\"requested\"]", "data-day")).Distinct().Count());
        Assert.Equal(expectedApproved.ToString(CultureInfo.InvariantCulture), (await browser.TextAsync("[data-count=\"today.approved\"]"))?.Trim());
        Assert.Equal("1", (await browser.TextAsync("[data-count=\"today.pending\"]"))?.Trim());
        Assert.Equal("1", (await browser.TextAsync("[data-count=\"flood.today\"]"))?.Trim());
        Assert.Equal("2", (await browser.TextAsync("[data-count=\"flood.week\"]"))?.Trim());
        Assert.Equal(1, await browser.CountAsync("#raids li"));
        await browser.ScreenshotAsync("overview");
        await AssertNoProblemsAsync(browser);
    }

    [Fact]
    public async Task A_chat_admin_sees_only_their_chat_and_no_broadcasts()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        group.Telegram.SetChatMember(OtherGated, ChatAdmin, "member");
        var bot = await group.StartAsync();
        await using var browser = await Browser.StartAsync();

        await OpenAsync(browser, bot, ChatAdmin);
        await browser.WaitForAsync("svg#funnel-chart rect[data-step]");
        Assert.Equal([Gated.ToString(CultureInfo.InvariantCulture)], await browser.AttrsAsync("#chat-select option", "value"));
        Assert.Equal(0, await browser.CountAsync("button[data-tab=\"broadcasts\"]:visible"));
        await browser.ScreenshotAsync("overview-chat-admin");

        await browser.ClickAsync("button[data-tab=\"settings\"]");
        await browser.WaitForAsync("#settings-form [name=\"attempts\"]", state: "visible");
        await browser.FillAsync("#settings-form [name=\"attempts\"]", "4");
        await browser.ClickAsync("#settings-form button[type=\"submit\"]");
        await group.WaitForAsync($"SELECT count(*) FROM gate_settings_audit WHERE chat_id = {Gated} AND user_id = {ChatAdmin} AND setting = 'attempts' AND new_value = '4'", 1, Wait);
        await browser.WaitForAsync("#audit tr:has-text(\"attempts\")");
        await browser.ScreenshotAsync("settings");
        await AssertNoProblemsAsync(browser);
    }

    [Fact]
    public async Task Approving_from_the_queue_approves_at_telegram()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, ChatAdmin, "administrator");
        var bot = await group.StartAsync();
        const long requester = 7301;
        group.Telegram.SetChatMember(MainChat, requester, "left");
        group.Telegram.AddJoinRequest(Gated, requester);
        await BotGroup.PostAsync(bot, Updates.JoinRequest(1, Gated, requester));
        await group.WaitForAsync($"SELECT count(*) FROM join_requests WHERE user_id = {requester} AND state = 'pending'", 1, Wait);
        var id = await group.ScalarAsync($"SELECT id FROM join_requests WHERE user_id = {requester}");
        await using var browser = await Browser.StartAsync();

        await OpenAsync(browser, bot, ChatAdmin);
        await browser.ClickAsync("button[data-tab=\"queue\"]");
        var row = $"#queue tr[data-request-id=\"{id}\"]";
        await browser.WaitForAsync(row, state: "visible");
        await browser.ScreenshotAsync("queue");
        await browser.ClickAsync($"{row} button[data-action=\"approve\"]");

        var approval = Assert.Single(await group.Telegram.WaitForCallsAsync(1, Wait, "approveChatJoinRequest"));
        Assert.Equal(requester, (long)approval.Body["user_id"]!);
        Assert.Equal(Gated, (long)approval.Body["chat_id"]!);
        await browser.WaitForAsync(row, state: "detached");
        await browser.WaitForAsync("#queue-empty", state: "visible");
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM join_requests WHERE id = {id} AND state = 'approved' AND decided_by = {ChatAdmin}"));
        await AssertNoProblemsAsync(browser);
    }

    [Fact]
    public async Task A_broadcasts_progress_bar_moves_while_it_sends()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        // Enough recipients that, at Telegram's 30 messages a second, the page polls it several times on the way.
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            "INSERT INTO users (user_id, status, subscribed_at, language_code) SELECT 400000 + n, 'active', now(), 'en' FROM generate_series(1, 240) n");
        await using var browser = await Browser.StartAsync();

        await OpenAsync(browser, bot, BotAdmin);
        await browser.ClickAsync("button[data-tab=\"broadcasts\"]");
        await browser.WaitForAsync("#broadcast-form textarea[name=\"text\"]", state: "visible");
        await browser.WaitForAsync("#audience-count:has-text(\"240\")");
        await browser.FillAsync("#broadcast-form textarea[name=\"text\"]", "The meetup moves to Friday");
        await browser.ClickAsync("#broadcast-form button[type=\"submit\"]");

        var fill = "[data-broadcast-id] .fill[data-progress]";
        await browser.WaitForAsync(fill);
        var seen = new SortedSet<int>();
        await Browser.EventuallyAsync(async () =>
        {
            var progress = int.Parse((await browser.AttrAsync(fill, "data-progress"))!, CultureInfo.InvariantCulture);
            if (progress is > 0 and < 100 && !seen.Any(p => p is > 0 and < 100))
            {
                await browser.ScreenshotAsync("broadcasts-sending");
            }

            seen.Add(progress);

            return seen.Max;
        }, max => max == 100, TimeSpan.FromSeconds(60), "the progress");

        // It moved: values between the start and the end were shown on the way, rising.
        Assert.True(seen.Count(p => p is > 0 and < 100) >= 2, "progress seen: " + string.Join(", ", seen));
        await browser.WaitForAsync("[data-broadcast-id][data-state=\"done\"]");
        await browser.ScreenshotAsync("broadcasts");
        Assert.Equal(240, group.Telegram.Calls("copyMessage").Count(c => c.Delivered));
        await AssertNoProblemsAsync(browser);
    }

    [Fact]
    public async Task Someone_who_is_not_an_admin_gets_the_refusal_page()
    {
        await using var group = await CreateGroupAsync();
        group.Telegram.SetChatMember(Gated, Stranger, "member");
        var bot = await group.StartAsync();
        await using (var browser = await Browser.StartAsync())
        {
            await OpenAsync(browser, bot, Stranger);
            await browser.WaitForAsync("#refusal[data-reason=\"forbidden\"]", state: "visible");
            Assert.Equal(0, await browser.CountAsync("#chat-select option"));
            Assert.Equal(0, await browser.CountAsync("[data-panel]:visible"));
            await browser.ScreenshotAsync("refusal");
            await AssertNoProblemsAsync(browser);
        }

        // Opened outside Telegram: no initData at all.
        await using (var browser = await Browser.StartAsync())
        {
            await browser.GotoAsync($"http://127.0.0.1:{bot.PublicPort}/app/");
            await browser.WaitForAsync("#refusal[data-reason=\"unauthenticated\"]", state: "visible");
            await AssertNoProblemsAsync(browser);
        }
    }

    /// <summary>Opens the app as Telegram does, with a signed initData and a dark theme in the fragment.</summary>
    private static Task OpenAsync(Browser browser, BotProcess bot, long userId) =>
        browser.GotoAsync($"http://127.0.0.1:{bot.PublicPort}/app/#tgWebAppData={Uri.EscapeDataString(InitDataFor(userId))}&tgWebAppVersion=8.0"
            + "&tgWebAppPlatform=tdesktop&tgWebAppThemeParams="
            + Uri.EscapeDataString("""{"bg_color":"#17212b","text_color":"#f5f5f5","hint_color":"#708499","link_color":"#6ab3f3","button_color":"#5288c1","button_text_color":"#ffffff","secondary_bg_color":"#232e3c"}"""));

    /// <summary>No CSP violation, script error or failed request (a refused call's own 4xx is the page's to show, not a problem).</summary>
    private static async Task AssertNoProblemsAsync(Browser browser) =>
        Assert.DoesNotContain(await browser.ProblemsAsync(), p => !p.Contains("Failed to load resource: the server responded with a status of 4", StringComparison.Ordinal));

    private Task<BotGroup> CreateGroupAsync() => GroupAsync(postgres.Cluster, BotAdmin);
}
