using Bot.Outbox;
using Bot.Processing;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using static Bot.Storage.Sql;

namespace Bot.Features.Subscriptions;

/// <summary>
/// my_chat_member in a private chat: Telegram says at once when a user blocks the bot (its status there becomes
/// kicked) or unblocks it (member again). A block marks the user blocked now, not at the next message's 403; an unblock
/// lets messages to them go out again, and they count as subscribed once they /start again (Telegram's Restart does).
/// </summary>
public sealed partial class BotBlockHandler(ILogger<BotBlockHandler> logger) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is not { Type: UpdateType.MyChatMember, MyChatMember: { Chat.Type: ChatType.Private, From: not null, NewChatMember: not null, OldChatMember: not null } change })
        {
            return false;
        }

        var userId = change.Chat.Id;
        if (change.NewChatMember is ChatMemberBanned)
        {
            await context.Db.ExecuteAsync(
                """
                INSERT INTO users (user_id, language_code, status, status_at) VALUES ($1, $2, 'blocked', now())
                ON CONFLICT (user_id) DO UPDATE SET status = 'blocked', status_at = now() WHERE users.status <> 'blocked'
                """,
                context.CancellationToken, Arg(userId), Arg(change.From.LanguageCode));
            LogBlocked(logger, userId);
        }
        else if (change.OldChatMember is ChatMemberBanned)
        {
            await context.Db.ExecuteAsync(
                "UPDATE users SET status = 'none', status_at = now() WHERE user_id = $1 AND status = 'blocked'", context.CancellationToken, Arg(userId));
            await UnreachableChats.ClearAsync(context.Db, userId, context.CancellationToken);
            LogUnblocked(logger, userId);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} blocked the bot")]
    private static partial void LogBlocked(ILogger logger, long userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} unblocked the bot")]
    private static partial void LogUnblocked(ILogger logger, long userId);
}
