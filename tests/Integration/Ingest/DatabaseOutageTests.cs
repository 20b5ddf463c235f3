using System.Diagnostics;
using System.Net;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Ingest;

/// <summary>The database goes away mid-test: Telegram must be told to retry, and nothing may be lost or doubled.</summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private PostgresCluster cluster = null!;
    private TestBot bot = null!;

    public async ValueTask InitializeAsync()
    {
        cluster = await PostgresCluster.StartAsync();
        bot = await TestBot.StartAsync(cluster, new Dictionary<string, string?>
        {
            ["Ingest__CommitTimeoutSeconds"] = "3",
        });
    }

    public async ValueTask DisposeAsync()
    {
        await bot.DisposeAsync();
        await cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_stopped_database_answers_503_and_the_retries_are_stored_once_when_it_returns()
    {
        var before = Enumerable.Range(1, 5).Select(i => (long)i).ToList();
        var during = Enumerable.Range(100, 20).Select(i => (long)i).ToList();
        foreach (var id in before)
        {
            Assert.Equal(HttpStatusCode.OK, await PostAsync(id));
        }

        await cluster.StopAsync();

        var statuses = await Task.WhenAll(during.Select(PostAsync));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        using (var ready = await Http.GetAsync(new Uri(bot.Process.InternalUri, "readyz")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        Assert.False(bot.Process.HasExited);
        await cluster.StartAgainAsync();

        // Telegram retries every update it did not get a 200 for, and may repeat ones it did.
        var pending = during.Concat(before).ToHashSet();
        var clock = Stopwatch.StartNew();
        while (pending.Count > 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var id in pending.ToList())
            {
                if (await PostAsync(id) == HttpStatusCode.OK)
                {
                    pending.Remove(id);
                }
            }

            await Task.Delay(200);
        }

        Assert.Empty(pending);
        Assert.Equal(25, await bot.ScalarAsync("SELECT count(*) FROM inbox"));
        Assert.Equal(25, await bot.ScalarAsync("SELECT count(DISTINCT update_id) FROM inbox"));
        await bot.Process.WaitReadyAsync();
    }

    private async Task<HttpStatusCode> PostAsync(long id)
    {
        using var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(id, id)));
        return response.StatusCode;
    }
}
