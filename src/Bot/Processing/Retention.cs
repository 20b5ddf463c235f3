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

    /// <summary>
    /// Sent and dead messages settled before the retention. Through outbox_finished_at. A broadcast's messages are
    /// counted from the outbox while it runs and for a while after it ends, and its status message is read back for
    /// the message id to edit: the messages of a broadcast that is running or ended within the retention, and its
    /// status message, are kept.
    /// </summary>
    public const string OutboxSql =
        """
        WITH kept AS (
            SELECT id, status_outbox_id FROM broadcasts
            WHERE state = 'running' OR finished_at > now() - make_interval(secs => $1)
        ), gone AS (
            DELETE FROM outbox
            WHERE id = ANY (ARRAY(
                SELECT o.id FROM outbox o
                WHERE o.state IN ('sent', 'dead') AND o.sent_at < now() - make_interval(secs => $1) AND o.sent_at >= $2
                  AND (o.broadcast_id IS NULL OR o.broadcast_id NOT IN (SELECT id FROM kept))
                  AND o.id NOT IN (SELECT status_outbox_id FROM kept WHERE status_outbox_id IS NOT NULL)
                ORDER BY o.sent_at
                LIMIT $3))
              AND state IN ('sent', 'dead')
            RETURNING sent_at
        )
        SELECT count(*)::int, max(sent_at) FROM gone
        """;

    /// <summary>Decided join requests (approved, declined) past the audit period; pending ones are never touched.</summary>
    public const string JoinDecisionsSql =
        """
        WITH gone AS (
            DELETE FROM join_requests
            WHERE id = ANY (ARRAY(
                SELECT id FROM join_requests
                WHERE state <> 'pending' AND decided_at < now() - make_interval(secs => $1) AND decided_at >= $2
                ORDER BY decided_at
                LIMIT $3))
              AND state <> 'pending'
            RETURNING decided_at
        )
        SELECT count(*)::int, max(decided_at) FROM gone
        """;

    /// <summary>Runs one batch of <paramref name="sql"/> (one of the statements above) from <paramref name="from"/>.</summary>
    public static async Task<Batch> RunBatchAsync(
        NpgsqlDataSource dataSource, string sql, TimeSpan retention, DateTimeOffset from, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = retention.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Batch(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }
}
