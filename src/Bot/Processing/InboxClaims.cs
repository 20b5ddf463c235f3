using Bot.Storage;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// A claimed update: the worker holds its lease until it completes, fails or the lease runs out. One that
/// <paramref name="DeadLettered"/> had used up its attempts without finishing (its handler crashed or hung the
/// process each time) and was dead-lettered by the claim instead of being handed out again. One that is
/// <paramref name="Orphaned"/> was taken over from a lease that ran out: its last attempt ended without an
/// outcome (a crash, a hang or a stall), so it may be the update that ends processes.
/// </summary>
public sealed record ClaimedUpdate(
    long UpdateId, long? ChatId, string Kind, string Payload, int Attempts, string? TraceContext, DateTimeOffset ReceivedAt,
    bool DeadLettered = false, bool Orphaned = false);

/// <summary>The inbox as a work queue: claim in per-chat order, complete with the handler's transaction, fail, purge.</summary>
public sealed class InboxClaims(NpgsqlDataSource dataSource)
{
    // The claim reads only inbox_heads (one row per chat with unfinished updates, kept by triggers): the oldest
    // heads whose lease is free or ran out, in update_id order, so a chat's updates are handled one at a time in
    // order on any replica while chats run in parallel. The inbox rows are then reached by primary key only: no
    // plan of this statement scans the inbox, whatever its statistics say. (The state test is a CASE so that no
    // partial index's predicate matches it: with the statistics of an empty queue the planner would otherwise
    // read such an index whole, thinking it empty, to filter it by update_id.) SKIP LOCKED on both lets concurrent
    // claimers and completions pass each other instead of queueing (or deadlocking) on the same rows.
    // An update whose attempts are spent without a recorded failure (each attempt ended with the process) is
    // dead-lettered here, so that it cannot take the replicas down one after another.
    internal const string ClaimSql =
        """
        WITH candidate AS (
            SELECT h.update_id
            FROM inbox_heads h
            WHERE h.lease_until IS NULL OR h.lease_until < now()
            ORDER BY h.update_id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ), locked AS (
            SELECT i.update_id, i.state
            FROM inbox i
            WHERE i.update_id = ANY (ARRAY(SELECT update_id FROM candidate))
              AND CASE WHEN i.state IN ('done', 'dead') THEN false ELSE true END
            FOR UPDATE SKIP LOCKED
        )
        UPDATE inbox AS t
        SET state = CASE WHEN t.attempts >= $4 THEN 'dead' ELSE 'processing' END,
            lease_owner = CASE WHEN t.attempts >= $4 THEN NULL ELSE $2 END,
            lease_until = CASE WHEN t.attempts >= $4 THEN NULL ELSE now() + make_interval(secs => $3) END,
            attempts = CASE WHEN t.attempts >= $4 THEN t.attempts ELSE t.attempts + 1 END,
            processed_at = CASE WHEN t.attempts >= $4 THEN now() END,
            last_error = CASE WHEN t.attempts >= $4
                THEN left('the handler did not finish in ' || t.attempts || ' attempts' || coalesce('; last recorded error: ' || t.last_error, ''), 2000)
                ELSE t.last_error END
        WHERE t.update_id = ANY (ARRAY(SELECT update_id FROM locked))
        RETURNING t.update_id, t.chat_id, t.kind, t.payload, t.attempts, t.trace_context, t.received_at, t.state = 'dead',
            (SELECT l.state FROM locked l WHERE l.update_id = t.update_id) = 'processing'
        """;

    public async Task<IReadOnlyList<ClaimedUpdate>> ClaimAsync(int limit, string owner, TimeSpan lease, int maxAttempts, CancellationToken cancellationToken)
    {
        // A claim need not survive a database crash: if it is lost, the worker's completion finds no lease
        // of its own and rolls back, and the update is claimed again. Not waiting for the WAL flush here
        // halves the flushes per update.
        var claim = new NpgsqlBatchCommand(ClaimSql);
        claim.Parameters.Add(Sql.Arg<int>(limit));
        claim.Parameters.Add(Sql.Arg<string>(owner));
        claim.Parameters.Add(Sql.Arg<double>(lease.TotalSeconds));
        claim.Parameters.Add(Sql.Arg<int>(maxAttempts));
        var claimed = await dataSource.ReadWithoutFlushAsync(claim, reader => new ClaimedUpdate(
            reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
            reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetBoolean(7), reader.GetBoolean(8)),
            cancellationToken);

        // Claims come back in no particular order; a caller that starts them in order keeps logs readable.
        claimed.Sort((a, b) => a.UpdateId.CompareTo(b.UpdateId));
        return claimed;
    }

    /// <summary>
    /// Marks the update done inside the handler's transaction, only while this worker still holds it: a worker
    /// whose lease ran out and was taken over finds no row and must roll back, so nothing is applied twice.
    /// <paramref name="before"/> (the handler's held-back outbox rows) goes first in the same round trip.
    /// </summary>
    public static async Task<bool> CompleteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ClaimedUpdate update, string owner, NpgsqlBatchCommand? before, CancellationToken cancellationToken) =>
        await CompleteAllAsync(connection, transaction, [update], owner, before is null ? [] : [before], cancellationToken) == 1;

    /// <summary>
    /// <see cref="CompleteAsync"/> for a group handled in one transaction: <paramref name="before"/> (the handlers'
    /// outbox rows) and one completion for every update, in one round trip. Returns how many were still this
    /// worker's; fewer than the group means a lease was lost and the transaction must be rolled back.
    /// </summary>
    public static async Task<int> CompleteAllAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ClaimedUpdate> updates, string owner,
        IEnumerable<NpgsqlBatchCommand> before, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var command in before)
        {
            batch.BatchCommands.Add(command);
        }

        var complete = new NpgsqlBatchCommand(CompleteSql);
        complete.Parameters.Add(Sql.Arg<long[]>(updates.Select(u => u.UpdateId).ToArray()));
        complete.Parameters.Add(Sql.Arg<string>(owner));
        batch.BatchCommands.Add(complete);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return complete.RecordsAffected;
    }

    /// <summary>
    /// The completion: $1 the updates, $2 this worker. Reached by primary key only: the state is tested as a CASE, so that
    /// no partial index's predicate matches it (after statistics of an empty queue the planner otherwise read all of
    /// inbox_open_by_chat for every completion, docs/performance.md, "burst-after-quiet rounds"). The same holds for the
    /// failure and the releases below.
    /// </summary>
    internal const string CompleteSql =
        """
        UPDATE inbox SET state = 'done', processed_at = now(), lease_owner = NULL, lease_until = NULL, last_error = NULL
        WHERE update_id = ANY($1) AND lease_owner = $2 AND CASE WHEN state = 'processing' THEN true ELSE false END
        """;

    /// <summary>Releases a failed update for a later retry, or dead-letters it after the last attempt.</summary>
    public async Task<bool> FailAsync(ClaimedUpdate update, string owner, string error, int maxAttempts, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE inbox
            SET state = CASE WHEN attempts >= $3 THEN 'dead' ELSE 'pending' END,
                processed_at = CASE WHEN attempts >= $3 THEN now() END,
                lease_owner = NULL,
                lease_until = CASE WHEN attempts >= $3 THEN NULL ELSE now() + make_interval(secs => $4) END,
                last_error = left($5, 2000)
            WHERE update_id = $1 AND lease_owner = $2 AND CASE WHEN state = 'processing' THEN true ELSE false END
            RETURNING state = 'dead'
            """);
        command.Parameters.Add(Sql.Arg<long>(update.UpdateId));
        command.Parameters.Add(Sql.Arg<string>(owner));
        command.Parameters.Add(Sql.Arg<int>(maxAttempts));
        command.Parameters.Add(Sql.Arg<double>(retryAfter.TotalSeconds));
        command.Parameters.Add(Sql.Arg<string>(error));
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>
    /// Gives back claims of updates taken over from a lease that ran out, still as such (processing, lease expired),
    /// so that the next claim hands each of them out alone again; their attempt is not counted.
    /// </summary>
    public async Task ReleaseOrphansAsync(IEnumerable<long> updateIds, string owner, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE inbox SET lease_owner = NULL, lease_until = now() - interval '1 millisecond', attempts = greatest(attempts - 1, 0)
            WHERE update_id = ANY($1) AND lease_owner = $2 AND CASE WHEN state = 'processing' THEN true ELSE false END
            """);
        command.Parameters.Add(Sql.Arg<long[]>(updateIds.ToArray()));
        command.Parameters.Add(Sql.Arg<string>(owner));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Gives claims back at shutdown so another replica takes them at once instead of after the lease.</summary>
    public async Task ReleaseAsync(IEnumerable<long> updateIds, string owner, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE inbox SET state = 'pending', lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
            WHERE update_id = ANY($1) AND lease_owner = $2 AND CASE WHEN state = 'processing' THEN true ELSE false END
            """);
        command.Parameters.Add(Sql.Arg<long[]>(updateIds.ToArray()));
        command.Parameters.Add(Sql.Arg<string>(owner));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
