using System.Globalization;
using Bot.Hosting;
using Bot.Storage;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// <c>Bot deadletters list|requeue|drop</c>: the dead-lettered updates in the inbox, shown, handed back to the workers
/// (pending, attempts 0, no lease: the inbox's triggers make each one its chat's head again) or deleted. Only dead
/// rows are ever changed.
/// </summary>
public static class DeadLettersCommand
{
    public const string Usage = "usage: Bot deadletters list [--limit N] [--kind K] | requeue ID...|--all [--kind K] | drop ID...|--all [--kind K]";

    private const int DefaultLimit = 20;
    private const int MaxLimit = 10_000;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0] is not ("list" or "requeue" or "drop"))
        {
            throw new StartupException(Usage, ExitCodes.Usage);
        }

        var selection = Parse(args[0], args[1..]);
        await using var dataSource = Database.CreateDataSource(LoadDatabaseOptions());
        return args[0] switch
        {
            "list" => await ListAsync(dataSource, selection, output, cancellationToken),
            _ => await ChangeAsync(dataSource, args[0] == "requeue", selection, output, cancellationToken),
        };
    }

    /// <summary>What the arguments pick: some update ids, or all (of one kind); and for list, how many to show.</summary>
    public sealed record Selection(long[]? Ids, string? Kind, int Limit);

    public static Selection Parse(string verb, string[] args)
    {
        string? kind = null;
        int? limit = null;
        var all = false;
        var ids = new List<long>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--kind" when kind is null && i + 1 < args.Length && args[i + 1].Length > 0 && !args[i + 1].StartsWith('-'):
                    kind = args[++i];
                    break;
                case "--limit" when verb == "list" && limit is null && i + 1 < args.Length:
                    limit = int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit
                        ? n
                        : throw new StartupException($"usage: Bot deadletters list [--limit N] [--kind K] (N is a whole number from 1 to {MaxLimit})", ExitCodes.Usage);
                    break;
                case "--all" when verb != "list" && !all:
                    all = true;
                    break;
                default:
                    if (verb == "list" || !long.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        throw new StartupException(UsageOf(verb), ExitCodes.Usage);
                    }

                    ids.Add(id);
                    break;
            }
        }

        if (verb == "list")
        {
            return new Selection(null, kind, limit ?? DefaultLimit);
        }

        // Either update ids or --all (optionally of one kind), never both, never neither.
        if (all == (ids.Count > 0) || (kind is not null && !all))
        {
            throw new StartupException(UsageOf(verb), ExitCodes.Usage);
        }

        return new Selection(all ? null : [.. ids.Distinct()], kind, 0);
    }

    private static string UsageOf(string verb) => verb switch
    {
        "list" => "usage: Bot deadletters list [--limit N] [--kind K]",
        _ => $"usage: Bot deadletters {verb} ID...|--all [--kind K] (IDs are update ids, as deadletters list shows them)",
    };

    /// <summary>One line per dead update, newest first: update id, kind, chat, attempts, when it died, its error.</summary>
    private static async Task<int> ListAsync(NpgsqlDataSource dataSource, Selection selection, TextWriter output, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT update_id, kind, chat_id, attempts, processed_at, last_error, count(*) OVER ()
            FROM inbox WHERE state = 'dead' AND ($1::text IS NULL OR kind = $1)
            ORDER BY update_id DESC
            LIMIT $2
            """);
        command.Parameters.Add(Sql.Arg<string?>(selection.Kind));
        command.Parameters.Add(Sql.Arg<int>(selection.Limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // total: every dead update of the selection, counted before the limit (none when no row comes back).
        var (shown, total) = (0, 0L);
        output.WriteLine($"{"update_id",-12} {"kind",-20} {"chat",-15} {"attempts",8} {"dead since",-20} error");
        while (await reader.ReadAsync(cancellationToken))
        {
            var chat = reader.IsDBNull(2) ? "-" : reader.GetInt64(2).ToString(CultureInfo.InvariantCulture);
            var since = reader.IsDBNull(4) ? "-" : reader.GetFieldValue<DateTimeOffset>(4).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            // Stored errors are redacted when written; a multi-line one (an exception with its inner ones) is one line here.
            var error = reader.IsDBNull(5) ? "-" : reader.GetString(5).ReplaceLineEndings(" ");
            output.WriteLine($"{reader.GetInt64(0),-12} {reader.GetString(1),-20} {chat,-15} {reader.GetInt32(3),8} {since,-20} {error}");
            (shown, total) = (shown + 1, reader.GetInt64(6));
        }

        output.WriteLine($"{shown} of {total} dead updates{(selection.Kind is null ? "" : $" of kind {selection.Kind}")}");
        return ExitCodes.Success;
    }

    /// <summary>Requeues or drops the selected dead updates; ids that are not dead letters are named and left alone.</summary>
    private static async Task<int> ChangeAsync(NpgsqlDataSource dataSource, bool requeue, Selection selection, TextWriter output, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Requeued: pending with attempts and lease cleared (the inbox's update trigger sets the chat's head; the
        // last error stays until the next attempt replaces it). Dropped: deleted (a dead row is never a head).
        await using var change = new NpgsqlCommand(
            requeue
                ? """
                  UPDATE inbox SET state = 'pending', attempts = 0, lease_owner = NULL, lease_until = NULL, processed_at = NULL
                  WHERE state = 'dead' AND ($1::bigint[] IS NULL OR update_id = ANY ($1)) AND ($2::text IS NULL OR kind = $2)
                  RETURNING update_id
                  """
                : """
                  DELETE FROM inbox
                  WHERE state = 'dead' AND ($1::bigint[] IS NULL OR update_id = ANY ($1)) AND ($2::text IS NULL OR kind = $2)
                  RETURNING update_id
                  """,
            connection, transaction);
        change.Parameters.Add(Sql.Arg<long[]?>(selection.Ids));
        change.Parameters.Add(Sql.Arg<string?>(selection.Kind));
        var changed = new HashSet<long>();
        await using (var reader = await change.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                changed.Add(reader.GetInt64(0));
            }
        }

        if (requeue && changed.Count > 0)
        {
            // Wakes the workers at once, as an ingest does (they would otherwise find the rows at their next poll).
            await using var notify = new NpgsqlCommand("SELECT pg_notify('bot_inbox', '')", connection, transaction);
            await notify.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        output.WriteLine($"{(requeue ? "requeued" : "dropped")} {changed.Count} dead updates");
        var missing = selection.Ids?.Where(id => !changed.Contains(id)).ToList() ?? [];
        if (missing.Count > 0)
        {
            throw new StartupException(
                $"not dead letters (no dead update with these ids), left alone: {string.Join(", ", missing.Select(id => id.ToString(CultureInfo.InvariantCulture)))}");
        }

        return ExitCodes.Success;
    }

    private static DatabaseOptions LoadDatabaseOptions()
    {
        var configuration = BotConfiguration.BuildForCommand([]);
        var options = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        StartupError.ThrowIfInvalid(DatabaseOptions.Section, options, [], new DatabaseOptionsValidator());
        return options;
    }
}
