using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.Subscriptions;

/// <summary>A user's subscription status (users.status).</summary>
public static class SubscriberStatus
{
    public const string None = "none";
    public const string Active = "active";
    public const string Stopped = "stopped";
    public const string Blocked = "blocked";
}

/// <summary>The users table's subscriptions: who subscribed, stopped or blocked the bot, and the active ones in id order.</summary>
public static class Subscribers
{
    /// <summary>The next active subscribers after a cursor: $1 the last user id taken, $2 how many (a broadcast's chunk).</summary>
    internal const string ChunkSql = "SELECT user_id FROM users WHERE status = 'active' AND user_id > $1 ORDER BY user_id LIMIT $2";

    /// <summary>A scalar sub-select: how many active subscribers come after the user id <paramref name="cursorColumn"/>.</summary>
    public static string CountActiveAfter(string cursorColumn) => $"(SELECT count(*) FROM users WHERE status = 'active' AND user_id > {cursorColumn})";

    /// <summary>The active subscribers after <paramref name="cursor"/>, in id order, at most <paramref name="limit"/>.</summary>
    public static Task<List<long>> ActiveAfterAsync(Db db, long cursor, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(ChunkSql, reader => reader.GetInt64(0), cancellationToken, Arg(cursor), Arg(limit));

    /// <summary>
    /// Subscribes the user (the deep-link source of the first /start is kept; talking to the bot again makes a blocked
    /// user active). Returns the status before and the user's /lang choice.
    /// </summary>
    public static async Task<(string? Previous, string? Language)> SubscribeAsync(
        Db db, long userId, string? languageCode, string source, CancellationToken cancellationToken)
    {
        var row = await db.FirstAsync(
            """
            WITH previous AS (SELECT status FROM users WHERE user_id = $1)
            INSERT INTO users AS u (user_id, language_code, status, source, subscribed_at, status_at, last_seen_at)
            VALUES ($1, $2, 'active', nullif($3, ''), now(), now(), now())
            ON CONFLICT (user_id) DO UPDATE SET
                language_code = excluded.language_code,
                last_seen_at = now(),
                status = 'active',
                source = coalesce(u.source, excluded.source),
                subscribed_at = coalesce(u.subscribed_at, now()),
                status_at = CASE WHEN u.status = 'active' THEN u.status_at ELSE now() END
            RETURNING (SELECT status FROM previous), u.language
            """,
            reader => new Tuple<string?, string?>(reader.StringOrNull(0), reader.StringOrNull(1)),
            cancellationToken, Arg(userId), Arg(languageCode), Arg(source));
        return (row!.Item1, row.Item2);
    }

    /// <summary>Unsubscribes an active user; false when they were not subscribed.</summary>
    public static async Task<bool> StopAsync(Db db, long userId, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("UPDATE users SET status = 'stopped', status_at = now() WHERE user_id = $1 AND status = 'active'", cancellationToken, Arg(userId)) > 0;

    /// <summary>An active subscriber whose private chat refused the bot (403) is blocked.</summary>
    public static Task MarkBlockedAsync(Db db, long userId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE users SET status = 'blocked', status_at = now() WHERE user_id = $1 AND status = 'active'", cancellationToken, Arg(userId));
}
