using Bot.Storage;
using Npgsql;

namespace Bot.Processing;

/// <summary>
/// What a user is in the middle of in a chat (a check waiting for an answer, a question asked), kept in PostgreSQL
/// so every replica sees it, and written in the handler's transaction so it changes only with the update's
/// other effects. Values are opaque strings (JSON by convention); expired values read as absent and are purged
/// by the leader. Expiry uses the database clock, the one clock all replicas share.
/// </summary>
public sealed class ConversationState(NpgsqlConnection connection, NpgsqlTransaction transaction)
{
    /// <summary>Sets the value; with a time to live it reads as absent once that has passed.</summary>
    public async Task SetAsync(long chatId, long userId, string key, string value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        await using var command = Command(
            """
            INSERT INTO conversation_state (chat_id, user_id, key, value, expires_at)
            VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
            ON CONFLICT (chat_id, user_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at, updated_at = now()
            """,
            chatId, userId, key);
        command.Parameters.Add(Sql.Arg<string>(value));
        command.Parameters.Add(Sql.Arg<double?>(timeToLive?.TotalSeconds));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Removes the value; returns the one that was there (null if none or expired), so a reader can take it once.</summary>
    public async Task<string?> TakeAsync(long chatId, long userId, string key, CancellationToken cancellationToken)
    {
        await using var command = Command(
            """
            DELETE FROM conversation_state WHERE chat_id = $1 AND user_id = $2 AND key = $3
            RETURNING CASE WHEN expires_at IS NULL OR expires_at > now() THEN value END
            """,
            chatId, userId, key);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Deletes expired values, a batch at a time (the leader's purge).</summary>
    public static async Task<int> PurgeExpiredAsync(NpgsqlDataSource dataSource, int batch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            DELETE FROM conversation_state WHERE ctid IN (
                SELECT ctid FROM conversation_state WHERE expires_at < now() LIMIT $1)
            """);
        command.Parameters.Add(Sql.Arg<int>(batch));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private NpgsqlCommand Command(string sql, long chatId, long userId, string key)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(Sql.Arg<long>(chatId));
        command.Parameters.Add(Sql.Arg<long>(userId));
        command.Parameters.Add(Sql.Arg<string>(key));
        return command;
    }
}
