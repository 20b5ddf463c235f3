using Bot.Features.Broadcasts;
using Bot.Features.JoinGate;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Coordination;

/// <summary>
/// The leader's feature jobs write only while their term is the current one: a leader that stalled past its lease
/// and woke up after its successor began (epoch 2 current, it still holds 1) declines no join request and expands
/// no broadcast; the current term does both.
/// </summary>
public sealed class LeaderFenceTests(SharedPostgres postgres)
{
    [Fact]
    public async Task A_stale_term_declines_no_overdue_join_request()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres);
        await bot.LeadAsync(2);
        await bot.ExecuteAsync("""
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, deadline)
            VALUES (-100, 7, 7, 1, now() - interval '20 minutes', 'pending', now() - interval '1 minute')
            """);
        var sweeper = bot.LeaderJob<JoinDeadlineSweeper>();

        Assert.Equal(0, await sweeper.SweepAsync(epoch: 1, TestContext.Current.CancellationToken));
        Assert.Equal("pending", await bot.ScalarAsync<string>("SELECT state FROM join_requests"));
        Assert.Equal(0L, await bot.ScalarAsync<long>("SELECT count(*) FROM outbox"));

        Assert.Equal(1, await sweeper.SweepAsync(epoch: 2, TestContext.Current.CancellationToken));
        Assert.Equal("declined", await bot.ScalarAsync<string>("SELECT state FROM join_requests"));
        Assert.Equal("declineChatJoinRequest", await bot.ScalarAsync<string>("SELECT method FROM outbox"));
    }

    [Fact]
    public async Task A_stale_term_expands_no_broadcast()
    {
        await using var bot = await InProcessBot.CreateAsync(postgres);
        await bot.LeadAsync(2);
        await bot.ExecuteAsync("""
            INSERT INTO users (user_id, status) SELECT n, 'active' FROM generate_series(1, 30) n;
            INSERT INTO broadcasts (from_chat_id, message_id) VALUES (1, 10);
            """);
        var runner = bot.LeaderJob<BroadcastRunner>();
        var id = await bot.ScalarAsync<long>("SELECT id FROM broadcasts");

        Assert.Equal(0, await runner.ExpandAsync(id, epoch: 1, TestContext.Current.CancellationToken));
        Assert.Equal(0L, await bot.ScalarAsync<long>("SELECT count(*) FROM outbox"));
        Assert.Equal(0L, await bot.ScalarAsync<long>("SELECT cursor FROM broadcasts"));

        Assert.Equal(30, await runner.ExpandAsync(id, epoch: 2, TestContext.Current.CancellationToken));
        Assert.Equal(30L, await bot.ScalarAsync<long>("SELECT count(*) FROM outbox WHERE method = 'copyMessage'"));
        Assert.True(await bot.ScalarAsync<bool>("SELECT expanded FROM broadcasts"));
    }
}
