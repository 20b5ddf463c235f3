using Bot.Processing;

namespace Bot.Features.Ping;

/// <summary>/ping answers "pong": the smallest feature, and the example of how one is added (docs/architecture.md).</summary>
public sealed class PingFeature : IFeature
{
    public string Name => "Ping";

    public IReadOnlyList<CommandSpec> Commands { get; } = [new("ping", CommandAccess.Everyone)];

    public void Register(FeatureBuilder feature) => feature.Handler<PingHandler>();
}

public sealed class PingHandler(Texts texts) : IUpdateHandler
{
    public ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (!context.TryGetCommand(out var message, out var command) || command.Name != "ping")
        {
            return ValueTask.FromResult(false);
        }

        context.Reply(message, texts.Get(Texts.Resolve(null, message.From?.LanguageCode), "Ping.pong"));
        return ValueTask.FromResult(true);
    }
}
