using System.Text.Json.Serialization;
using Bot.Admin;
using Bot.Features.MiniApp;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Features.JoinGate;

/// <summary>
/// The join gate: join requests to the gated chats, the check sent to the requester, the deadline sweep, the
/// decisions' audit (join_requests, GET /admin/join-requests) and their purge.
/// </summary>
public sealed class JoinGateFeature : IFeature
{
    public const string FeatureName = "JoinGate";

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } =
    [
        new("settings", CommandAccess.ChatAdmins),
        new("gatequestion", CommandAccess.ChatAdmins),
        new("setwelcome", CommandAccess.ChatAdmins),
        new("gatelog", CommandAccess.ChatAdmins),
    ];

    public void Register(FeatureBuilder feature) => feature
        .Service<JoinMetrics>()
        .Service<GateChatAdmins>()
        .Options<JoinGateOptions, JoinGateOptionsAttributesValidator>(o => o.BindConfiguration(JoinGateOptions.Section))
        .Validator<JoinGateOptions, JoinGateOptionsValidator>()
        .Handler<JoinGateHandler>()
        .Handler<GateAdminHandler>()
        .LeaderJob<JoinDeadlineSweeper>()
        .Purge<JoinDecisionsPurge>()
        .Purge<GateSettingsAuditPurge>()
        .Purge<JoinVerdictsPurge>()
        .Purge<GateRaidsPurge>()
        .Purge<GateRaidPeriodsPurge>()
        .Counts<JoinCounts>()
        .AdminApi<JoinGateAdminApi>(JoinGateApiJson.Default)
        .Hook<IRunsAlone, JoinGateRules>()
        .Hook<ISendOutcomeRules, JoinGateRules>()
        .Hook<IOutboxRetentionHold, JoinCheckRetentionHold>()
        .Service<GateQueueDecider>()
        .Hook<IMiniAppRoutes, JoinGateMiniApp>()
        .Hook<IMiniAppChats, JoinGateMiniApp>()
        .Json(JoinGateMiniAppJson.Default);
}

/// <summary>What the pipeline must know about join requests and the calls that decide them.</summary>
public sealed class JoinGateRules : IRunsAlone, ISendOutcomeRules
{
    /// <summary>A join request's and a join's handler asks Telegram inline (getChatMember): they run alone, not in a group.</summary>
    public bool RunsAlone(string kind) => kind is "chat_join_request" or "chat_member";

    /// <summary>
    /// A decision is queued under the user's private chat, but a 403 refusal is the group's (the bot was removed from it or
    /// lost its rights): the user is not unreachable.
    /// </summary>
    public bool RefusalIsNotTheChats(string method) =>
        method is "approveChatJoinRequest" or "declineChatJoinRequest" or "restrictChatMember" or "banChatMember" or "unbanChatMember";
}

/// <summary>
/// A check shown in a group is deleted by its sent message's id, read from its outbox row: the row stays until the
/// check is cleared, however long its deadline (up to a day, the outbox's shortest retention).
/// </summary>
public sealed class JoinCheckRetentionHold : IOutboxRetentionHold
{
    public string KeepCondition => "o.id IN (SELECT outbox_id FROM join_check_messages)";
}

/// <summary>Decided join requests (approved, declined) past Bot:JoinDecisionRetentionDays; pending ones are never touched.</summary>
public sealed class JoinDecisionsPurge(IOptions<JoinGateOptions> options) : BatchedPurgeRule
{
    public override string What => "join decisions";

    protected override string Sql => JoinDecisions.PurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(options.Value.JoinDecisionRetentionDays);
}

/// <summary>Changes of the chats' gate settings past Bot:JoinDecisionRetentionDays, the audit period of the decisions.</summary>
public sealed class GateSettingsAuditPurge(IOptions<JoinGateOptions> options) : BatchedPurgeRule
{
    public override string What => "gate settings audit";

    protected override string Sql => GateSettings.AuditPurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(options.Value.JoinDecisionRetentionDays);
}

/// <summary>Repeat blocks and admins' allowances once their time is over.</summary>
public sealed class JoinVerdictsPurge : BatchedPurgeRule
{
    public override string What => "join verdicts";

    protected override string Sql => JoinDecisions.VerdictsPurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.Zero;
}

/// <summary>Raid-mode windows of chats that saw no join for a day.</summary>
public sealed class GateRaidsPurge : BatchedPurgeRule
{
    public override string What => "gate raid windows";

    protected override string Sql => GateRaids.PurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(1);
}

/// <summary>Raid-mode periods that ended more than Bot:JoinDecisionRetentionDays ago, the audit period of the decisions.</summary>
public sealed class GateRaidPeriodsPurge(IOptions<JoinGateOptions> options) : BatchedPurgeRule
{
    public override string What => "gate raid periods";

    protected override string Sql => GateRaids.PeriodsPurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(options.Value.JoinDecisionRetentionDays);
}

public sealed class JoinCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } =
    [
        new("joinApproved", "SELECT count(*) FROM join_requests WHERE state = 'approved'"),
        new("joinDeclined", "SELECT count(*) FROM join_requests WHERE state = 'declined'"),
        new("joinPending", "SELECT count(*) FROM join_requests WHERE state = 'pending'"),
    ];

    public string? TextKey => $"{JoinGateFeature.FeatureName}.stats";
}

/// <summary>GET /admin/join-requests: the decisions' audit; GET /admin/gate-settings/{chatId} and /admin/gate-settings-audit: the chats' settings and who changed them.</summary>
public sealed class JoinGateAdminApi : IAdminRoutes
{
    public void Map(RouteGroupBuilder read, RouteGroupBuilder write)
    {
        read.MapGet("/join-requests", ListAsync).WithName("ListJoinRequests").WithSummary("Join requests and their decisions, newest first (audit)");
        read.MapGet("/gate-settings/{chatId:long}", SettingsAsync).WithName("GetGateSettings").WithSummary("A chat's gate as it applies now (its own settings over the defaults)");
        read.MapGet("/gate-settings-audit", AuditAsync).WithName("ListGateSettingChanges").WithSummary("Changes of the chats' gate settings, newest first: who, what, from, to, when");
    }

    private static async Task<Ok<ChatGate>> SettingsAsync(long chatId, NpgsqlDataSource dataSource, IOptionsMonitor<JoinGateOptions> options, CancellationToken cancellationToken) =>
        TypedResults.Ok(await GateSettings.GetAsync(Db.Of(dataSource), chatId, options.CurrentValue, cancellationToken));

    private static async Task<Ok<List<SettingChange>>> AuditAsync(ReadReplica reads, CancellationToken cancellationToken, long? chatId = null, int limit = 50) =>
        TypedResults.Ok(await reads.ReadAsync((db, ct) => GateSettings.AuditAsync(db, chatId, Math.Clamp(limit, 1, 500), ct), cancellationToken));

    private static async Task<Results<Ok<List<JoinRequestView>>, ProblemHttpResult>> ListAsync(
        ReadReplica reads, CancellationToken cancellationToken, long? chatId = null, long? userId = null, string? state = null, int limit = 50)
    {
        if (state is not null and not (JoinDecisions.Pending or JoinDecisions.Approved or JoinDecisions.Declined))
        {
            return TypedResults.Problem("state must be pending, approved or declined", statusCode: StatusCodes.Status400BadRequest, title: "Invalid filter");
        }

        return TypedResults.Ok(await reads.ReadAsync((db, ct) => JoinDecisions.ListAsync(db, chatId, userId, state, Math.Clamp(limit, 1, 500), ct), cancellationToken));
    }
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(List<JoinRequestView>))]
[JsonSerializable(typeof(ChatGate))]
[JsonSerializable(typeof(List<SettingChange>))]
internal sealed partial class JoinGateApiJson : JsonSerializerContext;
