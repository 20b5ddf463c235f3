using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Features.InProcess;

/// <summary>
/// The features' handlers called in this process over a real PostgreSQL transaction (<see cref="InProcessBot"/>): no
/// executable, no port, no Bot API; what a handler decided is read back from its tables and the outbox.
/// </summary>
public sealed class FeatureHandlerTests(SharedPostgres postgres)
{
    private const long Admin = 900;

    [Fact]
    public async Task Ping_answers_pong_and_help_lists_it()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres);
        Assert.True(await bot.HandleAsync(Updates.UserMessage(1, 41, "/ping"), 1));
        Assert.Equal([BotTexts.Get("en", "Ping.pong")], await bot.RepliesAsync(41));

        Assert.True(await bot.HandleAsync(Updates.UserMessage(2, 41, "/help"), 2));
        Assert.Contains("/ping – " + BotTexts.Get("en", "Ping.command_ping"), (await bot.RepliesAsync(41))[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flood_control_warns_once_past_the_limit_and_drops_the_rest_of_the_window()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres, new Dictionary<string, string?>
        {
            ["FeatureFlags__FloodControl"] = "true",
            ["Bot__FloodMaxUpdates"] = "3",
            ["Bot__FloodWindowSeconds"] = "60",
        });
        var start = DateTimeOffset.UtcNow;
        for (var n = 1; n <= 6; n++)
        {
            Assert.True(await bot.HandleAsync(Updates.UserMessage(n, 42, $"message {n}"), n, start.AddSeconds(n)));
        }

        var replies = await bot.RepliesAsync(42);
        Assert.Equal(4, replies.Count);
        Assert.All(replies.Take(3), r => Assert.Equal(BotTexts.Get("en", "Help.hint"), r));
        Assert.StartsWith(BotTexts.Prefix("en", "FloodControl.warning"), replies[3], StringComparison.Ordinal);

        // A new window, counted on the time the update was received: heard again.
        Assert.True(await bot.HandleAsync(Updates.UserMessage(7, 42, "back"), 7, start.AddSeconds(70)));
        Assert.Equal(BotTexts.Get("en", "Help.hint"), (await bot.RepliesAsync(42))[^1]);
    }

    [Fact]
    public async Task Stats_is_for_admins_and_sums_what_the_features_report()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres, new Dictionary<string, string?> { ["Admin__UserIds"] = $"{Admin}" });
        await bot.ExecuteAsync("INSERT INTO users (user_id, status) SELECT n, 'active' FROM generate_series(1, 7) n");

        Assert.True(await bot.HandleAsync(Updates.UserMessage(1, 43, "/stats"), 1));
        Assert.Equal([BotTexts.Get("en", "Stats.admins_only")], await bot.RepliesAsync(43));

        Assert.True(await bot.HandleAsync(Updates.UserMessage(2, Admin, "/stats"), 2));
        var stats = (await bot.RepliesAsync(Admin))[^1];
        Assert.Contains(BotTexts.Prefix("en", "Subscriptions.stats") + "7\n", stats, StringComparison.Ordinal);
        Assert.Contains(BotTexts.Prefix("en", "JoinGate.stats") + "0 ", stats, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_subscribes_once_and_stop_unsubscribes()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres);
        Assert.True(await bot.HandleAsync(Updates.UserMessage(1, 44, "/start ref_1"), 1));
        Assert.True(await bot.HandleAsync(Updates.UserMessage(2, 44, "/start ref_2"), 2));
        Assert.Equal("ref_1", await bot.ScalarAsync<string>("SELECT source FROM users WHERE user_id = 44"));
        Assert.Equal(
            [BotTexts.Get("en", "Subscriptions.subscribed"), BotTexts.Get("en", "Subscriptions.already_subscribed")], await bot.RepliesAsync(44));

        Assert.True(await bot.HandleAsync(Updates.UserMessage(3, 44, "/stop"), 3));
        Assert.Equal("stopped", await bot.ScalarAsync<string>("SELECT status FROM users WHERE user_id = 44"));
    }
}
