using Bot.Outbox;
using Bot.Storage;
using Npgsql;

namespace Bot.Features.Subscriptions;

/// <summary>
/// Subscriptions: /start, /stop and /lang in private chats, blocks and unblocks as Telegram reports them, and the users table (status, language, source) that the
/// other features read through <see cref="UserDirectory"/> and <see cref="Subscribers"/>.
/// </summary>
public sealed class SubscriptionsFeature : IFeature
{
    public const string FeatureName = "Subscriptions";

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } =
    [
        new("start", CommandAccess.Everyone),
        new("stop", CommandAccess.Everyone),
        new("lang", CommandAccess.Everyone),
    ];

    public void Register(FeatureBuilder feature) => feature
        .Handler<SubscriptionHandler>()
        .Handler<BotBlockHandler>()
        .Counts<SubscriberCounts>()
        .Hook<IUnreachableChatHook, BlockedSubscribers>();
}

/// <summary>A private chat's id is its user's: a user who blocked the bot is no longer an active subscriber.</summary>
public sealed class BlockedSubscribers : IUnreachableChatHook
{
    public Task ChatUnreachableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long chatId, CancellationToken cancellationToken) =>
        Subscribers.MarkBlockedAsync(Db.In(connection, transaction), chatId, cancellationToken);
}

public sealed class SubscriberCounts : ICountSource
{
    public IReadOnlyList<Count> Counts { get; } =
    [
        new("subscribers", "SELECT count(*) FROM users WHERE status <> 'none'"),
        new("active", "SELECT count(*) FROM users WHERE status = 'active'"),
        new("stopped", "SELECT count(*) FROM users WHERE status = 'stopped'"),
        new("blocked", "SELECT count(*) FROM users WHERE status = 'blocked'"),
    ];

    public string? TextKey => $"{SubscriptionsFeature.FeatureName}.stats";
}
