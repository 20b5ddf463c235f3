using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Outbox;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Features.JoinGate;

/// <summary>What a pending check remembers until it is answered (in conversation_state, key "join:{id}").</summary>
public sealed record PendingCheck(int Answer, string Chat, string Language);

[JsonSerializable(typeof(PendingCheck))]
internal sealed partial class JoinGateJson : JsonSerializerContext;

/// <summary>
/// The join_requests table: a request is stored once (its update_id is unique, and a user has at most one open
/// request per chat), decided once (only a pending row changes state), and every decision queues the matching
/// Bot API call in the same transaction.
/// </summary>
public static class JoinDecisions
{
    public const string Approved = "approved";
    public const string Declined = "declined";

    public static string StateKey(long requestId) => "join:" + requestId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Serialize(PendingCheck check) => JsonSerializer.Serialize(check, JoinGateJson.Default.PendingCheck);

    public static PendingCheck? Deserialize(string? value)
    {
        try
        {
            return value is null ? null : JsonSerializer.Deserialize(value, JoinGateJson.Default.PendingCheck);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The open request of this user for this chat, locked, if there is one.</summary>
    public static async Task<long?> OpenRequestAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long chatId, long userId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT id FROM join_requests WHERE chat_id = $1 AND user_id = $2 AND state = 'pending' FOR UPDATE", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>
    /// Stores a new request, pending with a deadline or already decided; null when this update was stored before.
    /// </summary>
    public static async Task<long?> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long chatId, long userId, long userChatId, long updateId,
        DateTimeOffset requestedAt, string state, string? reason, TimeSpan checkTime, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7,
                    CASE WHEN $6 = 'pending' THEN now() + make_interval(secs => $8) END,
                    CASE WHEN $6 <> 'pending' THEN now() END)
            ON CONFLICT (update_id) DO NOTHING
            RETURNING id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userChatId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = updateId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = requestedAt });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = reason });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = checkTime.TotalSeconds });
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>
    /// Decides a pending request and queues approveChatJoinRequest or declineChatJoinRequest. False when it was
    /// no longer pending (decided by a concurrent answer or the deadline sweep), and then nothing is queued.
    /// </summary>
    public static async Task<bool> DecideAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, OutboxWriter outbox, long requestId, bool approve, string reason,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            UPDATE join_requests SET state = $2, reason = $3, decided_at = now()
            WHERE id = $1 AND state = 'pending'
            RETURNING chat_id, user_id, user_chat_id
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = requestId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = approve ? Approved : Declined });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        long chatId, userId, userChatId;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return false;
            }

            (chatId, userId, userChatId) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        await QueueCallAsync(outbox, chatId, userId, userChatId, approve, cancellationToken);
        return true;
    }

    /// <summary>
    /// The approval or refusal, queued under the requester's private chat: it is the request's ordering key, and
    /// a busy group's join decisions are not messages in the group, so the group's 20 a minute do not apply.
    /// </summary>
    public static Task<long> QueueCallAsync(OutboxWriter outbox, long chatId, long userId, long userChatId, bool approve, CancellationToken cancellationToken) =>
        approve
            ? outbox.EnqueueAsync(new ApproveChatJoinRequestRequest { ChatId = chatId, UserId = userId }, userChatId, cancellationToken: cancellationToken)
            : outbox.EnqueueAsync(new DeclineChatJoinRequestRequest { ChatId = chatId, UserId = userId }, userChatId, cancellationToken: cancellationToken);

    /// <summary>Takes the pending check of a request (whatever its expiry: the request's own deadline is what counts).</summary>
    public static async Task<PendingCheck?> TakeCheckAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long userChatId, long userId, long requestId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "DELETE FROM conversation_state WHERE chat_id = $1 AND user_id = $2 AND key = $3 RETURNING value", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userChatId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateKey(requestId) });
        return Deserialize(await command.ExecuteScalarAsync(cancellationToken) as string);
    }
}
