using System.Net;
using FakeTelegram;
using Npgsql;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>One migrated database, a fake Bot API, and any number of bot processes sharing them, as replicas do.</summary>
public sealed class BotGroup : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { Timeout = TimeSpan.FromSeconds(60) };

    private BotGroup(FakeTelegramServer telegram, string connectionString, Dictionary<string, string?> settings)
    {
        Telegram = telegram;
        ConnectionString = connectionString;
        Settings = settings;
    }

    public FakeTelegramServer Telegram { get; }

    public string ConnectionString { get; }

    public Dictionary<string, string?> Settings { get; }

    public List<BotProcess> Processes { get; } = [];

    public static async Task<BotGroup> CreateAsync(PostgresCluster cluster, IDictionary<string, string?>? extra = null, FakeTelegramOptions? telegram = null)
    {
        var fake = await FakeTelegramServer.StartAsync(telegram ?? new FakeTelegramOptions());
        var defaults = new Dictionary<string, string?>
        {
            ["Telegram__ApiBaseUrl"] = fake.BaseUrl,
            ["Processing__PollIntervalSeconds"] = "0.2",
            ["Coordination__RetrySeconds"] = "0.5",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }

        var settings = await cluster.CreateMigratedAsync(defaults);
        return new BotGroup(fake, settings["Database__ConnectionString"]!, settings);
    }

    public async Task<BotProcess> StartAsync(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var process = BotProcess.Start(settings);
        Processes.Add(process);
        await process.WaitReadyAsync();
        return process;
    }

    /// <summary>Posts as Telegram does: retried until acknowledged with 200.</summary>
    public static async Task PostAsync(BotProcess process, string update)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await Http.SendAsync(Updates.Post(process.WebhookUri, update));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (attempt < 50)
            {
            }

            if (attempt >= 50)
            {
                throw new InvalidOperationException("update not acknowledged after 50 attempts");
            }

            await Task.Delay(100);
        }
    }

    public Task<long> ScalarAsync(string sql) => PostgresCluster.ScalarAsync(ConnectionString, sql);

    /// <summary>Waits until the query returns at least <paramref name="expected"/>.</summary>
    public async Task WaitForAsync(string sql, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long last;
        while ((last = await ScalarAsync(sql)) < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{sql} reached {last}, not {expected}, in {timeout}.\n{string.Join("\n---\n", Processes.Select(p => Tail(p.Output)))}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync();
        }

        await Telegram.DisposeAsync();
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;
}
