using Bot;
using Bot.Coordination;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// The bot's services composed in this process (<c>BotApplication.Build</c>, never started) over a migrated database of
/// its own: a leader job or a handler is called directly, without the executable, its port or its timers.
/// </summary>
public sealed class InProcessBot : IAsyncDisposable
{
    private readonly WebApplication app;

    private InProcessBot(WebApplication app, Dictionary<string, string?> settings)
    {
        this.app = app;
        Settings = settings;
    }

    public Dictionary<string, string?> Settings { get; }

    public IServiceProvider Services => app.Services;

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    public LeadershipState Leadership => Services.GetRequiredService<LeadershipState>();

    public static async Task<InProcessBot> CreateAsync(SharedPostgres postgres, IDictionary<string, string?>? extra = null)
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(extra ?? new Dictionary<string, string?>());
        var args = settings.Where(s => s.Value is not null).Select(s => $"--{s.Key.Replace("__", ":", StringComparison.Ordinal)}={s.Value}").ToArray();
        return new InProcessBot(BotApplication.Build(args), settings);
    }

    /// <summary>The leader job of type <typeparamref name="T"/>, as the leader election would run it.</summary>
    public T LeaderJob<T>() where T : ILeaderSingleton => Services.GetServices<ILeaderSingleton>().OfType<T>().Single();

    /// <summary>Makes this process the leader of term <paramref name="epoch"/> (the database's term row included).</summary>
    public async Task LeadAsync(long epoch)
    {
        await ExecuteAsync(
            $"INSERT INTO leader_epochs (name, epoch, holder) VALUES ('{LeaderEpochs.Name}', {epoch}, 'test') ON CONFLICT (name) DO UPDATE SET epoch = excluded.epoch");
        Leadership.Begin(epoch);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
