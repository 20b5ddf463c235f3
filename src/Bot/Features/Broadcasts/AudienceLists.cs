using Bot.Storage;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>A saved audience list: its name, how many user ids it holds, and when it was last saved.</summary>
public sealed record AudienceListSummary(string Name, int Count, DateTimeOffset SavedAt);

/// <summary>A saved audience list with a page of its user ids (in id order, after the given one).</summary>
public sealed record AudienceListView(string Name, int Count, DateTimeOffset SavedAt, long[] UserIds);

/// <summary>
/// Saved audiences (audience_lists: one row per name and user id), which a broadcast's audience names with
/// <c>{"list": NAME}</c>. A save replaces the whole list in one transaction.
/// </summary>
public static class AudienceLists
{
    /// <summary>The most user ids one list may hold.</summary>
    public const int MaxUserIds = 100_000;

    /// <summary>The body limit of a save: 100,000 ids of up to 19 digits with their commas, and some room.</summary>
    public const int MaxBodyBytes = 2 * 1024 * 1024 + 64 * 1024;

    /// <summary>The most lists GET /admin/audience-lists shows.</summary>
    public const int MaxListed = 1000;

    public static bool IsName(string name) => Audience.ListNamePattern().IsMatch(name);

    /// <summary>Replaces the list's user ids (duplicates count once); returns how many it holds now.</summary>
    public static async Task<int> ReplaceAsync(Db db, string name, long[] userIds, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync("DELETE FROM audience_lists WHERE name = $1", cancellationToken, Arg(name));
        return await db.ExecuteAsync(
            "INSERT INTO audience_lists (name, user_id) SELECT $1, u FROM unnest($2::bigint[]) AS u ON CONFLICT DO NOTHING",
            cancellationToken, Arg(name), Arg(userIds));
    }

    public static Task<List<AudienceListSummary>> ListAsync(Db db, CancellationToken cancellationToken) =>
        db.ListAsync(
            "SELECT name, count(*)::int, max(created_at) FROM audience_lists GROUP BY name ORDER BY name LIMIT $1",
            reader => new AudienceListSummary(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2)),
            cancellationToken, Arg(MaxListed));

    /// <summary>The list's size and up to <paramref name="limit"/> of its user ids after <paramref name="after"/>; null when there is no such list.</summary>
    public static Task<AudienceListView?> GetAsync(Db db, string name, long after, int limit, CancellationToken cancellationToken) =>
        db.FirstAsync(
            """
            SELECT name, count(*)::int, max(created_at),
                   ARRAY(SELECT user_id FROM audience_lists WHERE name = $1 AND user_id > $2 ORDER BY user_id LIMIT $3)
            FROM audience_lists WHERE name = $1 GROUP BY name
            """,
            reader => new AudienceListView(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<long[]>(3)),
            cancellationToken, Arg(name), Arg(after), Arg(limit));

    public static async Task<bool> ExistsAsync(Db db, string name, CancellationToken cancellationToken) =>
        await db.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM audience_lists WHERE name = $1)", cancellationToken, Arg(name));

    /// <summary>Deletes the list; false when there was none.</summary>
    public static async Task<bool> DeleteAsync(Db db, string name, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("DELETE FROM audience_lists WHERE name = $1", cancellationToken, Arg(name)) > 0;
}
