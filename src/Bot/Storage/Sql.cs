using Npgsql;

namespace Bot.Storage;

/// <summary>
/// Where a statement runs: a connection in a transaction (a handler's, a job's), or the data source (a statement of
/// its own, on a pooled connection). Statements take their parameters as values (<see cref="Sql.Arg{T}"/>), each
/// typed by its own .NET type, and positional ($1, $2, …) in the order given.
/// </summary>
public readonly struct Db
{
    private readonly NpgsqlDataSource? dataSource;
    private readonly NpgsqlConnection? connection;
    private readonly NpgsqlTransaction? transaction;

    private Db(NpgsqlDataSource? dataSource, NpgsqlConnection? connection, NpgsqlTransaction? transaction) =>
        (this.dataSource, this.connection, this.transaction) = (dataSource, connection, transaction);

    /// <summary>Each statement on a pooled connection of its own, committed by itself.</summary>
    public static Db Of(NpgsqlDataSource dataSource) => new(dataSource, null, null);

    /// <summary>Statements in the caller's transaction (or outside any, when it is null).</summary>
    public static Db In(NpgsqlConnection connection, NpgsqlTransaction? transaction) => new(null, connection, transaction);

    public NpgsqlCommand Command(string sql, params ReadOnlySpan<NpgsqlParameter> args)
    {
        var command = connection is not null
            ? new NpgsqlCommand(sql, connection, transaction)
            : (dataSource ?? throw new InvalidOperationException("a Db needs a connection or a data source")).CreateCommand(sql);
        foreach (var arg in args)
        {
            command.Parameters.Add(arg);
        }

        return command;
    }

    /// <summary>Runs a statement; returns the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] args)
    {
        await using var command = Command(sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The first column of the first row, or <c>default</c> when there is no row or it is NULL.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] args)
    {
        await using var command = Command(sql, args);
        return await command.ExecuteScalarAsync(cancellationToken) is T value ? value : default;
    }

    /// <summary>Every row, each made by <paramref name="map"/>.</summary>
    public async Task<List<T>> ListAsync<T>(string sql, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken, params NpgsqlParameter[] args)
    {
        await using var command = Command(sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The first row made by <paramref name="map"/>, or null when there is none.</summary>
    public async Task<T?> FirstAsync<T>(string sql, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken, params NpgsqlParameter[] args)
        where T : class
    {
        await using var command = Command(sql, args);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }
}

/// <summary>Statement parameters from values, and reading nullable columns.</summary>
public static class Sql
{
    /// <summary>A positional parameter typed by <typeparamref name="T"/> (a nullable type for a value that may be NULL).</summary>
    public static NpgsqlParameter<T> Arg<T>(T value) => new() { TypedValue = value };

    public static string? StringOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? Int64OrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static int? Int32OrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt32(ordinal);

    public static DateTimeOffset? TimeOrNull(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);
}
