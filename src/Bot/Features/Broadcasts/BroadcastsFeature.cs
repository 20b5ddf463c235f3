using System.Text.Json.Serialization;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// Broadcasts: /broadcast and /cancel for the bot's admins, POST /admin/broadcasts and its reads, the leader's runner
/// that expands and counts them (broadcasts, the broadcast's outbox rows, admin_idempotency_keys).
/// </summary>
public sealed class BroadcastsFeature : IFeature
{
    public const string FeatureName = "Broadcasts";

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } =
    [
        new("broadcast", CommandAccess.Admins),
        new("cancel", CommandAccess.Admins),
    ];

    public void Register(FeatureBuilder feature) => feature
        .Service<BroadcastMetrics>()
        .Options<BroadcastOptions, BroadcastOptionsValidator>(o => o.BindConfiguration(BroadcastOptions.Section))
        .Handler<BroadcastHandler>()
        .LeaderJob<BroadcastRunner>()
        .Purge<IdempotencyKeysPurge>()
        .Counts<BroadcastCounts>()
        .AdminApi<BroadcastAdminApi>(BroadcastApiJson.Default)
        .Hook<IOutboxRetentionHold, BroadcastRetentionHold>();
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
            SELECT id FROM broadcasts WHERE state = 'running' OR finished_at > now() - make_interval(secs => $1)))
        OR o.id IN (
            SELECT status_outbox_id FROM broadcasts
            WHERE (state = 'running' OR finished_at > now() - make_interval(secs => $1)) AND status_outbox_id IS NOT NULL)
        """;
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
        new("broadcastsRunning", "SELECT count(*) FROM broadcasts WHERE state = 'running'"),
    ];

    public string? TextKey => $"{BroadcastsFeature.FeatureName}.stats";
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateBroadcastRequest))]
[JsonSerializable(typeof(BroadcastView))]
[JsonSerializable(typeof(List<BroadcastView>))]
internal sealed partial class BroadcastApiJson : JsonSerializerContext;
