using System.Security.Cryptography;
using System.Text;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Idempotency-Key of POST /admin/broadcasts (admin_idempotency_keys): the broadcast a key created within the
/// last 24 hours, and a fingerprint of the request that created it. Keys older than that are forgotten when
/// the key comes again, and deleted by the purge (<see cref="IdempotencyKeysPurge"/>).
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const int MaxLength = 255;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>A key is 1–255 visible ASCII characters (what clients generate: UUIDs, ULIDs, hashes).</summary>
    public static bool IsValid(string key) => key.Length is > 0 and <= MaxLength && key.All(c => c is > ' ' and <= '~');

    /// <summary>
    /// The request's fingerprint: a request of the first release's shape (fromChatId, messageId, statusChatId,
    /// allowConcurrent) keeps the fingerprint it had, so a retry across the upgrade is still recognised; one with any
    /// later field adds the whole request's JSON.
    /// </summary>
    public static byte[] Fingerprint(CreateBroadcastRequest request)
    {
        var text = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{request.FromChatId}|{request.MessageId}|{request.StatusChatId}|{request.AllowConcurrent}");
        if (!request.IsFirstReleaseShape())
        {
            text += "|" + System.Text.Json.JsonSerializer.Serialize(request, BroadcastApiJson.Default.CreateBroadcastRequest);
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>The broadcast the key created and whether that request had the same fingerprint; null for a new key.</summary>
    public static async Task<(long BroadcastId, bool SameRequest)?> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string key, byte[] fingerprint, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            WITH expired AS (DELETE FROM admin_idempotency_keys WHERE key = $1 AND created_at < now() - $3::interval)
            SELECT broadcast_id, request_hash = $2 FROM admin_idempotency_keys WHERE key = $1 AND created_at >= now() - $3::interval
            """, connection, transaction);
        command.Parameters.Add(Sql.Arg<string>(key));
        command.Parameters.Add(Sql.Arg<byte[]>(fingerprint));
        command.Parameters.Add(Sql.Arg<TimeSpan>(Lifetime));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetBoolean(1)) : null;
    }

    public static async Task StoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string key, byte[] fingerprint, long broadcastId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO admin_idempotency_keys (key, request_hash, broadcast_id) VALUES ($1, $2, $3)", connection, transaction);
        command.Parameters.Add(Sql.Arg<string>(key));
        command.Parameters.Add(Sql.Arg<byte[]>(fingerprint));
        command.Parameters.Add(Sql.Arg<long>(broadcastId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes up to <paramref name="batch"/> keys past their lifetime; returns how many.</summary>
    public static async Task<int> PurgeAsync(NpgsqlDataSource dataSource, int batch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            DELETE FROM admin_idempotency_keys WHERE key IN (
                SELECT key FROM admin_idempotency_keys WHERE created_at < now() - $1::interval ORDER BY created_at LIMIT $2)
            """);
        command.Parameters.Add(Sql.Arg<TimeSpan>(Lifetime));
        command.Parameters.Add(Sql.Arg<int>(batch));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
