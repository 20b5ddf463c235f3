using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Features;

/// <summary>/start, /stop and /lang as a user sees them, and flood control.</summary>
public sealed class SubscriptionTests(SharedPostgres postgres)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_subscribes_with_its_deep_link_source_and_lang_ru_switches_every_following_reply()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        var bot = await group.StartAsync();
        const long user = 501;

        await BotGroup.PostAsync(bot, Updates.UserMessage(1, user, "/start promo_2026"));
        Assert.Equal(BotTexts.Get("en", "Subscriptions.subscribed"), (await group.Telegram.WaitForDeliveriesAsync(1, Wait))[^1].Text);
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM users WHERE user_id = {user} AND status = 'active' AND source = 'promo_2026'"));

        await BotGroup.PostAsync(bot, Updates.UserMessage(2, user, "/lang ru"));
        Assert.Equal(BotTexts.Get("ru", "Subscriptions.lang_set"), (await group.Telegram.WaitForDeliveriesAsync(2, Wait))[^1].Text);

        // Telegram still says "en" for this user: the choice wins from now on, in every feature.
        await BotGroup.PostAsync(bot, Updates.UserMessage(3, user, "/help"));
        // The help is made from every feature's commands, in the user's language.
        var help = (await group.Telegram.WaitForDeliveriesAsync(3, Wait))[^1].Text!;
        Assert.StartsWith(BotTexts.Get("ru", "Help.help") + "\n/start – " + BotTexts.Get("ru", "Subscriptions.command_start"), help, StringComparison.Ordinal);
        Assert.Contains("/help – " + BotTexts.Get("ru", "Help.command_help"), help, StringComparison.Ordinal);
        Assert.DoesNotContain("/broadcast", help, StringComparison.Ordinal);
        await BotGroup.PostAsync(bot, Updates.UserMessage(4, user, "/start again"));
        Assert.Equal(BotTexts.Get("ru", "Subscriptions.already_subscribed"), (await group.Telegram.WaitForDeliveriesAsync(4, Wait))[^1].Text);
        await BotGroup.PostAsync(bot, Updates.UserMessage(5, user, "/stop"));
        Assert.Equal(BotTexts.Get("ru", "Subscriptions.stopped"), (await group.Telegram.WaitForDeliveriesAsync(5, Wait))[^1].Text);

        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM users WHERE user_id = {user} AND status = 'stopped' AND language = 'ru' AND source = 'promo_2026'"));
    }

    [Fact]
    public async Task A_russian_language_code_gets_russian_from_the_start()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        var bot = await group.StartAsync();

        await BotGroup.PostAsync(bot, Updates.UserMessage(1, 502, "/start", languageCode: "ru"));
        Assert.Equal(BotTexts.Get("ru", "Subscriptions.subscribed"), (await group.Telegram.WaitForDeliveriesAsync(1, Wait))[^1].Text);
    }

    [Fact]
    public async Task Flood_control_warns_once_at_n_plus_1_ignores_the_rest_and_releases_after_the_window()
    {
        const int limit = 5;
        const long user = 503;
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["FeatureFlags__FloodControl"] = "true",
            ["Bot__FloodMaxUpdates"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bot__FloodWindowSeconds"] = "10",
        });
        var bot = await group.StartAsync();

        // N + 3 updates inside one window: N answered, one warning, two dropped.
        for (var n = 1; n <= limit + 3; n++)
        {
            await BotGroup.PostAsync(bot, Updates.UserMessage(n, user, $"message {n}"));
        }

        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", limit + 3, Wait);
        var replies = await group.Telegram.WaitForDeliveriesAsync(limit + 1, Wait);
        Assert.Equal(limit + 1, group.Telegram.Deliveries(user).Count);
        Assert.All(replies.Take(limit), r => Assert.Equal(BotTexts.Get("en", "Help.hint"), r.Text));
        Assert.StartsWith(BotTexts.Prefix("en", "FloodControl.warning"), replies[limit].Text, StringComparison.Ordinal);

        // The window is counted from the first update's arrival; after it the user is heard again.
        await Task.Delay(TimeSpan.FromSeconds(11));
        await BotGroup.PostAsync(bot, Updates.UserMessage(100, user, "back"));
        var after = await group.Telegram.WaitForDeliveriesAsync(limit + 2, Wait);
        Assert.Equal(BotTexts.Get("en", "Help.hint"), after[^1].Text);
    }

    [Fact]
    public async Task Flood_control_counts_a_group_of_updates_in_one_statement_and_a_user_twice_in_one_group_in_order()
    {
        const int limit = 3;
        const long chat = -100777;
        var users = Enumerable.Range(1, 6).Select(i => 600L + i).ToList();
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["FeatureFlags__FloodControl"] = "true",
            ["Bot__FloodMaxUpdates"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Bot__FloodWindowSeconds"] = "300",
        });
        // A backlog before the bot starts: each user writes five private messages and one /help in a shared group
        // chat. The first claim takes every chat's head (the six private chats and the group's first /help, from
        // the first user), so the first transaction holds that user twice.
        var rows = new List<string>();
        var id = 1000L;
        foreach (var user in users)
        {
            for (var n = 0; n < 5; n++)
            {
                rows.Add($"({++id}, {user}, 'message', '{Updates.UserMessage(id, user, "hello")}')");
            }
        }

        foreach (var user in users)
        {
            var inGroup = $$$"""{"update_id":{{{++id}}},"message":{"message_id":{{{id}}},"date":1700000000,"chat":{"id":{{{chat}}},"type":"supergroup","title":"G"},"from":{"id":{{{user}}},"is_bot":false,"first_name":"T","language_code":"en"},"text":"/help"}}""";
            rows.Add($"({id}, {chat}, 'message', '{inGroup}')");
        }

        await group.ScalarAsync($"INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES {string.Join(", ", rows)} RETURNING 1");
        await group.StartAsync();

        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", rows.Count, Wait);
        // Each user: six updates counted, three answered, one warning, two dropped, whatever the order of their chats.
        Assert.Equal(users.Count, await group.ScalarAsync($"SELECT count(*) FROM flood_windows WHERE updates = 6 AND warned"));
        foreach (var user in users)
        {
            Assert.Equal(limit + 1, await group.ScalarAsync(
                $"SELECT count(*) FROM outbox o JOIN inbox i ON i.update_id = o.source_update_id WHERE (i.payload::jsonb #>> '{{message,from,id}}')::bigint = {user}"));
        }

        var replies = await group.Telegram.WaitForDeliveriesAsync(users.Count * (limit + 1), Wait);
        Assert.Equal(users.Count, replies.Count(r => r.Text!.StartsWith(BotTexts.Prefix("en", "FloodControl.warning"), StringComparison.Ordinal)));
        // The same user's private message and group /help shared a transaction, and so one counting statement.
        Assert.True(await group.ScalarAsync(
            $"SELECT count(*) FROM inbox g JOIN inbox p ON p.processed_at = g.processed_at AND p.chat_id = (g.payload::jsonb #>> '{{message,from,id}}')::bigint WHERE g.chat_id = {chat}") > 0);
    }

    [Fact]
    public async Task A_flag_flipped_in_the_mounted_config_file_changes_behaviour_without_a_restart()
    {
        var config = Directory.CreateTempSubdirectory("bot-config-");
        try
        {
            var file = Path.Combine(config.FullName, "appsettings.json");
            await File.WriteAllTextAsync(file, """{ "FeatureFlags": { "Subscriptions": false } }""");
            await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?> { ["Config__Directory"] = config.FullName });
            var bot = await group.StartAsync();
            const long user = 504;

            // Off: /start only says hello (the help feature), nobody is subscribed.
            await BotGroup.PostAsync(bot, Updates.UserMessage(1, user, "/start"));
            Assert.Equal(BotTexts.Get("en", "Help.welcome"), (await group.Telegram.WaitForDeliveriesAsync(1, Wait))[^1].Text);
            Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM users WHERE status = 'active'"));

            await File.WriteAllTextAsync(file, """{ "FeatureFlags": { "Subscriptions": true } }""");
            var flipped = System.Diagnostics.Stopwatch.StartNew();
            var updateId = 2;
            while (await group.ScalarAsync("SELECT count(*) FROM users WHERE status = 'active'") == 0)
            {
                Assert.True(flipped.Elapsed < TimeSpan.FromSeconds(30), "the flag flip was not picked up within 30 s");
                await BotGroup.PostAsync(bot, Updates.UserMessage(updateId, user, "/start"));
                await group.Telegram.WaitForDeliveriesAsync(updateId, Wait);
                updateId++;
            }

            Assert.Equal(BotTexts.Get("en", "Subscriptions.subscribed"), group.Telegram.Deliveries(user)[^1].Text);
            Assert.False(bot.HasExited);
        }
        finally
        {
            config.Delete(recursive: true);
        }
    }
}
