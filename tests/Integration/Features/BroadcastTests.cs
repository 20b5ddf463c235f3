using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Features;

/// <summary>Broadcasts to thousands of subscribers through crashes and deploys, and the admin API.</summary>
public sealed class BroadcastTests(SharedPostgres postgres)
{
    private const long Admin = 9001;
    private const string AdminToken = "integration-admin-token-0123456789";
    private const int Subscribers = 5000;
    private const int Blocked = 150; // 3%

    [Fact]
    public async Task A_broadcast_to_5000_with_3_percent_blocked_survives_a_kill_and_reaches_everyone_once_but_the_calls_in_flight()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedSubscribersAsync(group);

        await SendFromTelegramAsync(group, bot);
        await WaitForCopiesAsync(group, Subscribers / 3);
        var inFlightBound = 32; // Sender:MaxInFlight: the calls a crash can leave with an unknown outcome
        bot.Kill();
        await bot.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var sendingAtCrash = await group.ScalarAsync("SELECT count(*) FROM outbox WHERE broadcast_id IS NOT NULL AND state = 'sending'");
        Assert.InRange(sendingAtCrash, 0, inFlightBound);

        await group.StartAsync();
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE state = 'done'", 1, TimeSpan.FromSeconds(120));

        var copies = CopiesByRecipient(group);
        var active = Enumerable.Range(1, Subscribers).Select(i => 100_000L + i).Where(id => !IsBlocked(id)).ToList();
        Assert.All(active, id => Assert.True(copies.GetValueOrDefault(id) >= 1, $"subscriber {id} got nothing"));
        // Only a call that was under way at the kill may be repeated: at least once, with the window of the calls in flight.
        var duplicates = copies.Values.Sum(n => n - 1);
        Assert.InRange(duplicates, 0, sendingAtCrash);
        Assert.DoesNotContain(copies.Keys.Where(IsBlocked), id => copies[id] > 1);
        await AssertFinalCountsAsync(group);
    }

    [Fact]
    public async Task A_deploy_mid_broadcast_resumes_it_without_resending_anything()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedSubscribersAsync(group);

        await SendFromTelegramAsync(group, bot);
        await WaitForCopiesAsync(group, Subscribers / 3);
        bot.Terminate();
        Assert.Equal(0, await bot.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM outbox WHERE state = 'sending'"));

        await group.StartAsync();
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE state = 'done'", 1, TimeSpan.FromSeconds(120));

        var copies = CopiesByRecipient(group);
        Assert.Equal(Subscribers - Blocked, copies.Count(c => !IsBlocked(c.Key)));
        Assert.All(copies, c => Assert.Equal(1, c.Value));
        await AssertFinalCountsAsync(group);
    }

    [Fact]
    public async Task Cancel_stops_a_broadcast_and_withdraws_what_was_not_sent()
    {
        await using var group = await CreateGroupAsync(globalPerSecond: 30);
        var bot = await group.StartAsync();
        await SeedSubscribersAsync(group, 600);

        await SendFromTelegramAsync(group, bot);
        await WaitForCopiesAsync(group, 30);
        await BotGroup.PostAsync(bot, Updates.UserMessage(2, Admin, "/cancel"));
        await group.WaitForAsync("SELECT count(*) FROM broadcasts WHERE state = 'cancelled'", 1, TimeSpan.FromSeconds(30));
        await group.WaitForAsync("SELECT count(*) FROM outbox WHERE broadcast_id IS NOT NULL AND state IN ('pending', 'sending')", 0, TimeSpan.FromSeconds(30));

        var sent = await group.ScalarAsync("SELECT count(*) FROM outbox WHERE broadcast_id IS NOT NULL AND state = 'sent'");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(sent, group.Telegram.Calls("copyMessage").Count(c => c.Delivered));
        Assert.InRange(sent, 30, 599);
        var confirmation = BotTexts.Get("en", "Broadcasts.cancelled").Replace("{id}", "1", StringComparison.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!group.Telegram.Deliveries(Admin).Any(d => d.Text == confirmation))
        {
            Assert.True(DateTime.UtcNow < deadline, "the admin was not told the broadcast was cancelled");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Only_admins_may_broadcast_and_stats_counts_what_happened()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedSubscribersAsync(group, 10);

        await BotGroup.PostAsync(bot, Updates.UserMessage(1, 42, "/broadcast", replyTo: 5, messageId: 6));
        Assert.Equal(BotTexts.Get("en", "Broadcasts.admins_only"), (await group.Telegram.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30)))[^1].Text);
        await BotGroup.PostAsync(bot, Updates.UserMessage(2, Admin, "/broadcast"));
        Assert.Equal(BotTexts.Get("en", "Broadcasts.reply_needed"), (await group.Telegram.WaitForDeliveriesAsync(2, TimeSpan.FromSeconds(30)))[^1].Text);
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM broadcasts"));

        await BotGroup.PostAsync(bot, Updates.UserMessage(3, Admin, "/stats"));
        var stats = (await group.Telegram.WaitForDeliveriesAsync(3, TimeSpan.FromSeconds(30)))[^1].Text!;
        // One line per feature that reports counts, in the order of the feature list.
        Assert.StartsWith(BotTexts.Prefix("en", "JoinGate.stats") + "0 ", stats, StringComparison.Ordinal);
        Assert.Contains(BotTexts.Prefix("en", "Subscriptions.stats") + "10\n", stats, StringComparison.Ordinal);
        Assert.Contains(BotTexts.Prefix("en", "Broadcasts.stats") + "0 (", stats, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_api_refuses_a_missing_or_wrong_token_and_its_openapi_document_lists_every_route()
    {
        await using var group = await CreateGroupAsync();
        var bot = await group.StartAsync();
        await SeedSubscribersAsync(group, 20);
        using var http = new HttpClient { BaseAddress = bot.InternalUri };

        foreach (var token in new[] { null, "wrong-token-wrong-token", AdminToken + "x", "" })
        {
            foreach (var (method, path) in new[] { ("GET", "admin/stats"), ("GET", "admin/join-requests"), ("GET", "admin/broadcasts"), ("GET", "admin/broadcasts/1"), ("POST", "admin/broadcasts"), ("POST", "admin/broadcasts/1/cancel"), ("POST", "admin/broadcasts/audience-count"), ("POST", "admin/broadcasts/1/send"), ("POST", "admin/broadcasts/1/pause"), ("POST", "admin/broadcasts/1/resume"), ("POST", "admin/broadcasts/1/edit"), ("POST", "admin/broadcasts/1/withdraw"), ("POST", "admin/broadcasts/1/preview"), ("GET", "admin/broadcasts/1/deliveries"), ("PUT", "admin/audience-lists/vip"), ("GET", "admin/audience-lists"), ("GET", "admin/audience-lists/vip"), ("DELETE", "admin/audience-lists/vip") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (token is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }

        // The admin API is on the internal port only.
        using (var publicPort = await http.GetAsync(new Uri($"http://127.0.0.1:{bot.PublicPort}/admin/stats")))
        {
            Assert.Equal(HttpStatusCode.NotFound, publicPort.StatusCode);
        }

        using var document = JsonDocument.Parse(await http.GetStringAsync("openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/admin/broadcasts", out var broadcasts));
        Assert.True(broadcasts.TryGetProperty("post", out _));
        Assert.True(broadcasts.TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/admin/broadcasts/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/admin/broadcasts/{id}/cancel").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/admin/stats").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/admin/join-requests").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/admin/gate-settings/{chatId}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/admin/gate-settings-audit").TryGetProperty("get", out _));
        // Twenty routes on seventeen paths, and nothing but the admin API.
        Assert.Equal(20, paths.EnumerateObject().Sum(p => p.Value.EnumerateObject().Count()));
        Assert.All(paths.EnumerateObject(), p => Assert.StartsWith("/admin/", p.Name, StringComparison.Ordinal));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());

        // With the token: bad input is a clear 400; a good request starts a broadcast that runs to the end.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using (var bad = await http.PostAsync("admin/broadcasts", Json("""{"fromChatId":0,"messageId":-1}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("messageId", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var malformed = await http.PostAsync("admin/broadcasts", Json("""{"fromChatId":""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        using var created = await http.PostAsync("admin/broadcasts", Json($$"""{"fromChatId":{{Admin}},"messageId":77,"statusChatId":{{Admin}}}"""));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        await group.WaitForAsync($"SELECT count(*) FROM broadcasts WHERE id = {id} AND state = 'done'", 1, TimeSpan.FromSeconds(60));
        using var view = JsonDocument.Parse(await http.GetStringAsync($"admin/broadcasts/{id}"));
        Assert.Equal("done", view.RootElement.GetProperty("state").GetString());
        Assert.Equal(20 - 0, view.RootElement.GetProperty("sent").GetInt32() + view.RootElement.GetProperty("blocked").GetInt32());

        using var again = await http.PostAsync($"admin/broadcasts/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var missing = await http.GetAsync("admin/broadcasts/999999");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var stats = JsonDocument.Parse(await http.GetStringAsync("admin/stats"));
        Assert.Equal(20, stats.RootElement.GetProperty("active").GetInt64() + stats.RootElement.GetProperty("blocked").GetInt64());
    }

    /// <summary>
    /// An admin's broadcast from Telegram: /broadcast replied to message 77 makes draft 1 and its menu, and Send now
    /// (the menu's button) starts it.
    /// </summary>
    internal static async Task SendFromTelegramAsync(BotGroup group, BotProcess bot, long broadcast = 1, long updateId = 1)
    {
        var menu = await DraftFromTelegramAsync(group, bot, "/broadcast", 77, updateId);
        await BotGroup.PostAsync(bot, Updates.Callback(updateId + 5_000, Admin, $"bc:{broadcast}:go", menu));
    }

    /// <summary>Posts an admin's <paramref name="command"/> replied to <paramref name="replyTo"/>; returns the id of the menu message the bot answers with.</summary>
    internal static async Task<int> DraftFromTelegramAsync(BotGroup group, BotProcess bot, string command, int replyTo, long updateId)
    {
        var before = group.Telegram.Deliveries(Admin).Count;
        await BotGroup.PostAsync(bot, Updates.UserMessage(updateId, Admin, command, replyTo: replyTo, messageId: updateId + 10_000));
        var title = BotTexts.Prefix("en", "Broadcasts.menu_title");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (group.Telegram.Deliveries(Admin).Skip(before).FirstOrDefault(d => d.Text?.StartsWith(title, StringComparison.Ordinal) == true) is { } menu)
            {
                return menu.MessageId;
            }

            Assert.True(DateTime.UtcNow < deadline, "no broadcast menu within 30 s: " + string.Join(" | ", group.Telegram.Deliveries(Admin).Select(d => d.Text)));
            await Task.Delay(50);
        }
    }

    private static string EditedText(CallRecord call) => call.Body["text"]?.GetValue<string>() ?? "";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static bool IsBlocked(long user) => (user - 100_000) % 33 == 0 && (user - 100_000) / 33 <= Blocked;

    private async Task<BotGroup> CreateGroupAsync(int globalPerSecond = 300)
    {
        // The broadcast's correctness does not depend on the rate: raise Telegram's global limit (in the fake and
        // the bot alike) so that 5,000 messages take seconds, not minutes.
        var limits = RateLimits.Telegram with { Global = new WindowLimit(globalPerSecond, TimeSpan.FromSeconds(1)) };
        return await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Admin__UserIds"] = Admin.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Admin__Token"] = AdminToken,
            ["Sender__GlobalPerSecond"] = globalPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Broadcasts__StatusIntervalSeconds"] = "1",
            // The token test fails authentication two dozen times from one address; the throttle has its own tests.
            ["Admin__FailedAuthenticationsPerMinute"] = "1000",
        }, new FakeTelegramOptions { RateLimits = limits });
    }

    /// <summary>Subscribers 100001… (every 33rd of the first 4,950 has blocked the bot at Telegram) straight into the table.</summary>
    private static async Task SeedSubscribersAsync(BotGroup group, int count = Subscribers)
    {
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            $"INSERT INTO users (user_id, status, subscribed_at) SELECT 100000 + n, 'active', now() FROM generate_series(1, {count}) n");
        foreach (var user in Enumerable.Range(1, count).Select(i => 100_000L + i).Where(IsBlocked))
        {
            group.Telegram.BlockChat(user);
        }
    }

    private static async Task WaitForCopiesAsync(BotGroup group, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (group.Telegram.Calls("copyMessage").Count(c => c.Delivered) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} copies within 90 s");
            await Task.Delay(50);
        }
    }

    private static Dictionary<long, int> CopiesByRecipient(BotGroup group) =>
        group.Telegram.Calls("copyMessage").Where(c => c.Delivered && c.ChatId is not null)
            .GroupBy(c => c.ChatId!.Value).ToDictionary(g => g.Key, g => g.Count());

    private static async Task AssertFinalCountsAsync(BotGroup group)
    {
        Assert.Equal(Subscribers - Blocked, await group.ScalarAsync("SELECT sent FROM broadcasts"));
        Assert.Equal(Blocked, await group.ScalarAsync("SELECT blocked FROM broadcasts"));
        Assert.Equal(0, await group.ScalarAsync("SELECT failed FROM broadcasts"));
        Assert.Equal(Blocked, await group.ScalarAsync("SELECT count(*) FROM users WHERE status = 'blocked'"));
        Assert.Equal(Subscribers - Blocked, await group.ScalarAsync("SELECT count(*) FROM users WHERE status = 'active'"));

        // The status message ends with the right counts (its last edit is sent within a few seconds of the end).
        var final = BotTexts.Get("en", "Broadcasts.status").Replace("{id}", "1", StringComparison.Ordinal).Replace("{state}", BotTexts.Get("en", "Broadcasts.state_done"), StringComparison.Ordinal)
            .Replace("{sent}", $"{Subscribers - Blocked}", StringComparison.Ordinal).Replace("{total}", $"{Subscribers}", StringComparison.Ordinal)
            .Replace("{failed}", "0", StringComparison.Ordinal).Replace("{blocked}", $"{Blocked}", StringComparison.Ordinal);
        var finalPrefix = final[..final.IndexOf("{rate}", StringComparison.Ordinal)];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!group.Telegram.Calls("editMessageText", Admin).Any(c => c.Status == 200 && EditedText(c).StartsWith(finalPrefix, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the status message never showed:\n{finalPrefix}\nlast: {group.Telegram.Calls("editMessageText", Admin).Select(EditedText).LastOrDefault()}");
            await Task.Delay(100);
        }
    }
}
