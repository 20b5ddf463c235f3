using Bot.Storage;
using Npgsql;

namespace Bot.Migrations;

public enum MigrationState
{
    Applied,
    Pending,
    /// <summary>Applied in the database but not known to this binary (a newer release applied it).</summary>
    Unknown,
    /// <summary>Applied, but the script in this binary differs from the one that ran.</summary>
    Modified,
}

public sealed record MigrationStatus(int Version, string Name, MigrationState State, DateTimeOffset? AppliedAt);

/// <summary>
/// Applies and reverts the embedded migrations. Every run holds a session advisory lock, so concurrent runs
/// (two pods, a hook Job and a developer) queue up instead of racing; each migration commits on its own
/// together with its row in <c>schema_migrations</c>.
/// </summary>
public sealed class Migrator(NpgsqlDataSource dataSource, IReadOnlyList<Migration> migrations, TextWriter log)
{
    // Derived from the text "bot.schema_migrations"; fixed forever so old and new releases share the lock.
    private const long LockKey = 0x626F745F6D696772;

    public int LatestVersion => MigrationCatalog.LatestVersion(migrations);

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The schema version this release needs: its newest embedded migration.</summary>
    public static int RequiredVersion { get; } = MigrationCatalog.LatestVersion(MigrationCatalog.Embedded);

    /// <summary>The database's schema version, within <paramref name="timeout"/> (exceeding it throws OperationCanceledException).</summary>
    public static async Task<int> ReadVersionAsync(NpgsqlDataSource dataSource, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        await using var connection = await dataSource.OpenConnectionAsync(bounded.Token);
        return await CurrentVersionAsync(connection, bounded.Token);
    }

    /// <summary>The highest applied version, or 0 for an empty database. Needs no lock.</summary>
    public static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!await TableExistsAsync(connection, cancellationToken))
        {
            return 0;
        }

        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_migrations", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<int> UpAsync(int? target, CancellationToken cancellationToken)
    {
        var to = target ?? LatestVersion;
        if (to < 0 || to > LatestVersion)
        {
            throw new MigrationException($"no migration {to}: this binary knows versions 1 to {LatestVersion}");
        }

        await using var connection = await LockedConnectionAsync(cancellationToken);
        try
        {
            var applied = await AppliedAsync(connection, cancellationToken);
            CheckChecksums(applied);
            var count = 0;
            foreach (var migration in migrations.Where(m => m.Version <= to && !applied.ContainsKey(m.Version)))
            {
                log.WriteLine($"applying {migration.Version:D4}_{migration.Name}");
                await RunAsync(connection, migration.Up, migration.UpInTransaction,
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [
                        Sql.Arg<int>(migration.Version),
                        Sql.Arg<string>(migration.Name),
                        Sql.Arg<string>(migration.Checksum),
                    ],
                    cancellationToken);
                count++;
            }

            var version = await CurrentVersionAsync(connection, cancellationToken);
            log.WriteLine(count == 0 ? $"schema is up to date at version {version}" : $"applied {count}, schema at version {version}");
            return version;
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    /// <summary>Reverts down to <paramref name="target"/> (the previous version when null).</summary>
    public async Task<int> DownAsync(int? target, CancellationToken cancellationToken)
    {
        await using var connection = await LockedConnectionAsync(cancellationToken);
        try
        {
            var applied = await AppliedAsync(connection, cancellationToken);
            var current = applied.Count == 0 ? 0 : applied.Keys.Max();
            var to = target ?? Math.Max(0, current - 1);
            if (to < 0)
            {
                throw new MigrationException("--to must be 0 or more");
            }

            var known = migrations.ToDictionary(m => m.Version);
            var toRevert = applied.Keys.Where(v => v > to).OrderDescending().ToList();
            var unknown = toRevert.Where(v => !known.ContainsKey(v)).ToList();
            if (unknown.Count > 0)
            {
                throw new MigrationException(
                    $"version {unknown[0]} is applied but this binary does not know it; revert it with the release that added it");
            }

            CheckChecksums(applied);
            foreach (var version in toRevert)
            {
                var migration = known[version];
                log.WriteLine($"reverting {migration.Version:D4}_{migration.Name}");
                await RunAsync(connection, migration.Down, migration.DownInTransaction,
                    "DELETE FROM schema_migrations WHERE version = $1",
                    [new NpgsqlParameter<int> { TypedValue = migration.Version }],
                    cancellationToken);
            }

            var now = await CurrentVersionAsync(connection, cancellationToken);
            log.WriteLine(toRevert.Count == 0 ? $"nothing to revert, schema at version {now}" : $"reverted {toRevert.Count}, schema at version {now}");
            return now;
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    public async Task<IReadOnlyList<MigrationStatus>> StatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var applied = await AppliedAsync(connection, cancellationToken, createTable: false);
        var rows = new List<MigrationStatus>();
        foreach (var migration in migrations)
        {
            if (applied.TryGetValue(migration.Version, out var row))
            {
                var state = row.Checksum == migration.Checksum ? MigrationState.Applied : MigrationState.Modified;
                rows.Add(new MigrationStatus(migration.Version, migration.Name, state, row.AppliedAt));
            }
            else
            {
                rows.Add(new MigrationStatus(migration.Version, migration.Name, MigrationState.Pending, null));
            }
        }

        foreach (var (version, row) in applied.Where(a => migrations.All(m => m.Version != a.Key)))
        {
            rows.Add(new MigrationStatus(version, row.Name, MigrationState.Unknown, row.AppliedAt));
        }

        return rows.OrderBy(r => r.Version).ToList();
    }

    private void CheckChecksums(Dictionary<int, AppliedRow> applied)
    {
        foreach (var migration in migrations)
        {
            if (applied.TryGetValue(migration.Version, out var row) && row.Checksum != migration.Checksum)
            {
                throw new MigrationException(
                    $"migration {migration.Version:D4}_{migration.Name} was changed after it was applied; add a new migration instead of editing an applied one");
            }
        }
    }

    /// <summary>
    /// Takes the migration lock by trying every 100 ms rather than by a blocking pg_advisory_lock: a waiter blocked
    /// in that statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the run that holds the lock waits for
    /// every older snapshot to go, so the two would deadlock. Between tries a waiter holds nothing.
    /// </summary>
    private async Task AcquireLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
        command.Parameters.Add(Sql.Arg<long>(LockKey));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            if (waited.Elapsed >= LockTimeout)
            {
                throw new TimeoutException($"another migration run held the migration lock for more than {LockTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    private async Task<NpgsqlConnection> LockedConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await AcquireLockAsync(connection, cancellationToken);

            // A schema change may run long (no statement timeout), but never waits long for a lock: queued behind
            // a busy table, it would queue every query of the bot behind itself. A lock it cannot get in time fails
            // the migration's transaction, which is then tried again (RunWithLockRetryAsync).
            await using (var session = new NpgsqlCommand(
                $"SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; SET lock_timeout = '{MigrationLockTimeout.TotalMilliseconds}ms'", connection))
            {
                await session.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var command = new NpgsqlCommand(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer     PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, connection))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task UnlockAsync(NpgsqlConnection connection)
    {
        // Closing the session releases the lock too; unlocking first lets a pooled connection be reused cleanly.
        if (connection.State == System.Data.ConnectionState.Open)
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>How long a migration statement waits for a lock before its transaction is given up and tried again.</summary>
    public static readonly TimeSpan MigrationLockTimeout = TimeSpan.FromSeconds(3);

    private const int LockAttempts = 10;

    private async Task RunAsync(
        NpgsqlConnection connection, string script, bool inTransaction, string bookkeeping,
        NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RunOnceAsync(connection, script, inTransaction, bookkeeping, parameters, cancellationToken);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.LockNotAvailable && inTransaction && attempt < LockAttempts)
            {
                // Rolled back with its transaction: nothing of it stays. Others got the lock meanwhile; try again.
                var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt - 1)));
                log.WriteLine($"a lock was not free within {MigrationLockTimeout.TotalSeconds:0} s (attempt {attempt} of {LockAttempts}); retrying in {delay.TotalSeconds:0} s");
                await Task.Delay(delay, cancellationToken);
                foreach (var parameter in parameters)
                {
                    parameter.Collection = null;
                }
            }
        }
    }

    private static async Task RunOnceAsync(
        NpgsqlConnection connection, string script, bool inTransaction, string bookkeeping,
        NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        // A migration outside a transaction (CREATE INDEX CONCURRENTLY) waits for what it must: given up half
        // way it would leave an invalid index behind. It blocks no writes while it waits.
        if (!inTransaction)
        {
            await using var wait = new NpgsqlCommand("SET lock_timeout = 0", connection);
            await wait.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var transaction = inTransaction ? await connection.BeginTransactionAsync(cancellationToken) : null;
        await using (var command = new NpgsqlCommand(script, connection, transaction))
        {
            // Schema changes may take longer than an ordinary statement.
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = new NpgsqlCommand(bookkeeping, connection, transaction))
        {
            command.Parameters.AddRange(parameters);

            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        if (!inTransaction)
        {
            await using var restore = new NpgsqlCommand($"SET lock_timeout = '{MigrationLockTimeout.TotalMilliseconds}ms'", connection);
            await restore.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static async Task<Dictionary<int, AppliedRow>> AppliedAsync(
        NpgsqlConnection connection, CancellationToken cancellationToken, bool createTable = true)
    {
        var result = new Dictionary<int, AppliedRow>();
        if (!createTable && !await TableExistsAsync(connection, cancellationToken))
        {
            return result;
        }

        await using var command = new NpgsqlCommand("SELECT version, name, checksum, applied_at FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetInt32(0)] = new AppliedRow(reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
        }

        return result;
    }

    // Asked apart from the query that reads it: PostgreSQL plans a whole statement before running it, so a
    // statement that names a missing table fails even behind a CASE.
    private static async Task<bool> TableExistsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection);
        return (bool)(await exists.ExecuteScalarAsync(cancellationToken))!;
    }

    private sealed record AppliedRow(string Name, string Checksum, DateTimeOffset AppliedAt);
}

public sealed class MigrationException(string message) : Exception(message);
