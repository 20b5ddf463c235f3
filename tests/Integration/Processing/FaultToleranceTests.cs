using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Processing;

/// <summary>A poison update that kills every process that handles it, and a leader whose term ended under it.</summary>
public sealed class FaultToleranceTests(SharedPostgres postgres)
{
    [Fact]
    public async Task An_update_that_crashes_the_process_is_dead_lettered_after_its_attempts_and_everything_else_is_handled()
    {
        const long Poison = 7_000_555;
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["FaultInjection__Enabled"] = "true",
            ["FaultInjection__CrashOnUpdateIds"] = Poison.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Processing__MaxAttempts"] = "3",
            ["Processing__LeaseSeconds"] = "2",
        }, new FakeTelegramOptions { RateLimits = new RateLimits { Global = null, PrivateChat = null, GroupChat = null } });
        var bot = await group.StartAsync();

        // The poison update in chat 5, between two others of that chat; 40 more updates in 20 other chats.
        await BotGroup.PostAsync(bot, Updates.Message(7_000_100, 5, "before"));
        await BotGroup.PostAsync(bot, Updates.Message(Poison, 5, "poison"));
        await BotGroup.PostAsync(bot, Updates.Message(7_000_900, 5, "after"));
        for (var n = 0; n < 40; n++)
        {
            await BotGroup.PostAsync(bot, Updates.Message(7_001_000 + n, 100 + (n % 20), $"m{n}"));
        }

        // Each crash is followed by a restart, as a Deployment's would be, until the poison update is dead.
        var crashes = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (await group.ScalarAsync($"SELECT count(*) FROM inbox WHERE update_id = {Poison} AND state = 'dead'") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"not dead-lettered after {crashes} crashes:\n{bot.Output}");
            if (bot.HasExited)
            {
                crashes++;
                Assert.Contains("fault injection", bot.Output, StringComparison.Ordinal);
                bot = await group.StartAsync();
            }

            await Task.Delay(200);
        }

        Assert.Equal(3, crashes);
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 42, TimeSpan.FromSeconds(60));
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE state = 'dead'"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM inbox WHERE update_id = {Poison} AND last_error LIKE 'the handler did not finish in 3 attempts%'"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM inbox_heads"));
        Assert.False(bot.HasExited);
        Assert.Contains("dead-lettered after 3 attempts", bot.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_leader_whose_term_ended_during_a_call_records_nothing_of_it()
    {
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>(),
            new FakeTelegramOptions { RateLimits = new RateLimits { Global = null, PrivateChat = null, GroupChat = null } });
        var bot = await group.StartAsync();
        await bot.WaitForLeadershipAsync();
        group.Telegram.InjectFault(Fault.Slow(TimeSpan.FromSeconds(4)) with { Method = "sendMessage" });
        await BotGroup.PostAsync(bot, Updates.Message(8_000_001, 42, "hello"));
        await group.WaitForAsync("SELECT count(*) FROM outbox WHERE state = 'sending' AND epoch IS NOT NULL", 1, TimeSpan.FromSeconds(30));

        // A successor's term begins while the call is in flight (as after a stall past the lease): its epoch is
        // written and the rows in flight are handed back for sending again.
        await PostgresCluster.ExecuteAsync(group.ConnectionString,
            "UPDATE leader_epochs SET epoch = epoch + 1; UPDATE outbox SET state = 'pending', epoch = NULL WHERE state = 'sending'");

        await group.Telegram.WaitForDeliveriesAsync(1, TimeSpan.FromSeconds(30));
        var output = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!bot.Output.Contains("is no longer the current leadership term", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < output, bot.Output);
            await Task.Delay(100);
        }

        // The old term's outcome was refused, and with a stale epoch it takes nothing more either.
        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM outbox WHERE state = 'pending' AND epoch IS NULL AND sent_at IS NULL"));
        await Task.Delay(1500);
        Assert.Single(group.Telegram.Calls("sendMessage"));
    }
}
