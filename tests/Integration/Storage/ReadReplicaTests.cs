using System.Globalization;
using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;
using Npgsql;

namespace Bot.Tests.Integration.Storage;

/// <summary>
/// Database:ReadConnectionString against a real streaming standby of the bot's primary (pg_basebackup -R from the
/// machine's binaries): the lag-tolerant reads (the counts, the admin API's lists) are served by the standby, which
/// is shown by pausing its replay; the reads that follow a write (a broadcast by id) stay on the primary; and with the
/// standby stopped everything goes on from the primary.
/// </summary>
public sealed class ReadReplicaTests
{
    private const string WriteToken = "admin-write-token-0123456789abcdef";
    private const long Admin = 4242;
    private static readonly HttpClient Http = new();

    [Theory]
    [InlineData("standby")]
    [InlineData("multi-host")]
    public async Task Lag_tolerant_reads_come_from_the_standby_and_from_the_primary_once_it_stops(string form)
    {
        await using var primary = await PostgresCluster.StartAsync();
        var settings = await primary.CreateMigratedAsync(new Dictionary<string, string?>
        {
            ["Admin__Token"] = WriteToken,
            ["Admin__UserIds"] = Admin.ToString(CultureInfo.InvariantCulture),
        });
        var database = new NpgsqlConnectionStringBuilder(settings["Database__ConnectionString"]).Database!;
        await using var standby = await primary.StartStandbyAsync();
        var onStandby = $"Host=127.0.0.1;Port={standby.Port};Username=postgres;Database={database}";
        settings["Database__ReadConnectionString"] = form == "standby"
            ? onStandby
            : $"Host=127.0.0.1:{standby.Port},127.0.0.1:{primary.Port};Username=postgres;Database={database};Target Session Attributes=prefer-standby";
        await using var bot = BotProcess.Start(settings);
        await bot.WaitReadyAsync();
        var port = bot.InternalPort;

        var first = await CreateBroadcastAsync(port);
        await WaitForAsync(async () => (await ListAsync(port)).Contains(first), "the first broadcast in the list");
        Assert.True(
            await PostgresCluster.ScalarAsync(onStandby, $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND application_name = 'bot'") > 0,
            "the bot has no session on the standby");

        // Replay paused, the standby lags: what the lists and the counts show is the standby's, not the primary's.
        await PostgresCluster.ExecuteAsync(onStandby, "SELECT pg_wal_replay_pause()");
        var second = await CreateBroadcastAsync(port);
        Assert.Equal(200, (await AdminAsync(port, HttpMethod.Get, $"/admin/broadcasts/{second}")).Status);
        Assert.DoesNotContain(second, await ListAsync(port));
        Assert.Equal(1, await BroadcastCountAsync(port));
        await PostgresCluster.ExecuteAsync(onStandby, "SELECT pg_wal_replay_resume()");
        await WaitForAsync(async () => (await ListAsync(port)).Contains(second), "the second broadcast in the list after replay resumed");
        Assert.Equal(2, await BroadcastCountAsync(port));

        // The standby stops: the same reads come from the primary, and the pipeline never needed it.
        await standby.StopAsync();
        var third = await CreateBroadcastAsync(port);
        Assert.Contains(third, await ListAsync(port));
        Assert.Equal(3, await BroadcastCountAsync(port));
        Assert.Equal(200, (await AdminAsync(port, HttpMethod.Get, "/admin/join-requests")).Status);
        Assert.Equal(200, (await AdminAsync(port, HttpMethod.Get, "/admin/audience-lists")).Status);
        Assert.Equal(200, (await Http.GetAsync(new Uri(bot.InternalUri, "readyz"))).StatusCode is var status ? (int)status : 0);
        using (var response = await Http.SendAsync(Updates.Post(bot.WebhookUri, Updates.UserMessage(7001, Admin, "/stats"))))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        var connection = settings["Database__ConnectionString"]!;
        await WaitForAsync(
            async () => await PostgresCluster.ScalarAsync(connection, "SELECT count(*) FROM inbox WHERE update_id = 7001 AND state = 'done'") == 1,
            "/stats handled with the standby stopped");
        Assert.Equal(1, await PostgresCluster.ScalarAsync(connection, "SELECT count(*) FROM outbox WHERE chat_id = 4242 AND payload LIKE '%Broadcasts: 3 (%'"));
        if (form == "standby")
        {
            Assert.Contains("Read standby unavailable", bot.Output, StringComparison.Ordinal);
        }

        BotProcess.ThrowIfLeaked(BotProcess.SecretsIn(settings), bot.Output);
    }

    private static async Task<string> CreateBroadcastAsync(int port)
    {
        var created = await AdminAsync(port, HttpMethod.Post, "/admin/broadcasts", """{"fromChatId":1,"messageId":2,"allowConcurrent":true}""");
        Assert.True(created.Status == 202, created.Body);
        return JsonDocument.Parse(created.Body).RootElement.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The ids of GET /admin/broadcasts.</summary>
    private static async Task<List<string>> ListAsync(int port)
    {
        var answer = await AdminAsync(port, HttpMethod.Get, "/admin/broadcasts");
        Assert.True(answer.Status == 200, answer.Body);
        return [.. JsonDocument.Parse(answer.Body).RootElement.EnumerateArray().Select(b => b.GetProperty("id").GetInt64().ToString(CultureInfo.InvariantCulture))];
    }

    private static async Task<long> BroadcastCountAsync(int port)
    {
        var answer = await AdminAsync(port, HttpMethod.Get, "/admin/stats");
        Assert.True(answer.Status == 200, answer.Body);
        return JsonDocument.Parse(answer.Body).RootElement.GetProperty("broadcasts").GetInt64();
    }

    private static async Task<(int Status, string Body)> AdminAsync(int port, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, $"http://127.0.0.1:{port}{path}");
        request.Headers.Authorization = new("Bearer", WriteToken);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
