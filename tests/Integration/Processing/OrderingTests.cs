using Bot.Tests.Integration.Infrastructure;
using FakeTelegram;

namespace Bot.Tests.Integration.Processing;

public sealed class OrderingTests(SharedPostgres postgres)
{
    // Ordering is what this test is about; Telegram's real limits would stretch it to over a minute.
    private static readonly Dictionary<string, string?> FastSending = new()
    {
        ["Sender__GlobalPerSecond"] = "1000",
        ["Sender__PrivateChatPerSecond"] = "100",
        ["Sender__MaxInFlight"] = "64",
    };

    private static FakeTelegramOptions Unlimited => new() { RateLimits = new RateLimits { Global = null, PrivateChat = null, GroupChat = null } };

    [Fact]
    public async Task Each_chats_updates_are_handled_in_order_across_two_processes_while_chats_run_in_parallel()
    {
        const int chats = 50, perChat = 40;
        await using var group = await BotGroup.CreateAsync(postgres.Cluster, FastSending, Unlimited);
        var a = await group.StartAsync();
        var b = await group.StartAsync();

        // Each chat sends in order, as a person types; the chats go at once, alternating between the two replicas.
        await Task.WhenAll(Enumerable.Range(1, chats).Select(async chat =>
        {
            for (var n = 1; n <= perChat; n++)
            {
                var updateId = (long)n * 1000 + chat;
                await BotGroup.PostAsync(n % 2 == 0 ? a : b, Updates.Message(updateId, chat, $"m{n}", messageId: n));
            }
        }));

        await group.Telegram.WaitForDeliveriesAsync(chats * perChat, TimeSpan.FromSeconds(120));
        for (var chat = 1; chat <= chats; chat++)
        {
            var quoted = group.Telegram.Calls("sendMessage", chat).Where(c => c.Delivered).OrderBy(c => c.Sequence)
                .Select(c => c.Body["reply_parameters"]!["message_id"]!.GetValue<int>()).ToList();
            Assert.Equal(Enumerable.Range(1, perChat), quoted);
        }

        // In parallel: replies to different chats interleave rather than coming chat after chat.
        var order = group.Telegram.Deliveries().Select(d => d.ChatId).ToList();
        var switches = order.Zip(order.Skip(1)).Count(p => p.First != p.Second);
        Assert.True(switches > chats * 4, $"only {switches} switches between chats");
        Assert.Equal(chats * perChat, await group.ScalarAsync("SELECT count(*) FROM inbox WHERE state = 'done'"));
    }
}
