using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using static Bot.Storage.Sql;

namespace Bot.Features.JoinGate;

/// <summary>
/// What a check sent by the previous release remembers until it is answered (in conversation_state, key "join:{id}"):
/// read, never written, by this one.
/// </summary>
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

/// <summary>
/// A request locked for an answer: whose it is, where its check went, whether its deadline has passed, how it came,
/// the attempts left, whether a wrong answer's cooldown still runs, and the title and language its texts use.
/// </summary>
public sealed record LockedRequest(
    long UserId, long UserChatId, string State, bool Late, long ChatId, string Entry, int AttemptsLeft, bool Cooling, string? ChatTitle, string? Language);

/// <summary>An overdue request the sweep declines; unreachable when the check could never reach the requester.</summary>
public sealed record DueRequest(
    long Id, long ChatId, long UserId, long UserChatId, bool Unreachable, string Entry, string? ChatTitle, string? Language, bool Held);

/// <summary>A decided request: where, who, how it came, and what was decided.</summary>
public sealed record Decision(long Id, long ChatId, long UserId, long UserChatId, string Entry, bool Approved, string Reason);

/// <summary>Why a request was decided.</summary>
public static class JoinReason
{
    public const string Member = "member";
    public const string CorrectAnswer = "correct_answer";
    public const string WrongAnswer = "wrong_answer";
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";

    /// <summary>Declined without a check: the user's last wrong answer is recent (Bot:JoinRepeatDeclineMinutes).</summary>
    public const string Repeat = "repeat";

    /// <summary>Held during a raid and declined once it was over.</summary>
    public const string Raid = "raid";

    /// <summary>Decided by a chat admin (Approve anyway, let in from the log, approved or declined in the Mini App).</summary>
    public const string Admin = "admin";

    /// <summary>Declined and banned from the chat by a chat admin (the Mini App's queue).</summary>
    public const string Banned = "banned";
}

/// <summary>How a user came to the chat.</summary>
public static class JoinEntry
{
    /// <summary>A join request (chat_join_request): approved or declined.</summary>
    public const string Request = "request";

    /// <summary>Joined without one (chat_member): restricted until decided, then let write or removed.</summary>
    public const string Direct = "direct";
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
            """
            SELECT user_id, user_chat_id, state, deadline <= now(), chat_id, entry, coalesce(attempts_left, 1), coalesce(retry_at > now(), false),
                   chat_title, language
            FROM join_requests WHERE id = $1 FOR UPDATE
            """,
            reader => new LockedRequest(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), !reader.IsDBNull(3) && reader.GetBoolean(3), reader.GetInt64(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetBoolean(7), reader.StringOrNull(8), reader.StringOrNull(9)),
            cancellationToken, Arg(requestId));

    /// <summary>The request a button's token belongs to, if the token is still valid (not used, its check not replaced).</summary>
    public static Task<long?> TokenRequestAsync(Db db, string token, CancellationToken cancellationToken) =>
        db.ScalarAsync<long?>("SELECT request_id FROM join_check_tokens WHERE token = $1", cancellationToken, Arg(token));

    /// <summary>
    /// Uses a check's token: deletes every token of its request (the check is answered, whatever the answer) and says
    /// whether <paramref name="token"/> was among them and right. Null when it was not (used by a concurrent press).
    /// Call with the request locked.
    /// </summary>
    public static async Task<bool?> UseTokenAsync(Db db, long requestId, string token, CancellationToken cancellationToken)
    {
        var used = await db.ListAsync(
            "DELETE FROM join_check_tokens WHERE request_id = $1 RETURNING token, correct",
            reader => (Token: reader.GetString(0), Correct: reader.GetBoolean(1)), cancellationToken, Arg(requestId));
        return used.FirstOrDefault(t => t.Token == token) is { Token: not null } hit ? hit.Correct : null;
    }

    /// <summary>Stores a check's buttons as fresh tokens; returns each button's callback data, in the buttons' order.</summary>
    public static async Task<string[]> SaveCheckAsync(Db db, long requestId, GateCheck check, CancellationToken cancellationToken)
    {
        var tokens = check.Buttons.Select(_ => GateChecks.NewToken()).ToArray();
        await db.ExecuteAsync(
            "INSERT INTO join_check_tokens (token, request_id, correct) SELECT t, $1, c FROM unnest($2::text[], $3::boolean[]) AS u (t, c)",
            cancellationToken, Arg(requestId), Arg(tokens), Arg(check.Buttons.Select(b => b.Correct).ToArray()));
        return [.. tokens.Select(t => CallbackPrefix + t)];
    }

    /// <summary>The prefix of a check button's callback data ("join:TOKEN").</summary>
    public const string CallbackPrefix = "join:";

    /// <summary>After a wrong answer with attempts left: one attempt fewer, and no answer accepted before the cooldown ends.</summary>
    public static Task RetryAsync(Db db, long requestId, TimeSpan cooldown, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "UPDATE join_requests SET attempts_left = attempts_left - 1, retry_at = now() + make_interval(secs => $2) WHERE id = $1 AND state = 'pending'",
            cancellationToken, Arg(requestId), Arg(cooldown.TotalSeconds));

    /// <summary>A check in a group, to be deleted once its request is decided (<see cref="ClearableChecksAsync"/>).</summary>
    public static Task RememberGroupCheckAsync(Db db, long requestId, long chatId, long outboxId, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "INSERT INTO join_check_messages (request_id, chat_id, outbox_id) VALUES ($1, $2, $3) ON CONFLICT (request_id) DO UPDATE SET outbox_id = excluded.outbox_id",
            cancellationToken, Arg(requestId), Arg(chatId), Arg(outboxId));

    public static async Task<bool> HasGroupCheckAsync(Db db, long requestId, CancellationToken cancellationToken) =>
        await db.ScalarAsync<bool?>("SELECT true FROM join_check_messages WHERE request_id = $1", cancellationToken, Arg(requestId)) == true;

    /// <summary>A join during a raid: no check, due at once, and kept by the sweep while the raid lasts.</summary>
    public static Task HoldAsync(Db db, long requestId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE join_requests SET held = true, deadline = now() WHERE id = $1", cancellationToken, Arg(requestId));

    /// <summary>A group check deleted with its decision needs no clearing later.</summary>
    public static Task ForgetGroupCheckAsync(Db db, long requestId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM join_check_messages WHERE request_id = $1", cancellationToken, Arg(requestId));

    /// <summary>
    /// Group checks of decided requests whose message has gone out (or never will): the chat and the sent message's
    /// result, taken (deleted from join_check_messages) in the caller's transaction, only while <paramref name="epoch"/> leads.
    /// </summary>
    public static Task<List<(long ChatId, string? Result)>> ClearableChecksAsync(Db db, int limit, long epoch, CancellationToken cancellationToken) =>
        db.ListAsync(
            $"""
            WITH due AS (
                SELECT m.request_id, m.chat_id, o.result
                FROM join_check_messages m
                JOIN join_requests j ON j.id = m.request_id AND j.state <> 'pending'
                LEFT JOIN outbox o ON o.id = m.outbox_id
                WHERE (o.id IS NULL OR o.state IN ('sent', 'dead')) AND {Coordination.LeaderEpochs.IsCurrent(2)}
                ORDER BY m.request_id
                LIMIT $1
                FOR UPDATE OF m SKIP LOCKED
            ), gone AS (
                DELETE FROM join_check_messages m USING due WHERE m.request_id = due.request_id
            )
            SELECT chat_id, result FROM due
            """,
            reader => (reader.GetInt64(0), reader.StringOrNull(1)), cancellationToken, Arg(limit), Arg(epoch));

    /// <summary>What applies to a user's next request or join: 'block', 'allow' or null.</summary>
    public static Task<string?> VerdictAsync(Db db, long chatId, long userId, CancellationToken cancellationToken) =>
        db.ScalarAsync<string?>(
            "SELECT verdict FROM join_verdicts WHERE chat_id = $1 AND user_id = $2 AND until > now()", cancellationToken, Arg(chatId), Arg(userId));

    /// <summary>Sets what applies to a user's next request or join until <paramref name="period"/> from now.</summary>
    public static Task SetVerdictAsync(Db db, long chatId, long userId, string verdict, TimeSpan period, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            """
            INSERT INTO join_verdicts (chat_id, user_id, verdict, until) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
            ON CONFLICT (chat_id, user_id) DO UPDATE SET verdict = excluded.verdict, until = excluded.until
            """,
            cancellationToken, Arg(chatId), Arg(userId), Arg(verdict), Arg(period.TotalSeconds));

    /// <summary>An allowance is used by the request or join it let in.</summary>
    public static Task ClearVerdictAsync(Db db, long chatId, long userId, CancellationToken cancellationToken) =>
        db.ExecuteAsync("DELETE FROM join_verdicts WHERE chat_id = $1 AND user_id = $2", cancellationToken, Arg(chatId), Arg(userId));

    /// <summary>Expired verdicts (<see cref="Retention"/>'s batch shape; the period is 0: "until" already says when).</summary>
    public const string VerdictsPurgeSql =
        """
        WITH gone AS (
            DELETE FROM join_verdicts
            WHERE (chat_id, user_id) IN (
                SELECT chat_id, user_id FROM join_verdicts
                WHERE until < now() - make_interval(secs => $1) AND until >= $2
                ORDER BY until
                LIMIT $3)
            RETURNING until
        )
        SELECT count(*)::int, max(until) FROM gone
        """;

    /// <summary>An admin's Approve anyway of a declined request: it becomes approved by them.</summary>
    public static Task<int> OverrideAsync(Db db, long requestId, long adminId, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "UPDATE join_requests SET state = 'approved', reason = 'admin', decided_by = $2, decided_at = now() WHERE id = $1 AND state = 'declined'",
            cancellationToken, Arg(requestId), Arg(adminId));

    /// <summary>
    /// Stores a new request, pending with a deadline or already decided; null when this update was stored before.
    /// </summary>
    public static Task<long?> InsertAsync(
        Db db, long chatId, long userId, long userChatId, long updateId, DateTimeOffset requestedAt, string state, string? reason, TimeSpan checkTime,
        CancellationToken cancellationToken, string entry = JoinEntry.Request, string? checkKind = null, int attempts = 1, string? chatTitle = null,
        string? language = null, bool held = false, string? userName = null, string? userHandle = null) =>
        db.ScalarAsync<long?>(
            """
            INSERT INTO join_requests (chat_id, user_id, user_chat_id, update_id, requested_at, state, reason, deadline, decided_at,
                                       entry, check_kind, attempts_left, chat_title, language, held, user_name, username)
            VALUES ($1, $2, $3, $4, $5, $6, $7,
                    CASE WHEN $6 = 'pending' THEN now() + make_interval(secs => $8) END,
                    CASE WHEN $6 <> 'pending' THEN now() END,
                    $9, $10, $11, $12, $13, $14, $15, $16)
            ON CONFLICT DO NOTHING
            RETURNING id
            """,
            cancellationToken, Arg(chatId), Arg(userId), Arg(userChatId), Arg(updateId), Arg(requestedAt), Arg(state), Arg(reason), Arg(checkTime.TotalSeconds),
            Arg(entry), Arg(checkKind), Arg(attempts), Arg(chatTitle), Arg(language), Arg(held), Arg(userName), Arg(userHandle));

    /// <summary>
    /// The user left the chat (or was removed): their latest approval there is marked, for the overview's "still a
    /// member after 7 days". A leave the bot did not see leaves it NULL (counted as still a member).
    /// </summary>
    public static Task MarkLeftAsync(Db db, long chatId, long userId, DateTime at, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            """
            UPDATE join_requests SET left_at = $3
            WHERE id = (SELECT max(id) FROM join_requests WHERE chat_id = $1 AND user_id = $2 AND state = 'approved') AND left_at IS NULL
            """,
            cancellationToken, Arg(chatId), Arg(userId), Arg(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))));

    /// <summary>
    /// Decides a pending request and queues what it means on Telegram's side for how the user came
    /// (<see cref="QueueDecisionAsync"/>); its check's remaining tokens are deleted. Null when it was no longer pending
    /// (decided by a concurrent answer or the deadline sweep), and then nothing is queued.
    /// </summary>
    public static async Task<Decision?> DecideAsync(
        Db db, OutboxWriter outbox, long requestId, bool approve, string reason, CancellationToken cancellationToken, long? decidedBy = null, bool ban = false)
    {
        var decided = await db.FirstAsync(
            """
            WITH decided AS (
                UPDATE join_requests SET state = $2, reason = $3, decided_at = now(), decided_by = $4
                WHERE id = $1 AND state = 'pending'
                RETURNING id, chat_id, user_id, user_chat_id, entry
            ), tokens AS (
                DELETE FROM join_check_tokens t USING decided WHERE t.request_id = decided.id
            )
            SELECT id, chat_id, user_id, user_chat_id, entry FROM decided
            """,
            reader => new Decision(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), approve, reason),
            cancellationToken, Arg(requestId), Arg(approve ? Approved : Declined), Arg(reason), Arg(decidedBy));
        if (decided is null)
        {
            return null;
        }

        await QueueDecisionAsync(outbox, decided, cancellationToken, ban && !approve);
        return decided;
    }

    /// <summary>
    /// The Bot API calls a decision makes. A request: approveChatJoinRequest or declineChatJoinRequest. A direct join:
    /// approval lifts the restriction (restrictChatMember with every permission, as the Bot API says to), a decline
    /// removes the user with banChatMember then unbanChatMember (only_if_banned), so they may come back later. All under
    /// the user's private chat as ordering key: the ban goes before its unban, and a group's 20 messages a minute do not
    /// hold back its members' admission.
    /// </summary>
    /// <remarks>
    /// A ban (an admin's, from the Mini App's queue) declines the same way and then bans the user from the chat for good:
    /// no unban follows, so they can neither ask again nor join until an admin unbans them.
    /// </remarks>
    public static async Task QueueDecisionAsync(OutboxWriter outbox, Decision decision, CancellationToken cancellationToken, bool ban = false)
    {
        if (decision.Entry != JoinEntry.Direct)
        {
            await QueueCallAsync(outbox, decision.ChatId, decision.UserId, decision.UserChatId, decision.Approved, cancellationToken);
            if (ban)
            {
                await outbox.EnqueueAsync(new BanChatMemberRequest { ChatId = decision.ChatId, UserId = decision.UserId }, decision.UserChatId, cancellationToken: cancellationToken);
            }

            return;
        }

        if (decision.Approved)
        {
            await outbox.EnqueueAsync(
                new RestrictChatMemberRequest { ChatId = decision.ChatId, UserId = decision.UserId, Permissions = Everything },
                decision.UserId, cancellationToken: cancellationToken);
            return;
        }

        await outbox.EnqueueAsync(new BanChatMemberRequest { ChatId = decision.ChatId, UserId = decision.UserId }, decision.UserId, cancellationToken: cancellationToken);
        if (ban)
        {
            return;
        }

        await outbox.EnqueueAsync(
            new UnbanChatMemberRequest { ChatId = decision.ChatId, UserId = decision.UserId, OnlyIfBanned = true }, decision.UserId, cancellationToken: cancellationToken);
    }

    /// <summary>A direct joiner until decided: may not send anything.</summary>
    public static Task RestrictAsync(OutboxWriter outbox, long chatId, long userId, CancellationToken cancellationToken) =>
        outbox.EnqueueAsync(
            new RestrictChatMemberRequest { ChatId = chatId, UserId = userId, Permissions = Nothing },
            userId, cancellationToken: cancellationToken);

    private static readonly ChatPermissions Everything = new()
    {
        CanSendMessages = true,
        CanSendAudios = true,
        CanSendDocuments = true,
        CanSendPhotos = true,
        CanSendVideos = true,
        CanSendVideoNotes = true,
        CanSendVoiceNotes = true,
        CanSendPolls = true,
        CanSendOtherMessages = true,
        CanAddWebPagePreviews = true,
        CanChangeInfo = true,
        CanInviteUsers = true,
        CanPinMessages = true,
        CanManageTopics = true,
    };

    private static readonly ChatPermissions Nothing = new()
    {
        CanSendMessages = false,
        CanSendAudios = false,
        CanSendDocuments = false,
        CanSendPhotos = false,
        CanSendVideos = false,
        CanSendVideoNotes = false,
        CanSendVoiceNotes = false,
        CanSendPolls = false,
        CanSendOtherMessages = false,
        CanAddWebPagePreviews = false,
        CanChangeInfo = false,
        CanInviteUsers = false,
        CanPinMessages = false,
        CanManageTopics = false,
    };

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
            SELECT j.id, j.chat_id, j.user_id, j.user_chat_id, {UnreachableChats.Contains("j.user_chat_id")}, j.entry, j.chat_title, j.language, j.held
            FROM join_requests j
            WHERE j.state = 'pending' AND j.deadline <= now() AND {Coordination.LeaderEpochs.IsCurrent(2)}
              -- Held during a raid: kept until the raid is over.
              AND NOT (j.held AND EXISTS (SELECT 1 FROM gate_raids r WHERE r.chat_id = j.chat_id AND r.until > now()))
            ORDER BY j.deadline
            LIMIT $1
            FOR UPDATE OF j SKIP LOCKED
            """,
            reader => new DueRequest(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetBoolean(4), reader.GetString(5),
                reader.StringOrNull(6), reader.StringOrNull(7), reader.GetBoolean(8)),
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
