using Bot.Storage;
using Npgsql;

namespace Bot.Features.DiscordSync;

/// <summary>
/// Discord account linking and role sync, behind the flag DiscordSync (off unless configured): /link and /unlink in
/// private, the OAuth2 callback on the public port (<see cref="DiscordCallback"/>), main group membership changes
/// (<see cref="DiscordMembershipHandler"/>), the durable role queue (<see cref="DiscordRoleWorker"/>) and the
/// reconcile (<see cref="DiscordReconciler"/>). Before the join gate in the feature list, so that it sees the main
/// group's chat_member updates, which it never takes. Its tables: discord_link_states, discord_links,
/// discord_role_jobs, discord_reconcile.
/// </summary>
public sealed class DiscordSyncFeature : IFeature
{
    public const string FeatureName = "DiscordSync";

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } =
        [new("link", CommandAccess.Everyone) { Flag = FeatureName }, new("unlink", CommandAccess.Everyone) { Flag = FeatureName }];

    public void Register(FeatureBuilder feature)
    {
        feature
            .Options<DiscordOptions, DiscordOptionsAttributesValidator>(o => o.BindConfiguration(DiscordOptions.Section))
            .Validator<DiscordOptions, DiscordOptionsValidator>()
            .Handler<DiscordMembershipHandler>()
            .Handler<DiscordLinkHandler>()
            .Service<DiscordApi>()
            .LeaderJob<DiscordRoleWorker>()
            .LeaderJob<DiscordReconciler>()
            .PublicRoutes<DiscordCallback>()
            .Purge<DiscordPurge>()
            .Counts<DiscordCounts>();
        // No retry or resilience handler of its own: the role queue retries, with Discord's own waits.
        feature.Services.AddHttpClient(DiscordApi.Client, client => client.Timeout = Timeout.InfiniteTimeSpan);
    }
}

/// <summary>Expired link states, and role jobs finished more than 30 days ago.</summary>
public sealed class DiscordPurge : IPurgeRule
{
    public string What => "Discord link states and finished role jobs";

    public async Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await Db.Of(dataSource).ExecuteAsync("DELETE FROM discord_link_states WHERE expires_at < now() - interval '1 hour'", cancellationToken)
        + await Db.Of(dataSource).ExecuteAsync(
            "DELETE FROM discord_role_jobs WHERE id IN (SELECT id FROM discord_role_jobs WHERE state IN ('done', 'dead') AND done_at < now() - interval '30 days' LIMIT 5000)",
            cancellationToken);
}

public sealed class DiscordCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } =
    [
        new("discordLinks", "SELECT count(*) FROM discord_links"),
        new("discordRoleJobsPending", "SELECT count(*) FROM discord_role_jobs WHERE state = 'pending'"),
        new("discordRoleJobsDead", "SELECT count(*) FROM discord_role_jobs WHERE state = 'dead'"),
    ];
}
