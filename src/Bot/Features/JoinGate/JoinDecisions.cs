using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Telegram.Bot.Requests;
using static Bot.Storage.Sql;

namespace Bot.Features.JoinGate;

/// <summary>What a pending check remembers until it is answered (in conversation_state, key "join:{id}").</summary>
public sealed record PendingCheck(int Answer, string Chat, string Language);

[JsonSerializable(typeof(PendingCheck))]
internal sealed partial class JoinGateJson : JsonSerializerContext;

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

/// <summary>A pending request locked for an answer: whose it is, where its check went, and whether its deadline has passed.</summary>
public sealed record LockedRequest(long UserId, long UserChatId, string State, bool Late);

/// <summary>An overdue request the sweep declines; unreachable when the check could never reach the requester.</summary>
public sealed record DueRequest(long Id, long ChatId, long UserId, long UserChatId, bool Unreachable);

/// <summary>Why a request was decided.</summary>
public static class JoinReason
{
    public const string Member = "member";
    public const string CorrectAnswer = "correct_answer";
    public const string WrongAnswer = "wrong_answer";
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";
}

/// <summary>
/// The join_requests table: a request is stored once (its update_id is unique, and a user has at most one open
/// request per chat), decided once (only a pending row changes state), and every decision queues the matching
/// Bot API call in the same transaction.
/// </summary>
public static class JoinDecisions
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Declined = "declined";

    /// <summary>Decided requests past the audit period (<see cref="Retention"/>'s batch shape); pending ones are never touched.</summary>
    public const string PurgeSql =
        """
        WITH gone AS (
            DELETE FROM join_requests
            WHERE id = ANY (ARRAY(
                SELECT id FROM join_requests
                WHERE state <> 'pending' AND decided_at < now() - make_interval(secs => $1) AND decided_at >= $2
                ORDER BY decided_at
                LIMIT $3))
              AND state <> 'pending'
            RETURNING decided_at
        )
        SELECT count(*)::int, max(decided_at) FROM gone
        """;

    public static string StateKey(long requestId) => "join:" + requestId.ToString(CultureInfo.InvariantCulture);

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
    public static async Task<long?> OpenRequestAsync(Db db, long chatId, long userId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<long?>(
            "SELECT id FROM join_requests WHERE chat_id = $1 AND user_id = $2 AND state = 'pending' FOR UPDATE", cancellationToken, Arg(chatId), Arg(userId));

    /// <summary>A request locked for an answer to its check; null when there is no such request.</summary>
    public static Task<LockedRequest?> LockAsync(Db db, long requestId, CancellationToken cancellationToken) =>
        db.FirstAsync(
            "SELECT user_id, user_chat_id, state, deadline <= now() FROM join_requests WHERE id = $1 FOR UPDATE",
            reader => new LockedRequest(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), !reader.IsDBNull(3) && reader.GetBoolean(3)),
            cancellationToken, Arg(requestId));

    /// <summary>
    /// Stores a new request, pending with a deadline or already decided; null when this update was stored before.
    /// </summary>
    public static Task<long?> InsertAsync(
        Db db, long chatId, long userId, long userChatId, long updateId, DateTimeOffset requestedAt, string state, string? reason, TimeSpan checkTime,
        CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>(
            """
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7,
                    CASE WHEN $6 = 'pending' THEN now() + make_interval(secs => $8) END,
                    CASE WHEN $6 <> 'pending' THEN now() END)
            ON CONFLICT (update_id) DO NOTHING
            RETURNING id
            """,
            cancellationToken, Arg(chatId), Arg(userId), Arg(userChatId), Arg(updateId), Arg(requestedAt), Arg(state), Arg(reason), Arg(checkTime.TotalSeconds));

    /// <summary>
    /// Decides a pending request and queues approveChatJoinRequest or declineChatJoinRequest. False when it was
    /// no longer pending (decided by a concurrent answer or the deadline sweep), and then nothing is queued.
    /// </summary>
    public static async Task<bool> DecideAsync(Db db, OutboxWriter outbox, long requestId, bool approve, string reason, CancellationToken cancellationToken)
    {
        var decided = await db.FirstAsync(
            """
            UPDATE join_requests SET state = $2, reason = $3, decided_at = now()
            WHERE id = $1 AND state = 'pending'
            RETURNING chat_id, user_id, user_chat_id
            """,
            reader => new Tuple<long, long, long>(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)),
            cancellationToken, Arg(requestId), Arg(approve ? Approved : Declined), Arg(reason));
        if (decided is null)
        {
            return false;
        }

        await QueueCallAsync(outbox, decided.Item1, decided.Item2, decided.Item3, approve, cancellationToken);
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

    /// <summary>
    /// Up to <paramref name="limit"/> pending requests past their deadline, oldest first, locked (SKIP LOCKED, so a
    /// sweep and an answer arriving at the deadline cannot both decide), and only while <paramref name="epoch"/> is
    /// the current leadership term.
    /// </summary>
    public static Task<List<DueRequest>> LockDueAsync(Db db, int limit, long epoch, CancellationToken cancellationToken) =>
        db.ListAsync(
            $"""
            SELECT j.id, j.chat_id, j.user_id, j.user_chat_id, {UnreachableChats.Contains("j.user_chat_id")}
            FROM join_requests j
            WHERE j.state = 'pending' AND j.deadline <= now() AND {Coordination.LeaderEpochs.IsCurrent(2)}
            ORDER BY j.deadline
            LIMIT $1
            FOR UPDATE OF j SKIP LOCKED
            """,
            reader => new DueRequest(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetBoolean(4)),
            cancellationToken, Arg(limit), Arg(epoch));

    /// <summary>The newest requests first, optionally of one chat, one user or in one state.</summary>
    public static Task<List<JoinRequestView>> ListAsync(Db db, long? chatId, long? userId, string? state, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT id, chat_id, user_id, state, reason, requested_at, deadline, decided_at FROM join_requests
            WHERE ($1::bigint IS NULL OR chat_id = $1) AND ($2::bigint IS NULL OR user_id = $2) AND ($3::text IS NULL OR state = $3)
            ORDER BY id DESC LIMIT $4
            """,
            reader => new JoinRequestView(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.StringOrNull(4),
                reader.GetFieldValue<DateTimeOffset>(5), reader.TimeOrNull(6), reader.TimeOrNull(7)),
            cancellationToken, Arg(chatId), Arg(userId), Arg(state), Arg(limit));
}
