using static Bot.Storage.Sql;
using Bot.Storage;

namespace Bot.Features.JoinGate;

/// <summary>Where a join leaves its chat: in raid mode or not, and whether this join is the one that started it.</summary>
public readonly record struct RaidState(bool InRaid, bool Started, int Joins);

/// <summary>A raid-mode period: when it began, when it ended (null: still on), the joins it saw.</summary>
public sealed record RaidPeriod(DateTimeOffset StartedAt, DateTimeOffset? EndedAt, int Joins);

/// <summary>
/// Raid mode (gate_raids): joins to a chat, requests and direct joins alike, counted in fixed one-minute windows.
/// Past Bot:RaidJoinsPerMinute the chat is in raid mode for Bot:RaidMinutes, extended by every further join past the
/// limit: new joins are held without a check (no message goes out for them) and declined when the raid is over,
/// unless an admin lets them in from the log chat first. The count's row lock makes it exact across replicas.
/// </summary>
public static class GateRaids
{
    /// <summary>Counts one join of the chat; says whether the chat is in raid mode now and whether this join started it.</summary>
    public static async Task<RaidState> CountAsync(Db db, long chatId, int limit, TimeSpan duration, CancellationToken cancellationToken)
    {
        // The conflict branch reads the row it locked (r), the newest version whoever wrote it, so joins racing for a
        // chat's first window are counted one after another; "until" is not changed here, so it says whether the chat
        // was in raid mode before this join.
        var counted = await db.FirstAsync(
            """
            INSERT INTO gate_raids AS r (chat_id, window_start, joins) VALUES ($1, now(), 1)
            ON CONFLICT (chat_id) DO UPDATE SET
                joins = CASE WHEN r.window_start <= now() - interval '1 minute' THEN 1 ELSE r.joins + 1 END,
                window_start = CASE WHEN r.window_start <= now() - interval '1 minute' THEN now() ELSE r.window_start END
            RETURNING joins, coalesce(until > now(), false)
            """,
            reader => new Tuple<int, bool>(reader.GetInt32(0), reader.GetBoolean(1)),
            cancellationToken, Arg(chatId));
        var (joins, before) = (counted!.Item1, counted.Item2);
        if (joins <= limit)
        {
            if (before)
            {
                // A join while the raid lasts, in a new minute within the limit: the period counts it too.
                await db.ExecuteAsync(
                    "UPDATE gate_raid_periods SET joins = joins + 1 WHERE id = (SELECT max(id) FROM gate_raid_periods WHERE chat_id = $1) AND until > now()",
                    cancellationToken, Arg(chatId));
            }

            return new RaidState(before, Started: false, joins);
        }

        // The period's history (gate_raid_periods) follows: a new period when this join starts the raid, counting the
        // minute's joins that passed the limit (counted here, under the window's row lock, not by timestamps, which
        // concurrent transactions take in another order than they count), else the chat's latest one is extended and
        // counts this join.
        await db.ExecuteAsync(
            """
            WITH raid AS (
                UPDATE gate_raids SET until = greatest(until, now() + make_interval(secs => $2)), started_at = CASE WHEN $3 THEN started_at ELSE now() END
                WHERE chat_id = $1
                RETURNING until, window_start),
            started AS (
                -- From the start of the minute whose joins passed the limit: those joins are the raid's too.
                INSERT INTO gate_raid_periods (chat_id, started_at, until, joins) SELECT $1, window_start, until, $4 FROM raid WHERE NOT $3)
            UPDATE gate_raid_periods p SET until = raid.until, joins = p.joins + 1 FROM raid
            WHERE $3 AND p.id = (SELECT max(id) FROM gate_raid_periods WHERE chat_id = $1)
            """,
            cancellationToken, Arg(chatId), Arg(duration.TotalSeconds), Arg(before), Arg(joins));
        return new RaidState(InRaid: true, Started: !before, joins);
    }

    /// <summary>Ends a chat's raid now (an admin's Decline all held): its held joins are then declined by the sweep.</summary>
    public static Task EndAsync(Db db, long chatId, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            """
            WITH ended AS (UPDATE gate_raids SET until = now() WHERE chat_id = $1 AND until > now())
            UPDATE gate_raid_periods SET until = now() WHERE chat_id = $1 AND until > now()
            """,
            cancellationToken, Arg(chatId));

    /// <summary>
    /// A chat's raid periods that began since <paramref name="since"/>, newest first, with the joins each saw (held or not).
    /// </summary>
    public static Task<List<RaidPeriod>> PeriodsAsync(Db db, long chatId, DateTimeOffset since, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT p.started_at, CASE WHEN p.until > now() THEN NULL ELSE p.until END, p.joins
            FROM gate_raid_periods p WHERE p.chat_id = $1 AND p.started_at >= $2 ORDER BY p.started_at DESC LIMIT 20
            """,
            reader => new RaidPeriod(reader.GetFieldValue<DateTimeOffset>(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2)),
            cancellationToken, Arg(chatId), Arg(since));

    /// <summary>Raid periods ended before the retention (<see cref="Retention"/>'s batch shape).</summary>
    public static readonly string PeriodsPurgeSql = Retention.BatchByTime("gate_raid_periods", "until");

    /// <summary>Raids that are over and not yet reported as such (taken: reported once), only while <paramref name="epoch"/> leads.</summary>
    public static Task<List<long>> TakeEndedAsync(Db db, long epoch, CancellationToken cancellationToken) =>
        db.ListAsync(
            $"""
            UPDATE gate_raids SET started_at = NULL
            WHERE started_at IS NOT NULL AND until <= now() AND {Coordination.LeaderEpochs.IsCurrent(1)}
            RETURNING chat_id
            """,
            reader => reader.GetInt64(0), cancellationToken, Arg(epoch));

    /// <summary>Held joins of a chat still pending, oldest first, locked.</summary>
    public static Task<List<long>> LockHeldAsync(Db db, long chatId, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            "SELECT id FROM join_requests WHERE chat_id = $1 AND state = 'pending' AND held ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED",
            reader => reader.GetInt64(0), cancellationToken, Arg(chatId), Arg(limit));

    /// <summary>Windows of chats that saw no join for a day (<see cref="Retention"/>'s batch shape).</summary>
    public const string PurgeSql =
        """
        WITH gone AS (
            DELETE FROM gate_raids
            WHERE chat_id IN (
                SELECT chat_id FROM gate_raids
                WHERE window_start < now() - make_interval(secs => $1) AND window_start >= $2 AND (until IS NULL OR until < now()) AND started_at IS NULL
                ORDER BY window_start
                LIMIT $3)
            RETURNING window_start
        )
        SELECT count(*)::int, max(window_start) FROM gone
        """;
}
