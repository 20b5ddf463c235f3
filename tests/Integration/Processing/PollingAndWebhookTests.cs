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
}
