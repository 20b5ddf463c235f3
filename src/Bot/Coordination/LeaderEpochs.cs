using Bot.Storage;
using Npgsql;

namespace Bot.Coordination;

/// <summary>
/// Leadership terms in PostgreSQL (leader_epochs): taking the lead increments the epoch, in either lock mode. A
/// lock or a lease says who should lead; only the database can refuse a stale leader's writes, so what the
/// singletons write carries their term's epoch and changes a row only while that epoch is the current one.
/// </summary>
public static class LeaderEpochs
{
    public const string Name = "leader";

    /// <summary>A SQL condition, true while the epoch in parameter <paramref name="parameter"/> is the current term.</summary>
    public static string IsCurrent(int parameter) => $"(SELECT e.epoch FROM leader_epochs e WHERE e.name = '{Name}') = ${parameter}";

    /// <summary>Starts a new term for <paramref name="holder"/> and returns its epoch.</summary>
    public static async Task<long> BeginTermAsync(NpgsqlDataSource dataSource, string holder, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO leader_epochs AS e (name, epoch, holder) VALUES ($1, 1, $2)
            ON CONFLICT (name) DO UPDATE SET epoch = e.epoch + 1, holder = excluded.holder, started_at = now()
            RETURNING epoch
            """);
        command.Parameters.Add(Sql.Arg<string>(Name));
        command.Parameters.Add(Sql.Arg<string>(holder));
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
