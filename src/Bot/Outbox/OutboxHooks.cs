using Npgsql;

namespace Bot.Outbox;

/// <summary>What a feature knows about its own Bot API methods' outcomes.</summary>
public interface ISendOutcomeRules
{
    /// <summary>
    /// True when a 403 answer to this method is not about the chat the row is queued under (for example a join
    /// decision queued under the requester's private chat, refused because the bot lost its rights in the group):
    /// the row is dead and the chat stays reachable.
    /// </summary>
    bool RefusalIsNotTheChats(string method);
}

/// <summary>
/// Told when a chat turns out to be unreachable (a 403: the user blocked the bot), inside the transaction that
/// records it, and only when the sender's epoch fence let that record through.
/// </summary>
public interface IUnreachableChatHook
{
    Task ChatUnreachableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long chatId, CancellationToken cancellationToken);
}
