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
        // The poison update in chat 5, between two others of that chat; 40 more updates in 20 other chats. Stored
        // before the first replica starts: it dies as soon as it handles the poison one.
        var updates = new List<(long Id, long Chat, string Json)> { (7_000_100, 5, Updates.Message(7_000_100, 5, "before")), (Poison, 5, Updates.Message(Poison, 5, "poison")), (7_000_900, 5, Updates.Message(7_000_900, 5, "after")) };
        updates.AddRange(Enumerable.Range(0, 40).Select(n => (7_001_000L + n, 100L + (n % 20), Updates.Message(7_001_000 + n, 100 + (n % 20), $"m{n}"))));
        await using (var connection = new Npgsql.NpgsqlConnection(group.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var (id, chat, json) in updates)
            {
                await using var insert = new Npgsql.NpgsqlCommand("INSERT INTO inbox (update_id, chat_id, kind, payload) VALUES ($1, $2, 'message', $3)", connection);
                insert.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = id });
                insert.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = chat });
                insert.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = json });
                await insert.ExecuteNonQueryAsync();
            }
        }

        // Each crash is followed by a restart, as a Deployment's would be, until the poison update is dead. A
        // replica may die before it is even ready.
        async Task<BotProcess> StartAsync()
        {
            try
            {
                return await group.StartAsync();
            }
            catch (Exception) when (group.Processes[^1].HasExited)
            {
                return group.Processes[^1];
            }
        }

        var bot = await StartAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (await group.ScalarAsync($"SELECT count(*) FROM inbox WHERE update_id = {Poison} AND state = 'dead'") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"not dead-lettered after {group.Processes.Count(p => p.HasExited)} crashes:\n{bot.Output}");
            if (bot.HasExited)
            {
                await bot.WaitForOutputAsync("fault injection");
                bot = await StartAsync();
            }

            await Task.Delay(200);
        }

        if (bot.HasExited)
        {
            bot = await StartAsync();
        }

        var crashes = group.Processes.Count(p => p.HasExited);
        Assert.Equal(3, crashes);
        try
        {
            await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", 42, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            await using var c = new Npgsql.NpgsqlConnection(group.ConnectionString);
            await c.OpenAsync();
            await using var q = new Npgsql.NpgsqlCommand("SELECT string_agg(update_id || ':' || chat_id || ':' || state || ':' || attempts || ':' || coalesce(lease_until::text, '-') || ':' || coalesce(last_error, '-'), E'\n') FROM inbox WHERE state <> 'done'", c);
            await using var h = new Npgsql.NpgsqlCommand("SELECT string_agg(chat_key || ':' || update_id || ':' || coalesce(lease_until::text, '-'), E'\n') FROM inbox_heads", c);
            Assert.Fail($"{await q.ExecuteScalarAsync()}\nheads:\n{await h.ExecuteScalarAsync()}\n{bot.Output[^3000..]}");
        }

        Assert.Equal(1, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE state = 'dead'"));
        Assert.Equal(1, await group.ScalarAsync($"SELECT count(*) FROM inbox WHERE update_id = {Poison} AND last_error LIKE 'the handler did not finish in 3 attempts%'"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM inbox_heads"));
        Assert.False(bot.HasExited);
        await bot.WaitForOutputAsync("dead-lettered after 3 attempts");
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
