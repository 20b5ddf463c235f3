using Bot.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Storage;

/// <summary>
/// Builds the process's pooled <see cref="NpgsqlDataSource"/> from <see cref="DatabaseOptions"/>, and the unpooled
/// ones of the sessions that must stay their own, all with the same slim builder.
/// </summary>
public static class Database
{
    public static NpgsqlDataSource CreateDataSource(DatabaseOptions options, ILoggerFactory? loggerFactory = null) =>
        CreateDataSource(BuildConnectionString(options), loggerFactory);

    /// <summary>
    /// A data source for a session that must stay its own (LISTEN, a session advisory lock): unpooled, so each
    /// connection it makes is a new session (see <see cref="BuildSessionConnectionString"/>).
    /// </summary>
    public static NpgsqlDataSource CreateSessionDataSource(NpgsqlConnectionStringBuilder session) =>
        CreateDataSource(session.ConnectionString, loggerFactory: null);

    /// <summary>
    /// Npgsql's slim builder with what the bot's statements use: the built-in types, arrays (<c>int[]</c>,
    /// <c>bigint[]</c>, <c>text[]</c> parameters and columns) and TLS. The full builder's other mappings (JSON
    /// documents, ranges, records, full-text search, network and geometric types) and GSS/Kerberos authentication are
    /// left out of the binary; <c>jsonb</c> is sent and read as text with casts in the statements. The server's type
    /// catalogue is not read (built-in types only).
    /// </summary>
    private static NpgsqlDataSource CreateDataSource(string connectionString, ILoggerFactory? loggerFactory)
    {
        // At its first connection Npgsql would read the server's type catalogue (pg_type, a few hundred rows) to learn
        // the types' ids. The bot's statements use only built-in types, whose ids are fixed and known to Npgsql, and
        // casts for the rest (jsonb as text), so the read is skipped: the first connection, the schema check before
        // /readyz, is about a tenth of the start-up shorter (docs/performance.md).
        var builder = ConfigureTracing(new NpgsqlSlimDataSourceBuilder(connectionString))
            .EnableArrays()
            .EnableTransportSecurity()
            .ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        if (loggerFactory is not null)
        {
            builder.UseLoggerFactory(loggerFactory);
        }

        return builder.Build();
    }

    /// <summary>
    /// True when <paramref name="exception"/> says the database cannot be reached or is not accepting work yet:
    /// no connection, a timeout, or PostgreSQL's own "starting up", "shutting down", "in recovery" and
    /// "too many connections" answers (SQLSTATE class 08, 57P01–57P03, 53300). Such a state passes by itself.
    /// Anything else (a bad password, a missing table) is a fault that waiting does not mend.
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        PostgresException { SqlState: var state } =>
            state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03" or "53300",
        NpgsqlException or TimeoutException or OperationCanceledException => true,
        _ => false,
    };

    public static string BuildConnectionString(DatabaseOptions options) =>
        BuildConnectionString(options.ConnectionString!, "Database:ConnectionString", options);

    /// <summary>
    /// The connection string of the lag-tolerant reads (<see cref="ReadReplica"/>), or null when none is set: the same
    /// settings as the primary's (and the same password: a streaming standby has the primary's roles), and a connect
    /// timeout of 5 s unless it names one, so that a standby that is gone costs a read little before it falls back.
    /// </summary>
    public static string? BuildReadConnectionString(DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ReadConnectionString))
        {
            return null;
        }

        var csb = new NpgsqlConnectionStringBuilder(BuildConnectionString(options.ReadConnectionString, "Database:ReadConnectionString", options));
        if (!new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.ReadConnectionString }.ContainsKey("Timeout"))
        {
            csb.Timeout = 5;
        }

        return csb.ConnectionString;
    }

    private static string BuildConnectionString(string connectionString, string key, DatabaseOptions options)
    {
        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The parser's message may quote the string, which may hold a password: say only where to look.
            throw new StartupException(
                $"configuration error: {key} is not a valid PostgreSQL connection string (check key names and quoting)",
                ExitCodes.Configuration);
        }

        if (!string.IsNullOrEmpty(options.Password))
        {
            csb.Password = options.Password;
        }

        if (string.IsNullOrEmpty(csb.ApplicationName))
        {
            csb.ApplicationName = "bot";
        }

        // GSS encryption is attempted by default, which loads the Kerberos libraries at the first connection
        // (about 15 ms of start-up); a bot's database uses TLS. A connection string that names it keeps its choice.
        if (connectionString.IndexOf("gss", StringComparison.OrdinalIgnoreCase) < 0)
        {
            csb.GssEncryptionMode = GssEncryptionMode.Disable;
        }

        // The hot statements (inbox insert and claim) are few and fixed: let Npgsql prepare them.
        if (csb.MaxAutoPrepare == 0)
        {
            csb.MaxAutoPrepare = 32;
        }

        // A pooled connection is reset when it goes back to the pool (six statements before its next use: RESET
        // ALL, UNLISTEN, advisory unlock and more), which was a third of all statements under load. Pooled sessions
        // here never change session state: LISTEN and the leader's advisory lock have connections of their own
        // (BuildSessionConnectionString), and settings are SET LOCAL. A connection string that names it decides.
        if (connectionString.IndexOf("reset", StringComparison.OrdinalIgnoreCase) < 0)
        {
            csb.NoResetOnClose = true;
        }

        csb.CommandTimeout = options.CommandTimeoutSeconds;
        csb.Options = SessionTimeouts(csb.Options, options);
        return csb.ConnectionString;
    }

    /// <summary>
    /// The server-side timeouts of every session, as startup options (so they hold from the first statement, pooled
    /// or not); a setting already named in the connection string's Options keeps its value there.
    /// </summary>
    private static string SessionTimeouts(string? existing, DatabaseOptions options)
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(existing))
        {
            parts.Add(existing.Trim());
        }

        foreach (var (name, seconds) in new[]
        {
            ("statement_timeout", options.StatementTimeoutSeconds),
            ("lock_timeout", options.LockTimeoutSeconds),
            ("idle_in_transaction_session_timeout", options.IdleInTransactionTimeoutSeconds),
        })
        {
            if (existing?.Contains(name, StringComparison.Ordinal) != true)
            {
                parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"-c {name}={seconds * 1000}"));
            }
        }

        return string.Join(' ', parts);
    }

    /// <summary>
    /// For a session that must stay its own (LISTEN, a session advisory lock): never pooled, so the session is
    /// never handed to anyone else, and kept alive so that a dead peer is noticed.
    /// </summary>
    public static NpgsqlConnectionStringBuilder BuildSessionConnectionString(DatabaseOptions options, int keepAliveSeconds) =>
        new(BuildConnectionString(options)) { Pooling = false, KeepAlive = keepAliveSeconds };

    /// <summary>
    /// Runs one statement in a transaction that does not wait for its WAL flush, and reads its rows, in one round
    /// trip: the batch is its own implicit transaction, and <c>set_config(..., true)</c> lasts until its end (a SET
    /// LOCAL there would work too, but logs a warning each time). Only for writes whose loss in a database crash is
    /// harmless (claims, send marks: see their callers). <paramref name="planOff"/> names planner methods to leave out
    /// for this statement (<c>enable_*</c> settings, for example "bitmapscan"), set the same way.
    /// </summary>
    public static async Task<List<T>> ReadWithoutFlushAsync<T>(
        this NpgsqlDataSource dataSource, NpgsqlBatchCommand statement, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken,
        params string[] planOff)
    {
        var rows = new List<T>();
        await using var batch = dataSource.CreateBatch();
        var settings = new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', 'off', true)" + string.Concat(planOff.Select((_, i) => $", set_config(${i + 1}, 'off', true)")));
        foreach (var method in planOff)
        {
            settings.Parameters.Add(Sql.Arg<string>("enable_" + method));
        }

        batch.BatchCommands.Add(settings);
        batch.BatchCommands.Add(statement);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>
    /// Spans for database commands only inside an operation worth tracing (an update's handling, a send): the workers'
    /// and the sender's polling would otherwise make a root trace of every idle query. (The Telemetry module exports
    /// Npgsql's activity source.)
    /// </summary>
    public static NpgsqlSlimDataSourceBuilder ConfigureTracing(NpgsqlSlimDataSourceBuilder builder) =>
        builder.ConfigureTracing(tracing => tracing
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null)
            .EnableFirstResponseEvent(false));

    /// <summary>The data source, the lag-tolerant reads' source, the work signals and the counts.</summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        builder.Services.AddSingleton(sp => CreateDataSource(
            sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var read = BuildReadConnectionString(options);
            return new ReadReplica(
                sp.GetRequiredService<NpgsqlDataSource>(),
                read is null ? null : CreateDataSource(read, sp.GetRequiredService<ILoggerFactory>()),
                TimeSpan.FromSeconds(options.ReadRetrySeconds), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ReadReplica>>());
        }).AddClosedLogger<ReadReplica>();
        // What the modules share: the wake-ups the notifications feed, and the sum of their counts.
        builder.Services.AddSingleton<WorkSignals>();
        builder.Services.AddSingleton<BotCounts>();
        return builder;
    }
}
