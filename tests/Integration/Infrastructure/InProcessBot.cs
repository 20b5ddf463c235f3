using Bot;
using System.Text.Json;
using Bot.Coordination;
using Bot.Outbox;
using Bot.Processing;
using Bot.Telegram;
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

    /// <summary>
    /// Handles one update as the inbox worker would (the features' handlers, in the feature list's order), in a
    /// transaction of its own, and commits it with the replies the handlers queued; returns whether a handler took it.
    /// </summary>
    public async Task<bool> HandleAsync(string updateJson, long updateId, DateTimeOffset? receivedAt = null)
    {
        var router = Services.GetRequiredService<UpdateRouter>();
        var update = JsonSerializer.Deserialize(updateJson, TelegramJson.Update)!;
        var claim = new ClaimedUpdate(updateId, update.Message?.Chat.Id, "message", updateJson, 1, null, receivedAt ?? DateTimeOffset.UtcNow);
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var outbox = new OutboxWriter(connection, transaction, updateId);
        var context = new UpdateContext(update, claim, connection, transaction, outbox, Services.GetRequiredService<TelegramClients>().Reader, CancellationToken.None);
        var taken = await router.RouteAsync(context);
        if (outbox.TakeBuffered() is { } replies)
        {
            await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { replies } };
            await batch.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return taken;
    }

    /// <summary>The texts of the messages queued for <paramref name="chatId"/>, oldest first.</summary>
    public async Task<List<string>> RepliesAsync(long chatId)
    {
        await using var command = DataSource.CreateCommand("SELECT payload FROM outbox WHERE chat_id = $1 AND method = 'sendMessage' ORDER BY id");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = chatId });
        var texts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            using var payload = JsonDocument.Parse(reader.GetString(0));
            texts.Add(payload.RootElement.GetProperty("text").GetString()!);
        }

        return texts;
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
