using Npgsql;

namespace Bot.Features.Broadcasts;

public enum BroadcastState
{
    Running,
    Done,
    Cancelled,
}

/// <summary>A broadcast as the admin sees it. Counts are as of the runner's last count (every few seconds).</summary>
public sealed record BroadcastView(
    long Id, string State, long FromChatId, int MessageId, long? RequestedBy, int Recipients, bool Expanded,
    int Sent, int Failed, int Blocked, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, string? RequestedVia);

/// <summary>Counts for /stats and the admin API.</summary>
public sealed record BotStats(
    long Subscribers, long Active, long Stopped, long Blocked,
    long Broadcasts, long BroadcastsRunning,
    long JoinApproved, long JoinDeclined, long JoinPending,
    long InboxPending, long InboxDead, long OutboxPending);

/// <summary>The broadcasts table: create, cancel, read. Each call runs in the transaction it is given (or its own).</summary>
public static class BroadcastStore
{
    private const string Columns =
        "id, state, from_chat_id, message_id, requested_by, recipients, expanded, sent, failed, blocked, created_at, finished_at, requested_via";

    /// <summary>Creates a running broadcast; <paramref name="requestedVia"/> names an admin API caller (its token's name, never its value).</summary>
    public static async Task<long> CreateAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long fromChatId, int messageId, long? requestedBy, long? statusChatId,
        string? language, CancellationToken cancellationToken, string? requestedVia = null)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO broadcasts (from_chat_id, message_id, requested_by, status_chat_id, language, requested_via)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromChatId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = messageId });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = requestedBy });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = statusChatId });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = language });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = requestedVia });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Links the status message's outbox row, so the runner can learn its message id once it is sent.</summary>
    public static async Task SetStatusOutboxAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, long outboxId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE broadcasts SET status_outbox_id = $2 WHERE id = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = outboxId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Cancels a running broadcast (the newest when no id is given) and withdraws its messages not yet sent; a
    /// call already in flight still completes. Returns the cancelled broadcast's id, or null if none was running.
    /// </summary>
    public static async Task<long?> CancelAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long? id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            WITH target AS (
                SELECT id FROM broadcasts WHERE state = 'running' AND ($1::bigint IS NULL OR id = $1) ORDER BY id DESC LIMIT 1 FOR UPDATE),
            cancelled AS (
                UPDATE broadcasts b SET state = 'cancelled', finished_at = now() FROM target WHERE b.id = target.id RETURNING b.id),
            withdrawn AS (
                DELETE FROM outbox o USING cancelled WHERE o.broadcast_id = cancelled.id AND o.state = 'pending')
            SELECT id FROM cancelled
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = id });
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>The newest running broadcast's id, or null when none runs.</summary>
    public static async Task<long?> RunningAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT max(id) FROM broadcasts WHERE state = 'running'", connection, transaction);
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    public static async Task<BroadcastView?> GetAsync(NpgsqlDataSource dataSource, long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM broadcasts WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public static async Task<List<BroadcastView>> ListAsync(NpgsqlDataSource dataSource, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM broadcasts ORDER BY id DESC LIMIT $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<BroadcastView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Read(reader));
        }

        return list;
    }

    public static async Task<BotStats> StatsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT
                (SELECT count(*) FROM users WHERE status <> 'none'),
                (SELECT count(*) FROM users WHERE status = 'active'),
                (SELECT count(*) FROM users WHERE status = 'stopped'),
                (SELECT count(*) FROM users WHERE status = 'blocked'),
                (SELECT count(*) FROM broadcasts),
                (SELECT count(*) FROM broadcasts WHERE state = 'running'),
                (SELECT count(*) FROM join_requests WHERE state = 'approved'),
                (SELECT count(*) FROM join_requests WHERE state = 'declined'),
                (SELECT count(*) FROM join_requests WHERE state = 'pending'),
                (SELECT count(*) FROM inbox WHERE state IN ('pending', 'processing')),
                (SELECT count(*) FROM inbox WHERE state = 'dead'),
                (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending'))
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new BotStats(
            reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
            reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11));
    }

    public static string ToText(BroadcastState state) => state switch
    {
        BroadcastState.Running => "running",
        BroadcastState.Done => "done",
        _ => "cancelled",
    };

    private static BroadcastView Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetInt64(4),
        reader.GetInt32(5), reader.GetBoolean(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9),
        reader.GetFieldValue<DateTimeOffset>(10), reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
        reader.IsDBNull(12) ? null : reader.GetString(12));
}
