using Bot.Coordination;
using Bot.Hosting;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.DiscordSync;

/// <summary>
/// On the leader, makes the queued role changes at Discord, oldest due first, one call at a time. Discord's limits
/// are kept: a 429 puts the job back for its <c>retry_after</c> and pauses every call that long (the global limit and
/// a route's bucket alike, as every call here is on the same route), and a spent bucket
/// (<c>X-RateLimit-Remaining: 0</c>) pauses until <c>X-RateLimit-Reset-After</c>. A server error or no answer is
/// retried with a growing backoff; a member who is not on the server (404) is settled until they join (the reconcile
/// adds the role then); after 10 failed attempts a job is dead (the reconcile will queue the change again).
/// </summary>
public sealed partial class DiscordRoleWorker(
    NpgsqlDataSource dataSource, DiscordApi api, FeatureFlags flags, SecretRedactor redactor, TimeProvider time, ILogger<DiscordRoleWorker> logger) : ILeaderSingleton
{
    public const int MaxAttempts = 10;
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(2);

    public string Name => "discord-roles";

    public async Task RunAsync(CancellationToken leadership)
    {
        try
        {
            while (!leadership.IsCancellationRequested)
            {
                var pause = Idle;
                if (flags.Get(DiscordSyncFeature.FeatureName).Enabled)
                {
                    try
                    {
                        pause = await RunDueAsync(leadership) ?? Idle;
                    }
                    catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                    {
                        LogStoreFailed(logger, exception.Message);
                    }
                }

                await Task.Delay(pause, time, leadership);
            }
        }
        catch (OperationCanceledException) when (leadership.IsCancellationRequested)
        {
        }
    }

    /// <summary>Makes the due jobs' calls until none is due or Discord asks to wait; returns that wait (null: idle).</summary>
    public async Task<TimeSpan?> RunDueAsync(CancellationToken cancellationToken)
    {
        var db = Db.Of(dataSource);
        while (!cancellationToken.IsCancellationRequested)
        {
            var due = await db.ListAsync(
                "SELECT id, discord_user_id, action, attempts FROM discord_role_jobs WHERE state = 'pending' AND not_before <= now() ORDER BY not_before, id LIMIT 1",
                r => (Id: r.GetInt64(0), User: r.GetInt64(1), Add: r.GetString(2) == "add", Attempts: r.GetInt32(3)), cancellationToken);
            if (due is not [var job])
            {
                return null;
            }

            var call = await api.SetRoleAsync(checked((ulong)job.User), job.Add, cancellationToken);
            if (call.Ok || call.Status == 404)
            {
                await db.ExecuteAsync(
                    "UPDATE discord_role_jobs SET state = 'done', done_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1 AND state = 'pending'",
                    cancellationToken, Sql.Arg(job.Id), Sql.Arg<string?>(call.Ok ? null : "not a member of the server"));
                LogDone(logger, job.Add ? "added" : "removed", job.User, call.Status);
            }
            else if (call.RateLimited)
            {
                await db.ExecuteAsync("UPDATE discord_role_jobs SET not_before = now() + $2 WHERE id = $1", cancellationToken, Sql.Arg(job.Id), Sql.Arg(call.Wait!.Value));
                LogRateLimited(logger, call.Wait.Value.TotalSeconds, call.Global);
                return call.Wait;
            }
            else
            {
                var attempts = job.Attempts + 1;
                var dead = attempts >= MaxAttempts || !(call.Transient || call.Status is 401 or 403);
                var backoff = TimeSpan.FromSeconds(call.Status is 401 or 403 ? 300 : Math.Min(300, Math.Pow(2, attempts)));
                var error = redactor.Redact(call.Error ?? call.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                await db.ExecuteAsync(
                    """
                    UPDATE discord_role_jobs
                    SET attempts = $2, last_error = $3, not_before = now() + $4,
                        state = CASE WHEN $5 THEN 'dead' ELSE 'pending' END, done_at = CASE WHEN $5 THEN now() END
                    WHERE id = $1
                    """,
                    cancellationToken, Sql.Arg(job.Id), Sql.Arg(attempts), Sql.Arg(error), Sql.Arg(backoff), Sql.Arg(dead));
                if (call.Status is 401 or 403)
                {
                    LogRefused(logger, error);
                }
                else
                {
                    LogFailed(logger, job.User, attempts, error, dead);
                }
            }

            if (call.Wait is { } spent && spent > TimeSpan.Zero)
            {
                return spent;
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Discord role {Action} for member {DiscordUserId} ({Status})")]
    private static partial void LogDone(ILogger logger, string action, long discordUserId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord answered 429: role changes pause for {Seconds} s (global: {Global})")]
    private static partial void LogRateLimited(ILogger logger, double seconds, bool global);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord role change for member {DiscordUserId} failed (attempt {Attempt}: {Error}); dead: {Dead}")]
    private static partial void LogFailed(ILogger logger, long discordUserId, int attempt, string error, bool dead);

    [LoggerMessage(Level = LogLevel.Error, Message = "Discord refuses the bot's role changes ({Error}): check Discord__BotToken, the bot's Manage Roles permission and that its role is above the synced one")]
    private static partial void LogRefused(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord role jobs not read or written ({Error}); retrying")]
    private static partial void LogStoreFailed(ILogger logger, string error);
}
