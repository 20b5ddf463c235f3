using Bot.Outbox;
using Bot.Storage;
using Npgsql;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Bot.Processing;

/// <summary>
/// What a handler works with: the update, the transaction its state changes and outgoing calls share, and
/// a Bot API client for read-only calls made inline (getChatMember). Anything that changes Telegram's side
/// goes through <see cref="Outbox"/> so it is sent only if the transaction commits.
/// </summary>
public sealed class UpdateContext(
    Update update, ClaimedUpdate claim, NpgsqlConnection connection, NpgsqlTransaction transaction,
    OutboxWriter outbox, ITelegramBotClient reader, CancellationToken cancellationToken)
{
    public Update Update { get; } = update;

    public ClaimedUpdate Claim { get; } = claim;

    public NpgsqlConnection Connection { get; } = connection;

    public NpgsqlTransaction Transaction { get; } = transaction;

    public OutboxWriter Outbox { get; } = outbox;

    public ITelegramBotClient Reader { get; } = reader;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>Per-user conversation state, in this transaction.</summary>
    public ConversationState State => state ??= new ConversationState(Connection, Transaction);

    /// <summary>Statements in this update's transaction.</summary>
    public Db Db => Db.In(Connection, Transaction);

    /// <summary>Whether the update is a message with a command to this bot (as <see cref="ChatCommand.TryParse"/> reads it).</summary>
    public bool TryGetCommand(out Message message, out ChatCommand command)
    {
        command = default;
        message = Update.Message!;
        return Update is { Type: global::Telegram.Bot.Types.Enums.UpdateType.Message, Message: { } m } && ChatCommand.TryParse(m.Text, null, out command);
    }

    /// <summary>Values read once and shared by the handlers of this update (keys are the features' own).</summary>
    public Dictionary<string, object?> Items { get; } = [];

    private ConversationState? state;
}

/// <summary>One feature's entry point. Returns false when the update is not for it.</summary>
public interface IUpdateHandler
{
    ValueTask<bool> HandleAsync(UpdateContext context);
}

/// <summary>
/// A handler whose per-update statement can be made once for a group of updates handled in one transaction: the
/// worker calls <see cref="PrepareAsync"/> with the whole group before any handler runs, and the handler leaves what
/// it read in each update's <see cref="UpdateContext.Items"/> for its <see cref="IUpdateHandler.HandleAsync"/>.
/// An update it left out is handled as it would be alone.
/// </summary>
public interface IGroupPreparer
{
    ValueTask PrepareAsync(IReadOnlyList<UpdateContext> group);
}

/// <summary>
/// A feature whose updates of a kind must be handled alone, each in its own transaction, not in a group: its handler
/// calls Telegram inline (a join request's getChatMember), and group-mates would wait for that call.
/// </summary>
public interface IRunsAlone
{
    bool RunsAlone(string kind);
}

/// <summary>Offers the update to each handler in registration order; the first that takes it wins.</summary>
public sealed class UpdateRouter(IEnumerable<IUpdateHandler> handlers, IEnumerable<IRunsAlone> alone)
{
    private readonly IUpdateHandler[] handlers = handlers.ToArray();
    private readonly IRunsAlone[] alone = alone.ToArray();

    /// <summary>Whether an update of this kind must be handled alone (<see cref="IRunsAlone"/>).</summary>
    public bool RunsAlone(string kind) => alone.Any(a => a.RunsAlone(kind));

    /// <summary>Lets each <see cref="IGroupPreparer"/> handler read what it needs for a group in one statement.</summary>
    public async ValueTask PrepareAsync(IReadOnlyList<UpdateContext> group)
    {
        foreach (var handler in handlers)
        {
            if (handler is IGroupPreparer preparer)
            {
                await preparer.PrepareAsync(group);
            }
        }
    }

    public async ValueTask<bool> RouteAsync(UpdateContext context)
    {
        foreach (var handler in handlers)
        {
            if (await handler.HandleAsync(context))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A bot command ("/start payload", "/help@SomeBot") read from a message.</summary>
public readonly record struct ChatCommand(string Name, string Argument)
{
    /// <summary>Parses a leading command; one addressed to another bot (/cmd@OtherBot) is not ours.</summary>
    public static bool TryParse(string? text, string? botUsername, out ChatCommand command)
    {
        command = default;
        if (string.IsNullOrEmpty(text) || text[0] != '/' || text.Length < 2)
        {
            return false;
        }

        var end = text.IndexOfAny([' ', '\n', '\t']);
        var head = end < 0 ? text[1..] : text[1..end];
        var at = head.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            if (botUsername is not null && !head[(at + 1)..].Equals(botUsername, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            head = head[..at];
        }

        if (head.Length == 0 || head.Length > 32 || !head.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            return false;
        }

        command = new ChatCommand(head.ToLowerInvariant(), end < 0 ? "" : text[(end + 1)..].Trim());
        return true;
    }
}
