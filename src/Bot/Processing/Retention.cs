using Bot.Storage;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// The statements that keep every growing table bounded, one batch per call. Each reads its table's index on the
/// row's finish time in order, deletes the rows it picked by primary key (the state is tested again, so a row that
/// changed meanwhile stays) and returns how many went and the finish time of the last one; the next batch starts
/// from there, so rows that must stay (a running broadcast's messages) are read once per pass, not once per batch.
/// </summary>
public static class Retention
{
    /// <summary>A batch: how many rows were deleted and the latest finish time among them (null when none).</summary>
    public readonly record struct Batch(int Deleted, DateTimeOffset? Last);

    /// <summary>Where a pass starts: before any row.</summary>
    public static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch;

    /// <summary>Handled updates (done) finished before the retention. Through inbox_finished_at.</summary>
    public const string DoneUpdatesSql =
        """
        WITH gone AS (
            DELETE FROM inbox
            WHERE update_id = ANY (ARRAY(
                SELECT update_id FROM inbox
                WHERE state = 'done' AND processed_at < now() - make_interval(secs => $1) AND processed_at >= $2
                ORDER BY processed_at
                LIMIT $3))
              AND state = 'done'
            RETURNING processed_at
        )
        SELECT count(*)::int, max(processed_at) FROM gone
        """;

    /// <summary>
    /// Dead-lettered updates that died before their own retention, through inbox_dead. A dead row is never a chat's
    /// head, so deleting it needs no change to inbox_heads; one requeued meanwhile is pending again and the state
    /// test keeps it.
    /// </summary>
    public const string DeadUpdatesSql =
        """
        WITH gone AS (
            DELETE FROM inbox
            WHERE update_id = ANY (ARRAY(
                SELECT update_id FROM inbox
                WHERE state = 'dead' AND processed_at < now() - make_interval(secs => $1) AND processed_at >= $2
                ORDER BY processed_at
                LIMIT $3))
              AND state = 'dead'
            RETURNING processed_at
        )
        SELECT count(*)::int, max(processed_at) FROM gone
        """;

    /// <summary>Runs one batch of <paramref name="sql"/> (one of the statements above) from <paramref name="from"/>.</summary>
    public static async Task<Batch> RunBatchAsync(
        NpgsqlDataSource dataSource, string sql, TimeSpan retention, DateTimeOffset from, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(Sql.Arg<double>(retention.TotalSeconds));
        command.Parameters.Add(Sql.Arg<DateTimeOffset>(from));
        command.Parameters.Add(Sql.Arg<int>(limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Batch(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }
}
