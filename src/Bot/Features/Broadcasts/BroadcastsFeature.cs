using System.Text.Json.Serialization;
using Bot.Features.MiniApp;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Broadcasts: /broadcast and the other commands for the bot's admins, the admin API's broadcast and audience-list
/// routes, the leader's runner that expands and counts them (broadcasts, their variants and delivery records, the
/// broadcast's outbox rows, audience_lists, admin_idempotency_keys).
/// </summary>
public sealed class BroadcastsFeature : IFeature
{
    public const string FeatureName = "Broadcasts";

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } =
    [
        new("broadcast", CommandAccess.Admins),
        new("audience", CommandAccess.Admins),
        new("schedule", CommandAccess.Admins),
        new("quiet", CommandAccess.Admins),
        new("timezone", CommandAccess.Admins),
        new("paid", CommandAccess.Admins),
        new("edit", CommandAccess.Admins),
        new("withdraw", CommandAccess.Admins),
        new("cancel", CommandAccess.Admins),
    ];

    public void Register(FeatureBuilder feature) => feature
        .Service<BroadcastMetrics>()
        .Options<BroadcastOptions, BroadcastOptionsValidator>(o => o.BindConfiguration(BroadcastOptions.Section))
        .Handler<BroadcastHandler>()
        .LeaderJob<BroadcastRunner>()
        .Purge<IdempotencyKeysPurge>()
        .Purge<BroadcastRecordsPurge>()
        .Counts<BroadcastCounts>()
        .AdminApi<BroadcastAdminApi>(BroadcastApiJson.Default)
        .Hook<IOutboxRetentionHold, BroadcastRetentionHold>()
        .Hook<IMiniAppRoutes, BroadcastsMiniApp>()
        .Json(BroadcastsMiniAppJson.Default);
}

/// <summary>
/// A broadcast's messages are counted from the outbox while it runs and for a while after it ends, and its status
/// message is read back for the message id to edit: the outbox purge keeps the messages of a broadcast that is
/// running or ended within the retention, and its status message.
/// </summary>
public sealed class BroadcastRetentionHold : IOutboxRetentionHold
{
    public string KeepCondition =>
        """
        (o.broadcast_id IS NOT NULL AND o.broadcast_id IN (
            SELECT id FROM broadcasts
            WHERE state IN ('running', 'sending', 'paused') OR job_state = 'running' OR finished_at > now() - make_interval(secs => $1)))
        OR o.id IN (
            SELECT status_outbox_id FROM broadcasts
            WHERE (state NOT IN ('done', 'cancelled', 'skipped') OR job_state = 'running' OR finished_at > now() - make_interval(secs => $1))
              AND status_outbox_id IS NOT NULL)
        """;
}

/// <summary>
/// Delivery records of broadcasts ended more than Broadcasts:DeliveryRetentionDays ago (withdraw works within 48 h, edit
/// as long as the records are kept), and albums' items recorded more than a day ago.
/// </summary>
public sealed class BroadcastRecordsPurge(Microsoft.Extensions.Options.IOptions<BroadcastOptions> options) : IPurgeRule
{
    public string What => "broadcast delivery records and album items";

    public async Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var days = options.Value.DeliveryRetentionDays;
        var records = await Retention.RepeatAsync(() => Db.Of(dataSource).ExecuteAsync(
            """
            DELETE FROM broadcast_deliveries d USING (
                SELECT d2.broadcast_id, d2.user_id FROM broadcast_deliveries d2 JOIN broadcasts b ON b.id = d2.broadcast_id
                WHERE b.state IN ('done', 'cancelled', 'skipped') AND b.finished_at < now() - make_interval(days => $1)
                  AND b.job_state IS DISTINCT FROM 'running'
                LIMIT $2) old
            WHERE d.broadcast_id = old.broadcast_id AND d.user_id = old.user_id
            """,
            cancellationToken, Sql.Arg(days), Sql.Arg(Retention.BatchSize)), cancellationToken);
        var albums = await Retention.RepeatAsync(() => Db.Of(dataSource).ExecuteAsync(
            """
            DELETE FROM broadcast_album_items a USING (
                SELECT chat_id, media_group_id, message_id FROM broadcast_album_items WHERE created_at < now() - interval '1 day' LIMIT $1) old
            WHERE a.chat_id = old.chat_id AND a.media_group_id = old.media_group_id AND a.message_id = old.message_id
            """,
            cancellationToken, Sql.Arg(Retention.BatchSize)), cancellationToken);
        return records + albums;
    }
}

/// <summary>Idempotency keys past their 24 hours.</summary>
public sealed class IdempotencyKeysPurge : IPurgeRule
{
    public string What => "idempotency keys";

    public Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Retention.RepeatAsync(() => IdempotencyKeys.PurgeAsync(dataSource, Retention.BatchSize, cancellationToken), cancellationToken);
}

public sealed class BroadcastCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } =
    [
        new("broadcasts", "SELECT count(*) FROM broadcasts"),
        new("broadcastsRunning", "SELECT count(*) FROM broadcasts WHERE state IN ('running', 'sending')"),
    ];

    public string? TextKey => $"{BroadcastsFeature.FeatureName}.stats";
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateBroadcastRequest))]
[JsonSerializable(typeof(BroadcastView))]
[JsonSerializable(typeof(List<BroadcastView>))]
[JsonSerializable(typeof(AudienceCountRequest))]
[JsonSerializable(typeof(AudienceCountView))]
[JsonSerializable(typeof(ResumeBroadcastRequest))]
[JsonSerializable(typeof(EditBroadcastRequest))]
[JsonSerializable(typeof(PreviewBroadcastRequest))]
[JsonSerializable(typeof(PreviewView))]
[JsonSerializable(typeof(List<DeliveryView>))]
[JsonSerializable(typeof(AudienceListRequest))]
[JsonSerializable(typeof(AudienceListSummary))]
[JsonSerializable(typeof(List<AudienceListSummary>))]
[JsonSerializable(typeof(AudienceListView))]
internal sealed partial class BroadcastApiJson : JsonSerializerContext;
