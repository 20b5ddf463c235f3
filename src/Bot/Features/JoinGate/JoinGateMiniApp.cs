using System.Security.Claims;
using System.Text.Json.Serialization;
using Bot.Admin;
using Bot.Features.FloodControl;
using Bot.Features.MiniApp;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using static Bot.Storage.Sql;

namespace Bot.Features.JoinGate;

/// <summary>
/// The join gate in the admin Mini App, for each chat's admins: the overview (joins today and this week, the funnel of
/// 30 days, 14 days per day, flood warnings, raid periods), the queue of pending requests with approve, decline and
/// ban, and the chat's settings as a form with the audit of changes. Decisions and changes go the way the chat's own
/// buttons and commands do: the same decision (with its Bot API calls through the outbox), the log chat's line, the
/// audit row.
/// </summary>
public sealed class JoinGateMiniApp(NpgsqlDataSource dataSource, IOptionsMonitor<JoinGateOptions> options) : IMiniAppRoutes, IMiniAppChats
{
    public const int QueueLimit = 200;
    public const int AuditLimit = 30;

    /// <summary>The gated chats (the environment's and those with settings of their own), by the title of their latest request.</summary>
    public async Task<IReadOnlyList<MiniAppChat>> ChatsAsync(CancellationToken cancellationToken)
    {
        var db = Db.Of(dataSource);
        var ids = await GateSettings.KnownChatsAsync(db, options.CurrentValue, cancellationToken);
        if (ids.Count == 0)
        {
            return [];
        }

        return await GateOverviews.TitlesAsync(db, ids, cancellationToken);
    }

    public void Map(RouteGroupBuilder chat, RouteGroupBuilder botAdmin)
    {
        chat.MapGet("/overview", OverviewAsync);
        chat.MapGet("/queue", QueueAsync);
        chat.MapPost("/queue/{id:long}/approve", (long chatId, long id, ClaimsPrincipal user, GateQueueDecider decider, CancellationToken ct) =>
            decider.DecideAsync(chatId, id, user, QueueAction.Approve, ct));
        chat.MapPost("/queue/{id:long}/decline", (long chatId, long id, ClaimsPrincipal user, GateQueueDecider decider, CancellationToken ct) =>
            decider.DecideAsync(chatId, id, user, QueueAction.Decline, ct));
        chat.MapPost("/queue/{id:long}/ban", (long chatId, long id, ClaimsPrincipal user, GateQueueDecider decider, CancellationToken ct) =>
            decider.DecideAsync(chatId, id, user, QueueAction.Ban, ct));
        chat.MapGet("/settings", SettingsAsync);
        chat.MapPut("/settings", ChangeSettingsAsync);
    }

    private static async Task<Ok<GateOverview>> OverviewAsync(long chatId, ReadReplica reads, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reads.ReadAsync((db, ct) => GateOverviews.ReadAsync(db, chatId, ct), cancellationToken));

    private static async Task<Ok<QueueView>> QueueAsync(long chatId, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        TypedResults.Ok(new QueueView(await GateOverviews.QueueAsync(Db.Of(dataSource), chatId, QueueLimit, cancellationToken)));

    private static async Task<Ok<GateSettingsView>> SettingsAsync(
        long chatId, NpgsqlDataSource dataSource, IOptionsMonitor<JoinGateOptions> options, CancellationToken cancellationToken) =>
        TypedResults.Ok(await SettingsViewAsync(Db.Of(dataSource), chatId, options.CurrentValue, cancellationToken));

    private static async Task<GateSettingsView> SettingsViewAsync(Db db, long chatId, JoinGateOptions defaults, CancellationToken cancellationToken)
    {
        var gate = await GateSettings.GetAsync(db, chatId, defaults, cancellationToken);
        var audit = await GateSettings.AuditAsync(db, chatId, AuditLimit, cancellationToken);
        return new GateSettingsView(
            new GateFormValues(gate.Enabled, gate.CheckKind, gate.Attempts, gate.DeadlineSeconds, gate.LogChatId, gate.PausedReason),
            [.. audit.Select(a => new AuditEntry(a.UserId, a.Setting, a.OldValue, a.NewValue, a.ChangedAt))]);
    }

    /// <summary>
    /// Changes what the form sends (a field left out stays), each change audited and logged as the chat's /settings
    /// buttons do; a bad field is a 400 naming it, and then nothing is changed.
    /// </summary>
    private static async Task<Results<Ok<GateSettingsView>, ValidationProblem, ProblemHttpResult>> ChangeSettingsAsync(
        long chatId, HttpContext http, ClaimsPrincipal user, NpgsqlDataSource dataSource, IOptionsMonitor<JoinGateOptions> options, Texts texts,
        OutboxNudge nudge, CancellationToken cancellationToken)
    {
        var (form, unreadable) = await AdminBody.ReadAsync(http.Request, JoinGateMiniAppJson.Default.GateForm, cancellationToken);
        if (form is null)
        {
            return unreadable!;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (form.CheckKind is { } kind && !GateCheckKind.All.Contains(kind))
        {
            errors["checkKind"] = [$"checkKind must be one of {string.Join(", ", GateCheckKind.All)}"];
        }

        if (form.Attempts is < 1 or > 10)
        {
            errors["attempts"] = ["attempts must be between 1 and 10"];
        }

        if (form.DeadlineSeconds is { } deadline && !GateAdminHandler.DeadlineSteps.Contains(deadline))
        {
            errors["deadlineSeconds"] = [$"deadlineSeconds must be one of {string.Join(", ", GateAdminHandler.DeadlineSteps)}"];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, "a setting is out of range", title: "Invalid settings");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        var gate = await GateSettings.GetAsync(db, chatId, options.CurrentValue, cancellationToken, forUpdate: true);
        var changes = new List<(string Setting, string Value, string Before)>();
        if (form.Enabled is { } enabled && enabled != gate.Enabled)
        {
            changes.Add(("enabled", GateSettings.ToText(enabled), GateSettings.ToText(gate.Enabled)));
        }

        if (form.CheckKind is { } newKind && newKind != gate.CheckKind)
        {
            changes.Add(("check_kind", newKind, gate.CheckKind));
        }

        if (form.Attempts is { } attempts && attempts != gate.Attempts)
        {
            changes.Add(("attempts", GateSettings.ToText(attempts), GateSettings.ToText(gate.Attempts)));
        }

        if (form.DeadlineSeconds is { } seconds && seconds != gate.DeadlineSeconds)
        {
            changes.Add(("deadline_seconds", GateSettings.ToText(seconds), GateSettings.ToText(gate.DeadlineSeconds)));
        }

        var userId = user.UserId();
        var outbox = new OutboxWriter(connection, transaction, null);
        foreach (var (setting, value, before) in changes)
        {
            await GateSettings.ChangeAsync(db, chatId, userId, setting, value, before, cancellationToken);
            await GateLog.SettingAsync(outbox, texts, gate, userId, user.FindFirstValue(MiniAppAuth.NameClaim), setting, value, cancellationToken);
        }

        var view = await SettingsViewAsync(db, chatId, options.CurrentValue, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (outbox.Queued > 0)
        {
            nudge.Nudge();
        }

        return TypedResults.Ok(view);
    }
}

/// <summary>Approve, decline or ban from the queue.</summary>
public enum QueueAction
{
    Approve,
    Decline,
    Ban,
}

/// <summary>A decision from the queue, made as the chat's log buttons make theirs.</summary>
public sealed partial class GateQueueDecider(
    NpgsqlDataSource dataSource, IOptionsMonitor<JoinGateOptions> options, Texts texts, JoinMetrics metrics, OutboxNudge nudge, ILogger<GateQueueDecider> logger)
{
    public async Task<Results<Ok<QueueDecision>, ProblemHttpResult>> DecideAsync(
        long chatId, long requestId, ClaimsPrincipal user, QueueAction action, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        // Locked, so a check answered or swept at this moment is decided once; a request of another chat is not found here.
        if (await JoinDecisions.LockAsync(db, requestId, cancellationToken) is not { } request || request.ChatId != chatId)
        {
            return TypedResults.Problem($"no join request {requestId} in chat {chatId}", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        if (request.State != JoinDecisions.Pending)
        {
            return AdminBody.Conflict($"join request {requestId} is already {request.State}", "Already decided");
        }

        var adminId = user.UserId();
        var approve = action == QueueAction.Approve;
        var reason = action == QueueAction.Ban ? JoinReason.Banned : JoinReason.Admin;
        var outbox = new OutboxWriter(connection, transaction, null);
        var decision = await JoinDecisions.DecideAsync(db, outbox, requestId, approve, reason, cancellationToken, decidedBy: adminId, ban: action == QueueAction.Ban);
        if (decision is null)
        {
            return AdminBody.Conflict($"join request {requestId} was decided meanwhile", "Already decided");
        }

        await JoinDecisions.TakeCheckAsync(new ConversationState(connection, transaction), request.UserChatId, request.UserId, requestId, cancellationToken);
        var gate = await GateSettings.GetAsync(db, chatId, options.CurrentValue, cancellationToken);
        var title = request.ChatTitle ?? chatId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (action == QueueAction.Ban)
        {
            await GateLog.LineAsync(outbox, gate, texts.Format(Texts.English, "JoinGate.log_banned",
                ("user", GateLog.Mention(request.UserId)), ("chat", GateLog.Html(title)), ("admin", GateLog.Mention(adminId, user.FindFirstValue(MiniAppAuth.NameClaim))),
                ("id", requestId)), cancellationToken);
        }
        else
        {
            await GateLog.DecisionAsync(outbox, texts, gate, decision, title, cancellationToken);
        }

        await outbox.FlushAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        metrics.Decided(approve, reason);
        LogDecided(logger, requestId, chatId, action, adminId);
        return TypedResults.Ok(new QueueDecision(requestId, approve ? JoinDecisions.Approved : JoinDecisions.Declined, action == QueueAction.Ban));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Join request {RequestId} of chat {ChatId}: {Action} by admin {AdminId} in the Mini App")]
    private static partial void LogDecided(ILogger logger, long requestId, long chatId, QueueAction action, long adminId);
}

/// <summary>What the overview and the queue read.</summary>
public static class GateOverviews
{
    /// <summary>
    /// A chat's joins by the database's clock, in UTC days: those that arrived today and in the last 7 days by where they
    /// stand now (approved; declined, the requests; removed, the direct joins declined; pending), the funnel of the last
    /// 30 days (requested; checked: a check was sent, not let in at once nor held in a raid; passed: checked and
    /// approved; retained: passed at least 7 days ago and not seen leaving within 7 days of it), 14 days per day, and
    /// the chat's flood warnings and raid periods.
    /// </summary>
    public static async Task<GateOverview> ReadAsync(Db db, long chatId, CancellationToken cancellationToken)
    {
        var totals = await db.FirstAsync(
            """
            WITH b AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS today),
            r AS (
                SELECT j.state, j.entry, j.held, j.deadline IS NOT NULL AND NOT j.held AS checked, j.requested_at, j.decided_at, j.left_at, b.today
                FROM join_requests j, b WHERE j.chat_id = $1 AND j.requested_at >= b.today - interval '29 days')
            SELECT
                count(*) FILTER (WHERE requested_at >= today AND state = 'approved')::int,
                count(*) FILTER (WHERE requested_at >= today AND state = 'declined' AND entry <> 'direct')::int,
                count(*) FILTER (WHERE requested_at >= today AND state = 'declined' AND entry = 'direct')::int,
                count(*) FILTER (WHERE requested_at >= today AND state = 'pending')::int,
                count(*) FILTER (WHERE requested_at >= today - interval '6 days' AND state = 'approved')::int,
                count(*) FILTER (WHERE requested_at >= today - interval '6 days' AND state = 'declined' AND entry <> 'direct')::int,
                count(*) FILTER (WHERE requested_at >= today - interval '6 days' AND state = 'declined' AND entry = 'direct')::int,
                count(*) FILTER (WHERE requested_at >= today - interval '6 days' AND state = 'pending')::int,
                count(*)::int,
                count(*) FILTER (WHERE checked)::int,
                count(*) FILTER (WHERE checked AND state = 'approved')::int,
                count(*) FILTER (WHERE checked AND state = 'approved' AND decided_at <= now() - interval '7 days'
                                   AND (left_at IS NULL OR left_at > decided_at + interval '7 days'))::int,
                (SELECT today FROM b)
            FROM r
            """,
            reader => new Totals(
                new GateJoinCounts(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)),
                new GateJoinCounts(reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7)),
                new JoinFunnel(30, reader.GetInt32(8), reader.GetInt32(9), reader.GetInt32(10), reader.GetInt32(11)),
                reader.GetFieldValue<DateTimeOffset>(12)),
            cancellationToken, Arg(chatId)) ?? throw new InvalidOperationException("the overview's totals returned no row");
        var days = await db.ListAsync(
            """
            WITH b AS (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AS today)
            SELECT to_char(d.day, 'YYYY-MM-DD'),
                   count(j.id)::int, count(j.id) FILTER (WHERE j.state = 'approved')::int, count(j.id) FILTER (WHERE j.state = 'declined')::int
            FROM b, generate_series(b.today - interval '13 days', b.today, interval '1 day') AS d(day)
            LEFT JOIN join_requests j ON j.chat_id = $1
                AND j.requested_at >= d.day AT TIME ZONE 'UTC' AND j.requested_at < (d.day + interval '1 day') AT TIME ZONE 'UTC'
            GROUP BY d.day ORDER BY d.day
            """,
            reader => new JoinDay(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)),
            cancellationToken, Arg(chatId));
        var (today, week) = await FloodWindows.WarningsAsync(db, chatId, cancellationToken);
        var raids = await GateRaids.PeriodsAsync(db, chatId, totals.StartOfToday.AddDays(-29), cancellationToken);
        var title = (await TitlesAsync(db, [chatId], cancellationToken))[0].Title;
        return new GateOverview(chatId, title, totals.Today, totals.Week, totals.Funnel, days, new FloodCounts(today, week), raids);
    }

    /// <summary>The chats by the title of their latest join request (the bot keeps no other), their id where they have none.</summary>
    public static Task<List<MiniAppChat>> TitlesAsync(Db db, IReadOnlyList<long> chats, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT c, (SELECT chat_title FROM join_requests WHERE chat_id = c AND chat_title IS NOT NULL ORDER BY requested_at DESC LIMIT 1)
            FROM unnest($1::bigint[]) WITH ORDINALITY AS t(c, n) ORDER BY n
            """,
            reader => new MiniAppChat(reader.GetInt64(0), reader.StringOrNull(1) ?? reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            cancellationToken, Arg(chats.ToArray()));

    private sealed record Totals(GateJoinCounts Today, GateJoinCounts Week, JoinFunnel Funnel, DateTimeOffset StartOfToday);

    /// <summary>A chat's pending requests, oldest first.</summary>
    public static Task<List<QueuedRequest>> QueueAsync(Db db, long chatId, int limit, CancellationToken cancellationToken) =>
        db.ListAsync(
            """
            SELECT id, user_id, user_name, username, entry, check_kind, coalesce(attempts_left, 1), held, requested_at, deadline
            FROM join_requests WHERE chat_id = $1 AND state = 'pending' ORDER BY requested_at, id LIMIT $2
            """,
            reader => new QueuedRequest(
                reader.GetInt64(0), reader.GetInt64(1), reader.StringOrNull(2) ?? reader.GetInt64(1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                reader.StringOrNull(3), reader.GetString(4), reader.StringOrNull(5), reader.GetInt32(6), reader.GetBoolean(7),
                reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9)),
            cancellationToken, Arg(chatId), Arg(limit));
}

public sealed record GateJoinCounts(int Approved, int Declined, int Removed, int Pending);

public sealed record JoinFunnel(int Days, int Requested, int Checked, int Passed, int Retained);

public sealed record JoinDay(string Day, int Requested, int Approved, int Declined);

public sealed record FloodCounts(int Today, int Week);

/// <summary>GET /app/api/chats/{chatId}/overview.</summary>
public sealed record GateOverview(
    long ChatId, string Title, GateJoinCounts Today, GateJoinCounts Week, JoinFunnel Funnel, List<JoinDay> Days, FloodCounts FloodWarnings, List<RaidPeriod> Raids);

/// <summary>A pending request in the queue: who, how they came, where their check stands.</summary>
public sealed record QueuedRequest(
    long Id, long UserId, string Name, string? Username, string Entry, string? CheckKind, int AttemptsLeft, bool Held, DateTimeOffset RequestedAt,
    DateTimeOffset? Deadline);

/// <summary>GET /app/api/chats/{chatId}/queue.</summary>
public sealed record QueueView(List<QueuedRequest> Requests);

/// <summary>What a queue action did.</summary>
public sealed record QueueDecision(long Id, string State, bool Banned);

/// <summary>The form's settings (the chat's gate as it applies now).</summary>
public sealed record GateFormValues(bool Enabled, string CheckKind, int Attempts, int DeadlineSeconds, long? LogChatId, string? PausedReason);

/// <summary>A change of the chat's settings: who, what, from, to, when.</summary>
public sealed record AuditEntry(long UserId, string Setting, string? OldValue, string? NewValue, DateTimeOffset ChangedAt);

/// <summary>GET and PUT /app/api/chats/{chatId}/settings.</summary>
public sealed record GateSettingsView(GateFormValues Settings, List<AuditEntry> Audit);

/// <summary>PUT /app/api/chats/{chatId}/settings: the settings to change; a field left out stays as it is.</summary>
public sealed record GateForm(bool? Enabled = null, string? CheckKind = null, int? Attempts = null, int? DeadlineSeconds = null);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GateOverview))]
[JsonSerializable(typeof(QueueView))]
[JsonSerializable(typeof(QueueDecision))]
[JsonSerializable(typeof(GateSettingsView))]
[JsonSerializable(typeof(GateForm))]
internal sealed partial class JoinGateMiniAppJson : JsonSerializerContext;
