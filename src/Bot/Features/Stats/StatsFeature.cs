using Bot.Admin;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Bot.Storage;
using Microsoft.Extensions.Options;

namespace Bot.Features.Stats;

/// <summary>/stats for the bot's admins: every module's and feature's counts (<see cref="ICountSource"/>), one text each.</summary>
public sealed class StatsFeature : IFeature
{
    public string Name => "Stats";

    public IReadOnlyList<CommandSpec> Commands { get; } = [new("stats", CommandAccess.Admins)];

    public void Register(FeatureBuilder feature) => feature.Handler<StatsHandler>();
}

/// <remarks>The counts are read where lag is tolerated (<see cref="ReadReplica"/>): a standby when there is one.</remarks>
public sealed class StatsHandler(BotCounts counts, ReadReplica reads, Texts texts, IOptionsMonitor<AdminOptions> admin) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (!context.TryGetCommand(out var message, out var command) || command.Name != "stats" || message.From is not { } from)
        {
            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);
        if (!admin.CurrentValue.IsAdmin(from.Id))
        {
            context.Reply(message, texts.Get(language, "Stats.admins_only"));
            return true;
        }

        var values = await reads.ReadAsync(counts.ReadAsync, context.CancellationToken);
        var lines = counts.Sources.Where(s => s.TextKey is not null).Select(source =>
            texts.Format(language, source.TextKey!, [.. source.Counts.Select(c => (c.Name, (object?)values[c.Name]))]));
        context.Reply(message, string.Join("\n", lines));
        return true;
    }
}
