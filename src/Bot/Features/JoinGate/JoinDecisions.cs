using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Outbox;
using Bot.Processing;
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

    /// <summary>
    /// Takes the pending check of a request from the conversation state. It is kept a day past the request's
    /// deadline, so the answer and the deadline sweep find it; the request's own deadline is what decides.
    /// </summary>
    public static async Task<PendingCheck?> TakeCheckAsync(ConversationState state, long userChatId, long userId, long requestId, CancellationToken cancellationToken) =>
        Deserialize(await state.TakeAsync(userChatId, userId, StateKey(requestId), cancellationToken));
}

/// <summary>A join request and what was decided, for the admin API's audit list.</summary>
/// <param name="Id">The request's id (its check's buttons carry it).</param>
/// <param name="ChatId">The gated chat asked to join.</param>
/// <param name="UserId">The requester.</param>
/// <param name="State">pending, approved or declined.</param>
/// <param name="Reason">member, correct_answer, wrong_answer, timeout or unreachable; null while pending.</param>
/// <param name="RequestedAt">When the user asked (Telegram's date).</param>
/// <param name="Deadline">Until when a pending check may be answered.</param>
/// <param name="DecidedAt">When the decision was made.</param>
public sealed record JoinRequestView(
    long Id, long ChatId, long UserId, string State, string? Reason, DateTimeOffset RequestedAt, DateTimeOffset? Deadline, DateTimeOffset? DecidedAt);

public static class JoinRequestAudit
{
    /// <summary>The newest requests first, optionally of one chat, one user or in one state.</summary>
    public static async Task<List<JoinRequestView>> ListAsync(
        NpgsqlDataSource dataSource, long? chatId, long? userId, string? state, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT id, chat_id, user_id, state, reason, requested_at, deadline, decided_at FROM join_requests
            WHERE ($1::bigint IS NULL OR chat_id = $1) AND ($2::bigint IS NULL OR user_id = $2) AND ($3::text IS NULL OR state = $3)
            ORDER BY id DESC LIMIT $4
            """);
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = chatId });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = state });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        var rows = new List<JoinRequestView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new JoinRequestView(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7)));
        }

        return rows;
    }
}
