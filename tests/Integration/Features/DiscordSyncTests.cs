using System.Globalization;
using System.Net;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Features;

/// <summary>
/// Discord role sync on the published binary, against the fake Bot API and a stand-in Discord: /link, Discord's
/// redirect to the callback, the role at Discord; leaving the main group and /unlink; forged, expired and replayed
/// states; Discord's 429; the reconcile repairing drift both ways and a run cut short by a crash finished by the next
/// process from where it stopped.
/// </summary>
public sealed class DiscordSyncTests(SharedPostgres postgres)
{
    private const long MainChat = -1001000000001;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Http = new(new HttpClientHandler { AllowAutoRedirect = false });

    [Fact]
    public async Task A_link_adds_the_role_and_leaving_the_main_group_or_unlinking_removes_it_and_a_replayed_state_changes_nothing()
    {
        await using var discord = new FakeDiscord();
        discord.SetMember(5001, hasRole: false);
        await using var group = await CreateGroupAsync(discord);
        var bot = await group.StartAsync();
        group.Telegram.SetChatMember(MainChat, 901, "member");

        var callback = await LinkAsync(group, bot, discord, 901, 5001, updateId: 1);
        var linked = await GetAsync(callback);
        Assert.Equal(HttpStatusCode.OK, linked.Status);
        Assert.Contains("linked", linked.Body, StringComparison.Ordinal);
        Assert.Equal("no-referrer", linked.Headers["Referrer-Policy"]);
        Assert.StartsWith("default-src 'none'", linked.Headers["Content-Security-Policy"], StringComparison.Ordinal);
        await WaitForAsync(() => discord.HasRole(5001), "the role added at Discord");
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM discord_links WHERE user_id = 901 AND discord_user_id = 5001"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM discord_link_states"));
        await group.Telegram.WaitForCallsAsync(2, Wait, "sendMessage", 901);

        // The same redirect again (a reload, a replay by whoever saw the URL): refused, and nothing changes.
        var jobs = await group.ScalarAsync("SELECT count(*) FROM discord_role_jobs");
        var replay = await GetAsync(callback);
        Assert.Equal(HttpStatusCode.BadRequest, replay.Status);
        Assert.Equal(jobs, await group.ScalarAsync("SELECT count(*) FROM discord_role_jobs"));

        // Leaving the main group takes the role away; coming back gives it again; /unlink takes it away for good.
        group.Telegram.SetChatMember(MainChat, 901, "left");
        await BotGroup.PostAsync(bot, Updates.ChatMember(2, MainChat, 901, "member", "left"));
        await WaitForAsync(() => !discord.HasRole(5001), "the role removed after leaving");
        group.Telegram.SetChatMember(MainChat, 901, "member");
        await BotGroup.PostAsync(bot, Updates.ChatMember(3, MainChat, 901, "left", "member"));
        await WaitForAsync(() => discord.HasRole(5001), "the role back after rejoining");
        await BotGroup.PostAsync(bot, Updates.UserMessage(4, 901, "/unlink"));
        await WaitForAsync(() => !discord.HasRole(5001), "the role removed by /unlink");
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM discord_links"));
        BotProcess.ThrowIfLeaked([FakeDiscord.ClientSecret, FakeDiscord.BotToken, .. BotProcess.SecretsIn(group.Settings)], bot.Output);
        Assert.DoesNotContain("access-", bot.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("code-", bot.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forged_expired_or_malformed_state_is_refused_with_nothing_stored_and_the_callback_is_absent_while_the_flag_is_off()
    {
        await using var discord = new FakeDiscord();
        discord.SetMember(5002, hasRole: false);
        await using var group = await CreateGroupAsync(discord);
        var bot = await group.StartAsync();
        group.Telegram.SetChatMember(MainChat, 902, "member");
        var base_ = $"http://127.0.0.1:{bot.PublicPort}/discord/callback";

        var forged = new string('A', 43);
        foreach (var url in new[]
        {
            $"{base_}?code={discord.IssueCode(5002)}&state={forged}",
            $"{base_}?code={discord.IssueCode(5002)}",
            $"{base_}?state={forged}",
            $"{base_}?code={discord.IssueCode(5002)}&state=short",
            $"{base_}?code={discord.IssueCode(5002)}&state={forged}&state={forged}",
            $"{base_}?code={discord.IssueCode(5002)}&state=%27%3B--{new string('a', 37)}",
        })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(url)).Status);
        }

        // A state the bot issued, but past its ten minutes.
        var expired = await LinkAsync(group, bot, discord, 902, 5002, updateId: 1);
        await PostgresCluster.ExecuteAsync(group.ConnectionString, "UPDATE discord_link_states SET expires_at = now() - interval '1 second'");
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(expired)).Status);
        // A code Discord does not know: refused too, and the state stays for the real redirect.
        var unknownCode = await LinkAsync(group, bot, discord, 902, 5002, updateId: 2);
        var withBadCode = unknownCode[..unknownCode.IndexOf("code=", StringComparison.Ordinal)] + "code=not-issued&" + unknownCode[(unknownCode.IndexOf("state=", StringComparison.Ordinal))..];
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAsync(withBadCode)).Status);

        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM discord_links"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM discord_role_jobs"));
        Assert.Empty(discord.RoleCalls);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(unknownCode)).Status);

        await using var off = await CreateGroupAsync(discord, flag: false);
        var offBot = await off.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync($"http://127.0.0.1:{offBot.PublicPort}/discord/callback?code=x&state={forged}")).Status);
    }

    [Fact]
    public async Task Discords_429_pauses_role_changes_for_its_retry_after()
    {
        await using var discord = new FakeDiscord { RateLimitNext = 1, RetryAfter = TimeSpan.FromSeconds(2) };
        discord.SetMember(5003, hasRole: false);
        await using var group = await CreateGroupAsync(discord);
        var bot = await group.StartAsync();
        group.Telegram.SetChatMember(MainChat, 903, "member");

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(await LinkAsync(group, bot, discord, 903, 5003, updateId: 1))).Status);
        await WaitForAsync(() => discord.HasRole(5003), "the role added after the 429");

        var calls = discord.RoleCalls.ToArray();
        Assert.Equal([429, 204], calls.Select(c => c.Status));
        Assert.True(calls[1].At - calls[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {(calls[1].At - calls[0].At).TotalSeconds:0.00} s");
    }

    [Fact]
    public async Task The_reconcile_repairs_drift_both_ways_and_a_run_cut_short_by_a_crash_is_finished_from_where_it_stopped()
    {
        await using var discord = new FakeDiscord();
        // 6001: linked, in the main group, no role (add). 6002: not linked, holds the role (remove). 6003: linked, not in
        // the main group, holds it (remove). 6004: linked, in the group, holds it (nothing).
        discord.SetMember(6001, hasRole: false);
        discord.SetMember(6002, hasRole: true);
        discord.SetMember(6003, hasRole: true);
        discord.SetMember(6004, hasRole: true);
        // One member per page, and the page after 6002 hangs: the first process is killed while it waits.
        discord.SlowPageAfter = 6002;
        discord.SlowPageDelay = TimeSpan.FromSeconds(120);
        await using var group = await CreateGroupAsync(discord, extra: new() { ["Discord__ReconcilePageSize"] = "1" });
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            "INSERT INTO discord_links (user_id, discord_user_id) VALUES (911, 6001), (913, 6003), (914, 6004)");
        group.Telegram.SetChatMember(MainChat, 911, "member");
        group.Telegram.SetChatMember(MainChat, 914, "member");

        var first = await group.StartAsync();
        await WaitForAsync(() => discord.MemberPages.Contains(6002UL), "the reconcile to reach the page after 6002");
        await WaitForAsync(() => !discord.HasRole(6002) && discord.HasRole(6001), "the first two members settled");
        first.Kill();
        Assert.Equal(6002, await group.ScalarAsync("SELECT cursor_id FROM discord_reconcile WHERE started_at IS NOT NULL AND finished_at IS NULL"));

        discord.SlowPageAfter = null;
        var pagesBefore = discord.MemberPages.Count;
        await group.StartAsync();
        await group.WaitForAsync("SELECT count(*) FROM discord_reconcile WHERE finished_at IS NOT NULL AND started_at IS NULL", 1, Wait);
        Assert.Equal(6002UL, discord.MemberPages.Skip(pagesBefore).First());
        await WaitForAsync(() => !discord.HasRole(6003), "the role of a linked user outside the main group removed");
        Assert.True(discord.HasRole(6001));
        Assert.False(discord.HasRole(6002));
        Assert.True(discord.HasRole(6004));
        Assert.DoesNotContain(discord.RoleCalls, c => c.User == 6004);
    }

    /// <summary>/link from <paramref name="userId"/>; returns the callback URL Discord would redirect to, with a code for <paramref name="discordUser"/>.</summary>
    private static async Task<string> LinkAsync(BotGroup group, BotProcess bot, FakeDiscord discord, long userId, ulong discordUser, long updateId)
    {
        var before = group.Telegram.Calls("sendMessage", userId).Count;
        await BotGroup.PostAsync(bot, Updates.UserMessage(updateId, userId, "/link"));
        var sent = await group.Telegram.WaitForCallsAsync(before + 1, Wait, "sendMessage", userId);
        var url = new Uri((string)sent[^1].Body["reply_markup"]!["inline_keyboard"]![0]![0]!["url"]!);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("identify", query["scope"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(FakeDiscord.ClientId, query["client_id"]);
        return $"http://127.0.0.1:{bot.PublicPort}/discord/callback?code={discord.IssueCode(discordUser)}&state={Uri.EscapeDataString(query["state"]!)}";
    }

    private static async Task<(HttpStatusCode Status, string Body, Dictionary<string, string> Headers)> GetAsync(string url)
    {
        using var response = await Http.GetAsync(new Uri(url));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(),
            response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase));
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    private Task<BotGroup> CreateGroupAsync(FakeDiscord discord, bool flag = true, Dictionary<string, string?>? extra = null)
    {
        var settings = discord.Settings("https://bot.example.com");
        settings["Bot__MainChatId"] = MainChat.ToString(CultureInfo.InvariantCulture);
        settings["FeatureFlags__DiscordSync"] = flag ? "true" : "false";
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return BotGroup.CreateAsync(postgres.Cluster, settings);
    }
}
