using Bot.Storage;
using Npgsql;

namespace Bot.Ingest;

public sealed class InboxStore(NpgsqlDataSource dataSource) : IInboxStore
{
    // One statement whatever the batch size: the arrays are the rows. ON CONFLICT makes retries and
    // replicas idempotent; RETURNING tells new rows from duplicates.
    private const string InsertSql =
        """
        WITH inserted AS (
            INSERT INTO inbox (update_id, chat_id, kind, payload, trace_context)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[])
            ON CONFLICT (update_id) DO NOTHING
            RETURNING update_id
        )
        SELECT update_id FROM inserted
        """;

    public async Task<IReadOnlySet<long>> InsertAsync(IReadOnlyList<InboxRecord> records, CancellationToken cancellationToken)
    {
        var ids = new long[records.Count];
        var chats = new long?[records.Count];
        var kinds = new string[records.Count];
        var payloads = new string[records.Count];
        var traces = new string?[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            (ids[i], chats[i], kinds[i], payloads[i], traces[i]) = (r.UpdateId, r.ChatId, r.Kind, r.Payload, r.TraceContext);
        }

        await using var command = dataSource.CreateCommand(InsertSql);
        command.Parameters.Add(Sql.Arg<long[]>(ids));
        command.Parameters.Add(Sql.Arg<long?[]>(chats));
        command.Parameters.Add(Sql.Arg<string[]>(kinds));
        command.Parameters.Add(Sql.Arg<string[]>(payloads));
        command.Parameters.Add(Sql.Arg<string?[]>(traces));

        var inserted = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add(reader.GetInt64(0));
        }

        return inserted;
    }

    /// <summary>True when PostgreSQL refused the data itself rather than being unreachable.</summary>
    public bool IsDataError(Exception exception) =>
        exception is PostgresException { SqlState: var state } && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal));
}
