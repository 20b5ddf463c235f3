using Bot.Admin;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;

namespace Bot.Features.JoinGate;

/// <summary>
/// Who may run a chat's gate: its owner and administrators, asked of Telegram (getChatMember) at every open and
/// every press, never remembered, so an admin who lost the rights is refused at once; and the bot's own admins
/// (Admin__UserIds), everywhere.
/// </summary>
public sealed partial class GateChatAdmins(IOptionsMonitor<AdminOptions> admin, ILogger<GateChatAdmins> logger)
{
    public async Task<bool> MayManageAsync(UpdateContext context, long chatId, long userId)
    {
        if (admin.CurrentValue.IsAdmin(userId))
        {
            return true;
        }

        try
        {
            return await context.Reader.GetChatMember(chatId, userId, context.CancellationToken) is ChatMemberOwner or ChatMemberAdministrator;
        }
        catch (ApiRequestException exception) when (exception.ErrorCode is 400 or 403)
        {
            // The bot is not in that chat (or it does not exist): nobody manages it from here.
            LogUnknown(logger, chatId, userId, exception.ErrorCode, exception.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cannot tell whether user {UserId} administers chat {ChatId} ({Code}: {Error}); refused")]
    private static partial void LogUnknown(ILogger logger, long chatId, long userId, int code, string error);
}
