using Bot.Coordination;
using Bot.Features.JoinGate;
using Bot.Storage;
using Bot.Telegram;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot;

namespace Bot.Features.DiscordSync;

/// <summary>
/// On the leader, every Discord:ReconcileMinutes: walks the server's members in id order (GET /guilds/{id}/members,
/// which needs the bot's Server Members intent) and repairs drift both ways: a holder of the role who is not linked,
/// or whose Telegram user is not in the main group (getChatMember), loses it; a linked main group member without it
/// gets it. The changes go through the role queue like every other. Progress is stored after each page, in the
/// transaction that queues its changes, so a run cut short (a crash, a lost leadership) is finished by the next
/// leader from where it stopped rather than an interval later. A member whose Telegram membership cannot be read
/// now is left as it is until the next run.
/// </summary>
public sealed partial class DiscordReconciler(
    NpgsqlDataSource dataSource, DiscordApi api, FeatureFlags flags, TelegramClients telegram, IOptionsMonitor<DiscordOptions> options,
    IOptionsMonitor<JoinGateOptions> gate, TimeProvider time, ILogger<DiscordReconciler> logger) : ILeaderSingleton
{
    private static readonly TimeSpan Check = TimeSpan.FromSeconds(30);

    public string Name => "discord-reconcile";

    public async Task RunAsync(CancellationToken leadership)
    {
        try
        {
            while (!leadership.IsCancellationRequested)
            {
                if (flags.Get(DiscordSyncFeature.FeatureName).Enabled && gate.CurrentValue.MainChat is { } main)
                {
                    try
                    {
                        if (await DueAsync(leadership))
                        {
                            await ReconcileAsync(main, leadership);
                        }
                    }
                    catch (Exception exception) when (exception is NpgsqlException or TimeoutException or DiscordUnavailableException)
                    {
                        LogInterrupted(logger, exception.Message);
                    }
                }

                await Task.Delay(Check, time, leadership);
            }
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested)
        {
        }
    }

    /// <summary>A run is due when one was left unfinished, or the last finished an interval ago (or never).</summary>
    private async Task<bool> DueAsync(CancellationToken cancellationToken) =>
        await Db.Of(dataSource).ScalarAsync<bool>(
            "SELECT started_at IS NOT NULL OR finished_at IS NULL OR finished_at <= now() - $1 FROM discord_reconcile WHERE id = 1",
            cancellationToken, Sql.Arg(TimeSpan.FromMinutes(options.CurrentValue.ReconcileMinutes)));

    /// <summary>
    /// One run, from the stored cursor to the end of the member list (the cursor is 0 unless a run was left unfinished:
    /// the end of a run resets it).
    /// </summary>
    public async Task ReconcileAsync(long mainChat, CancellationToken cancellationToken)
    {
        var cursor = await Db.Of(dataSource).ScalarAsync<long>(
            """
            UPDATE discord_reconcile SET started_at = coalesce(started_at, now())
            WHERE id = 1 RETURNING cursor_id
            """, cancellationToken);
        LogStarted(logger, cursor);
        var changes = 0;
        while (true)
        {
            var (members, call) = await api.MembersAsync(checked((ulong)cursor), options.CurrentValue.ReconcilePageSize, cancellationToken);
            if (!call.Ok)
            {
                if (call.Wait is { } wait)
                {
                    await Task.Delay(wait, time, cancellationToken);
                    continue;
                }

                throw new DiscordUnavailableException($"listing the server's members: {call.Error}");
            }

            if (members.Count == 0)
            {
                break;
            }

            var ids = members.Select(m => checked((long)m.Id)).ToArray();
            var links = (await Db.Of(dataSource).ListAsync(
                    "SELECT discord_user_id, user_id FROM discord_links WHERE discord_user_id = ANY($1)",
                    r => (Discord: r.GetInt64(0), User: r.GetInt64(1)), cancellationToken, Sql.Arg(ids)))
                .ToDictionary(l => l.Discord, l => l.User);
            var wanted = new List<(long Discord, bool Add)>();
            foreach (var (id, hasRole) in members)
            {
                var discordId = checked((long)id);
                bool? should = links.TryGetValue(discordId, out var user) ? await MainGroup.ContainsAsync(telegram.Reader, mainChat, user, logger, cancellationToken) : false;
                if (should is { } want && want != hasRole)
                {
                    wanted.Add((discordId, want));
                }
            }

            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                var db = Db.In(connection, transaction);
                foreach (var (discord, add) in wanted)
                {
                    await DiscordStore.EnqueueAsync(db, discord, add, cancellationToken);
                }

                cursor = ids.Max();
                await db.ExecuteAsync("UPDATE discord_reconcile SET cursor_id = $1 WHERE id = 1", cancellationToken, Sql.Arg(cursor));
                await transaction.CommitAsync(cancellationToken);
            }

            changes += wanted.Count;
            if (call.Wait is { } spent)
            {
                await Task.Delay(spent, time, cancellationToken);
            }
        }

        await Db.Of(dataSource).ExecuteAsync(
            "UPDATE discord_reconcile SET started_at = NULL, cursor_id = 0, finished_at = now() WHERE id = 1", cancellationToken);
        LogFinished(logger, changes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Discord reconcile started (from member id {Cursor})")]
    private static partial void LogStarted(ILogger logger, long cursor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discord reconcile finished: {Changes} role changes queued")]
    private static partial void LogFinished(ILogger logger, int changes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord reconcile interrupted ({Error}); it continues from where it stopped")]
    private static partial void LogInterrupted(ILogger logger, string error);
}

public sealed class DiscordUnavailableException(string message) : Exception(message);
