using System.Security.Cryptography;
using Bot.Storage;

namespace Bot.Features.DiscordSync;

/// <summary>The feature's tables: link states, links and the role jobs (migration 0016).</summary>
public static class DiscordStore
{
    /// <summary>A new single-use state for <paramref name="userId"/>'s /link: 32 random bytes, base64url; only its hash is stored.</summary>
    public static async Task<string> NewStateAsync(Db db, long userId, CancellationToken cancellationToken)
    {
        var state = Base64Url(RandomNumberGenerator.GetBytes(32));
        await db.ExecuteAsync(
            "INSERT INTO discord_link_states (state_hash, user_id, expires_at) VALUES ($1, $2, now() + $3)",
            cancellationToken, Sql.Arg(Hash(state)), Sql.Arg(userId), Sql.Arg(DiscordOptions.StateLifetime));
        return state;
    }

    /// <summary>
    /// The Telegram user of an unexpired state, with the state's row locked in the caller's transaction (a concurrent
    /// replay of the same state finds it taken and gets nothing); null for a state that is unknown, used or expired.
    /// </summary>
    public static async Task<long?> LockStateAsync(Db db, string state, CancellationToken cancellationToken) =>
        (await db.ListAsync(
            "SELECT user_id FROM discord_link_states WHERE state_hash = $1 AND expires_at > now() FOR UPDATE SKIP LOCKED",
            reader => reader.GetInt64(0), cancellationToken, Sql.Arg(Hash(state)))) is [var user] ? user : null;

    public static Task<int> ConsumeStateAsync(Db db, string state, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM discord_link_states WHERE state_hash = $1", cancellationToken, Sql.Arg(Hash(state)));

    /// <summary>
    /// Links <paramref name="userId"/> to <paramref name="discordUserId"/>, replacing either side's earlier link; returns
    /// the Discord account the user was linked to before, when it was another one (its role must go).
    /// </summary>
    public static async Task<long?> LinkAsync(Db db, long userId, long discordUserId, CancellationToken cancellationToken)
    {
        var previous = await db.ScalarAsync<long?>(
            "SELECT discord_user_id FROM discord_links WHERE user_id = $1", cancellationToken, Sql.Arg(userId));
        await db.ExecuteAsync("DELETE FROM discord_links WHERE discord_user_id = $1 AND user_id <> $2", cancellationToken, Sql.Arg(discordUserId), Sql.Arg(userId));
        await db.ExecuteAsync(
            """
            INSERT INTO discord_links (user_id, discord_user_id) VALUES ($1, $2)
            ON CONFLICT (user_id) DO UPDATE SET discord_user_id = EXCLUDED.discord_user_id, linked_at = now()
            """,
            cancellationToken, Sql.Arg(userId), Sql.Arg(discordUserId));
        return previous is { } before && before != discordUserId ? before : null;
    }

    /// <summary>Removes the user's link; returns the Discord account it was, or null when there was none.</summary>
    public static Task<long?> UnlinkAsync(Db db, long userId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("DELETE FROM discord_links WHERE user_id = $1 RETURNING discord_user_id", cancellationToken, Sql.Arg(userId));

    public static Task<long?> LinkedAccountAsync(Db db, long userId, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT discord_user_id FROM discord_links WHERE user_id = $1", cancellationToken, Sql.Arg(userId));

    /// <summary>
    /// Queues a role change. A pending job for the same account is replaced: only the latest wish counts (a leave
    /// after a join removes; a join after a leave adds).
    /// </summary>
    public static async Task EnqueueAsync(Db db, long discordUserId, bool add, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync(
            "UPDATE discord_role_jobs SET state = 'done', done_at = now(), last_error = 'superseded' WHERE discord_user_id = $1 AND state = 'pending'",
            cancellationToken, Sql.Arg(discordUserId));
        await db.ExecuteAsync(
            "INSERT INTO discord_role_jobs (discord_user_id, action) VALUES ($1, $2)",
            cancellationToken, Sql.Arg(discordUserId), Sql.Arg(add ? "add" : "remove"));
    }

    public static byte[] Hash(string state) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(state));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
