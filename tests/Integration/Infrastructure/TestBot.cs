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
        var connectionString = await cluster.CreateDatabaseAsync();
        var settings = BotProcess.Settings(connectionString);
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var migrate = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(60), "migrate", "up");
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        var process = BotProcess.Start(settings);
        await process.WaitReadyAsync();
        return new TestBot(process, connectionString, settings);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
