using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Processing;

public sealed class CrashTests(SharedPostgres postgres)
{
    [Fact]
    public async Task Killing_the_leader_mid_load_loses_nothing_handles_nothing_twice_and_the_survivor_takes_over()
    {
        const int updates = 5000, chats = 500, maxInFlight = 32;
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Sender__GlobalPerSecond"] = "1000",
            ["Sender__PrivateChatPerSecond"] = "100",
            ["Sender__MaxInFlight"] = maxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Processing__LeaseSeconds"] = "3",
        }, new FakeTelegramOptions { RateLimits = new RateLimits { Global = null, PrivateChat = null, GroupChat = null } });
        var first = await group.StartAsync();
        await first.WaitForLeadershipAsync();
        var second = await group.StartAsync();

        // Half the load through each replica, until the leader dies a third of the way in.
        var posting = Task.WhenAll(Enumerable.Range(0, chats).Select(async chat =>
        {
            for (var n = 1; n <= updates / chats; n++)
            {
                var target = n % 2 == 0 ? first : second;
                if (target.HasExited)
                {
                    target = second;
                }

                await BotGroup.PostAsync(target, Updates.Message((long)n * 10_000 + chat, chat + 1, $"m{n}", messageId: n));
            }
        }));
        await group.WaitForAsync("SELECT count(*) FROM outbox WHERE state = 'sent'", updates / 3, TimeSpan.FromSeconds(60));
        first.Kill();
        await posting;

        await second.WaitForLeadershipAsync();
        await group.WaitForAsync("SELECT count(*) FROM inbox WHERE state = 'done'", updates, TimeSpan.FromSeconds(90));
        await group.WaitForAsync("SELECT count(*) FROM outbox WHERE state = 'sent'", updates, TimeSpan.FromSeconds(90));

        // Handled exactly once: one reply row per update, none lost, none dead.
        Assert.Equal(updates, await group.ScalarAsync("SELECT count(*) FROM inbox"));
        Assert.Equal(updates, await group.ScalarAsync("SELECT count(DISTINCT source_update_id) FROM outbox"));
        Assert.Equal(updates, await group.ScalarAsync("SELECT count(*) FROM outbox"));
        Assert.Equal(0, await group.ScalarAsync("SELECT count(*) FROM outbox WHERE state <> 'sent'"));

        // Every reply reached Telegram; a repeat is possible only for calls in flight at the kill.
        var delivered = group.Telegram.Calls("sendMessage").Where(c => c.Delivered)
            .Select(c => (c.ChatId, Quoted: c.Body["reply_parameters"]!["message_id"]!.GetValue<int>())).ToList();
        Assert.Equal(updates, delivered.Distinct().Count());
        Assert.InRange(delivered.Count - updates, 0, maxInFlight);
    }
}
