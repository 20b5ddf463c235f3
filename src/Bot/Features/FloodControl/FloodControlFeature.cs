using Bot.Processing;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.FloodControl;

/// <summary>Flood control: the first handler, so that a flooding user's updates go no further. Its tables are flood_windows and flood_warnings (the warnings given, per chat).</summary>
public sealed class FloodControlFeature : IFeature
{
    public const string FeatureName = "FloodControl";

    public string Name => FeatureName;

    public void Register(FeatureBuilder feature) => feature
        .Options<FloodControlOptions, FloodControlOptionsValidator>(o => o.BindConfiguration(FloodControlOptions.Section))
        .Handler<FloodControlHandler>()
        .Purge<FloodWindowsPurge>()
        .Purge<FloodWarningsPurge>();
}

/// <summary>Flood warnings past 30 days (the admin Mini App shows a day's and a week's).</summary>
public sealed class FloodWarningsPurge : BatchedPurgeRule
{
    public override string What => "flood warnings";

    protected override string Sql => FloodWindows.WarningsPurgeSql;

    protected override TimeSpan RetentionPeriod => TimeSpan.FromDays(30);
}

/// <summary>Flood-control windows that ended more than a day ago.</summary>
public sealed class FloodWindowsPurge : IPurgeRule
{
    public string What => "flood-control windows";

    public Task<int> PurgeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) => FloodWindows.PurgeAsync(dataSource, cancellationToken);
}
