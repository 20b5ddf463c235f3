using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Processing;

public sealed class PollingAndWebhookTests(SharedPostgres postgres)
{
    [Fact]
    public async Task In_polling_mode_start_sent_by_a_user_arrives_and_gets_a_reply()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?> { ["Telegram__Mode"] = "Polling" });
        await group.StartAsync();

        group.Telegram.EnqueueUpdate(Updates.Message(500, 77, "/start"));
        group.Telegram.EnqueueUpdate(Updates.Message(501, 77, "/help"));

        var replies = await group.Telegram.WaitForDeliveriesAsync(2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, replies.Count(r => r.ChatId == 77));
        Assert.StartsWith("Welcome", replies[0].Text, StringComparison.Ordinal);
        // The offset moved past what was stored: Telegram forgets the batch only after it is durable.
        await group.WaitForAsync("SELECT count(*) FROM bot_state WHERE key = 'telegram.getUpdates.offset' AND value = '502'", 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, group.Telegram.PendingUpdateCount);
    }

    [Fact]
    public async Task Webhook_set_registers_url_secret_and_kinds_and_info_and_delete_report_it()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        var settings = new Dictionary<string, string?>(group.Settings) { ["Telegram__WebhookUrl"] = "https://bot.example.com/telegram/webhook" };

        var set = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30), "webhook", "set");
        Assert.True(set.ExitCode == 0, set.Stderr);
        Assert.Equal("https://bot.example.com/telegram/webhook", group.Telegram.Webhook.Url);
        Assert.True(group.Telegram.Webhook.HasSecretToken);
        Assert.True(group.Telegram.IsWebhookSecretToken(BotProcess.WebhookSecret));
        Assert.Contains("chat_join_request", group.Telegram.Webhook.AllowedUpdates!);

        var info = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30), "webhook", "info");
        Assert.Contains("url: https://bot.example.com/telegram/webhook", info.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(BotProcess.WebhookSecret, info.Stdout + info.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30), "webhook", "delete")).ExitCode);
        Assert.False(group.Telegram.Webhook.IsSet);
    }

    [Fact]
    public async Task With_the_test_environment_on_every_Bot_API_call_takes_the_test_path_polling_replies_and_webhook_set()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Telegram__Mode"] = "Polling",
            ["Telegram__UseTestEnvironment"] = "true",
        });
        await group.StartAsync();

        group.Telegram.EnqueueUpdate(Updates.Message(600, 78, "/start"));
        var reply = await group.Telegram.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
        Assert.StartsWith("Welcome", reply[0].Text, StringComparison.Ordinal);

        var settings = new Dictionary<string, string?>(group.Settings)
        {
            ["Telegram__Mode"] = "Webhook",
            ["Telegram__WebhookUrl"] = "https://bot.staging.example.com/telegram/webhook",
        };
        var set = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30), "webhook", "set");
        Assert.True(set.ExitCode == 0, set.Stderr);

        var calls = group.Telegram.Calls();
        Assert.Contains(calls, c => c.Method == "getUpdates");
        Assert.Contains(calls, c => c.Method == "sendMessage" && c.ChatId == 78);
        Assert.Contains(calls, c => c.Method == "setWebhook");
        Assert.All(calls, c => Assert.True(c.TestEnvironment, $"{c.Method} went to the production path"));
    }

    [Fact]
    public async Task Webhook_set_without_a_url_exits_non_zero_and_names_it()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);

        var set = await BotProcess.RunAsync(group.Settings, TimeSpan.FromSeconds(30), "webhook", "set");

        Assert.NotEqual(0, set.ExitCode);
        Assert.Contains("Telegram:WebhookUrl", set.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_update_that_cannot_be_handled_is_dead_lettered_with_its_error_and_does_not_block_its_chat()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        await group.ScalarAsync("INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES (10, 99, 'message', 'not json at all') RETURNING 1");
        var bot = await group.StartAsync();

        await BotGroup.PostAsync(bot, Updates.Message(11, 99, "/help"));

        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE update_id = 10 AND state = 'dead' AND last_error LIKE 'JsonException%'", 1, TimeSpan.FromSeconds(30));
        await group.Telegram.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
        Assert.Single(group.Telegram.Deliveries(99));
    }

    [Fact]
    public async Task Updates_share_a_commit_and_one_that_fails_sends_its_group_mates_through_alone_once_each()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster);
        // A backlog before the bot starts: its first claim takes 16 updates of 16 chats, handled in groups of 8.
        var good = Enumerable.Range(1, 31).Select(i => (Id: 100L + i, Chat: 1000L + i)).ToList();
        var values = string.Join(", ", good.Select(g => $"({g.Id}, {g.Chat}, 'message', '{Updates.Message(g.Id, g.Chat, "/help")}')"));
        await group.ScalarAsync(
            $"INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES (100, 999, 'message', 'not json at all'), {values} RETURNING 1");
        await group.StartAsync();

        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state IN ('done', 'dead')", 32, TimeSpan.FromSeconds(60));
        await group.Telegram.WaitForDeliveriesAsync(31, TimeSpan.FromSeconds(60));

        // Each good update answered once, the bad one dead-lettered alone.
        Assert.All(good, g => Assert.Single(group.Telegram.Deliveries(g.Chat)));
        Assert.Equal(31, await group.ScalarAsync("SELECT count(*) FROM outbox"));
        Assert.Equal(31, await group.ScalarAsync("SELECT count(DISTINCT source_update_id) FROM outbox"));
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE state = 'dead' AND update_id = 100"));
        // Updates that shared a transaction share its start time (processed_at is now()): groups happened.
        Assert.True(await group.ScalarAsync("SELECT count(*) FROM (SELECT processed_at FROM inbox GROUP BY processed_at HAVING count(*) > 1) g") > 0);
        // The bad update's group-mates were handled again one by one: none of them shares the bad one's time.
        Assert.Equal(0, await group.ScalarAsync(
            "SELECT count(*) FROM inbox a JOIN inbox b ON a.processed_at = b.processed_at AND a.update_id <> b.update_id WHERE a.update_id = 100"));
    }
}
