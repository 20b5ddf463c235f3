using Npgsql;

namespace Bot.Storage;

/// <summary>Rows of one table that the leader's purge deletes once they are past their retention.</summary>
public interface IPurgeRule
{
    /// <summary>What the rows are, for the log ("handled updates").</summary>
    string What { get; }

    /// <summary>Deletes what is due, in batches of its own; returns how many rows went.</summary>
    Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken);
}

/// <summary>
/// A purge rule in batches: a statement in <see cref="Retention"/>'s shape deleting at most <see cref="Retention.BatchSize"/>
/// rows finished before the retention and from a point on, run until a batch comes back short or
/// <see cref="Retention.MaxBatches"/> batches have run, each its own statement and commit; a large backlog is worked off
/// over several passes.
/// </summary>
public abstract class BatchedPurgeRule : IPurgeRule
{
    public abstract string What { get; }

    /// <summary>The batch statement: $1 the retention in seconds, $2 where to start, $3 the batch size.</summary>
    protected abstract string Sql { get; }

    protected abstract TimeSpan RetentionPeriod { get; }

    public async Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var (total, from) = (0, Retention.Start);
        for (var batch = 0; batch < Retention.MaxBatches && !cancellationToken.IsCancellationRequested; batch++)
        {
            var (deleted, last) = await Retention.RunBatchAsync(dataSource, Sql, RetentionPeriod, from, Retention.BatchSize, cancellationToken);
            total += deleted;
            if (deleted < Retention.BatchSize || last is null)
            {
                break;
            }

            from = last.Value;
        }

        return total;
    }
}

/// <summary>
/// How every growing table is kept bounded, one batch per statement. A batch statement reads its table's index on the
/// row's finish time in order, deletes the rows it picked by primary key (the state is tested again, so a row that
/// changed meanwhile stays) and returns how many went and the finish time of the last one; the next batch starts
/// from there, so rows that must stay are read once per pass, not once per batch.
/// </summary>
public static class Retention
{
    public const int BatchSize = 5000;

    /// <summary>
    /// The <see cref="BatchedPurgeRule"/> statement for a table with an id key whose rows expire by one time column:
    /// the oldest batch past the retention ($1 seconds), from $2 on, at most $3 rows; the count and the last time deleted.
    /// </summary>
    public static string BatchByTime(string table, string column) =>
        $"""
        WITH gone AS (
            DELETE FROM {table}
            WHERE id = ANY (ARRAY(
                SELECT id FROM {table}
                WHERE {column} < now() - make_interval(secs => $1) AND {column} >= $2
                ORDER BY {column}
                LIMIT $3))
            RETURNING {column}
        )
        SELECT count(*)::int, max({column}) FROM gone
        """;
    public const int MaxBatches = 100;

    /// <summary>A batch: how many rows were deleted and the latest finish time among them (null when none).</summary>
    public readonly record struct Batch(int Deleted, DateTimeOffset? Last);

    /// <summary>Where a pass starts: before any row.</summary>
    public static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// Runs <paramref name="batch"/> (a delete of at most <see cref="BatchSize"/> rows, returning how many went) until one
    /// comes back short or <see cref="MaxBatches"/> have run; returns the total.
    /// </summary>
    public static async Task<int> RepeatAsync(Func<Task<int>> batch, CancellationToken cancellationToken)
    {
        var total = 0;
        for (var n = 0; n < MaxBatches && !cancellationToken.IsCancellationRequested; n++)
        {
            var deleted = await batch();
            total += deleted;
            if (deleted < BatchSize)
            {
                break;
            }
        }

        return total;
    }

    /// <summary>Runs one batch of <paramref name="sql"/> (one of the statements above) from <paramref name="from"/>.</summary>
    public static async Task<Batch> RunBatchAsync(
        NpgsqlDataSource dataSource, string sql, TimeSpan retention, DateTimeOffset from, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(Bot.Storage.Sql.Arg<double>(retention.TotalSeconds));
        command.Parameters.Add(Bot.Storage.Sql.Arg<DateTimeOffset>(from));
        command.Parameters.Add(Bot.Storage.Sql.Arg<int>(limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Batch(reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }
}
