using Bot.Features.Subscriptions;
using Bot.Processing;
using Bot.Storage;
using Npgsql;
using static Bot.Storage.Sql;

namespace Bot.Features.FloodControl;

/// <summary>One user's window: how many updates it counted, whether the user was warned, when it began.</summary>
public sealed record FloodCount(int Updates, bool Warned, DateTimeOffset WindowStart, string? Language);

/// <summary>The flood_windows table: one row per user, the current window's count, kept exact across replicas by the handler's transaction.</summary>
public static class FloodWindows
{
    /// <summary>
    /// Counts one update against each user's window (keyed by the time the update was received) and returns the
    /// windows, with each user's /lang choice read on the way. Users must be distinct.
    /// </summary>
    public static async Task<Dictionary<long, FloodCount>> CountAsync(
        Db db, long[] users, DateTimeOffset[] receivedAt, int windowSeconds, CancellationToken cancellationToken)
    {
        var rows = await db.ListAsync(
            $"""
            INSERT INTO flood_windows AS f (user_id, window_start, updates)
            SELECT u.user_id, u.received_at, 1 FROM unnest($1::bigint[], $2::timestamptz[]) AS u(user_id, received_at)
            ON CONFLICT (user_id) DO UPDATE SET
                window_start = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN excluded.window_start ELSE f.window_start END,
                updates      = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN 1 ELSE f.updates + 1 END,
                warned       = CASE WHEN f.window_start <= excluded.window_start - make_interval(secs => $3) THEN false ELSE f.warned END
            RETURNING f.user_id, f.updates, f.warned, f.window_start, {UserDirectory.ChosenLanguageOf("f.user_id")}
            """,
            reader => (User: reader.GetInt64(0), Count: new FloodCount(reader.GetInt32(1), reader.GetBoolean(2), reader.GetFieldValue<DateTimeOffset>(3), reader.StringOrNull(4))),
            cancellationToken, Arg(users), Arg(receivedAt), Arg(windowSeconds));
        return rows.ToDictionary(r => r.User, r => r.Count);
    }

    /// <summary>Marks the user's window warned (the warning is given once per window), and records the warning in the chat it was given in (flood_warnings).</summary>
    public static Task MarkWarnedAsync(Db db, long userId, long chatId, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            """
            WITH warned AS (UPDATE flood_windows SET warned = true WHERE user_id = $1)
            INSERT INTO flood_warnings (chat_id, user_id) VALUES ($2, $1)
            """,
            cancellationToken, Arg(userId), Arg(chatId));

    /// <summary>The flood warnings given in a chat since the start of today (UTC, by the database's clock) and in the last 7 days.</summary>
    public static async Task<(int Today, int Week)> WarningsAsync(Db db, long chatId, CancellationToken cancellationToken) =>
        (await db.FirstAsync(
            """
            WITH b AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS today)
            SELECT count(w.id) FILTER (WHERE w.warned_at >= b.today)::int, count(w.id)::int
            FROM b LEFT JOIN flood_warnings w ON w.chat_id = $1 AND w.warned_at >= b.today - interval '6 days'
            GROUP BY b.today
            """,
            reader => new Tuple<int, int>(reader.GetInt32(0), reader.GetInt32(1)),
            cancellationToken, Arg(chatId))) is { } counts ? (counts.Item1, counts.Item2) : (0, 0);

    /// <summary>Flood warnings older than 30 days (<see cref="Retention"/>'s batch shape).</summary>
    public static readonly string WarningsPurgeSql = Retention.BatchByTime("flood_warnings", "warned_at");

    /// <summary>Deletes windows that began more than a day ago (longer than any window may last).</summary>
    public static Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Db.Of(dataSource).ExecuteAsync("DELETE FROM flood_windows WHERE window_start < now() - interval '1 day'", cancellationToken);
}
