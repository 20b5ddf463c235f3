using Bot.Processing;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.FloodControl;

/// <summary>Flood control: the first handler, so that a flooding user's updates go no further. Its table is flood_windows.</summary>
public sealed class FloodControlFeature : IFeature
{
    public const string FeatureName = "FloodControl";

    public string Name => FeatureName;

    public void Register(FeatureBuilder feature) => feature
        .Options<FloodControlOptions, FloodControlOptionsValidator>(o => o.BindConfiguration(FloodControlOptions.Section))
        .Handler<FloodControlHandler>()
        .Purge<FloodWindowsPurge>();
}

/// <summary>Flood-control windows that ended more than a day ago.</summary>
public sealed class FloodWindowsPurge : IPurgeRule
{
    public string What => "flood-control windows";

    public Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) => FloodWindows.PurgeAsync(dataSource, cancellationToken);
}
