using Npgsql;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>A migrated database of its own and a bot serving it.</summary>
public sealed class TestBot : IAsyncDisposable
{
    private TestBot(BotProcess process, string connectionString, Dictionary<string, string?> settings)
    {
        Process = process;
        ConnectionString = connectionString;
        Settings = settings;
    }

    public BotProcess Process { get; }

    public string ConnectionString { get; }

    public Dictionary<string, string?> Settings { get; }

    public static async Task<TestBot> StartAsync(PostgresCluster cluster, IDictionary<string, string?>? extra = null)
    {
        var settings = await cluster.CreateMigratedAsync(extra ?? new Dictionary<string, string?>());
        var process = BotProcess.Start(settings);
        await process.WaitReadyAsync();
        return new TestBot(process, settings["Database__ConnectionString"]!, settings);
    }

    public Task<long> ScalarAsync(string sql) => PostgresCluster.ScalarAsync(ConnectionString, sql);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
