using Bot.Processing;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.Help;

/// <summary>
/// /start, /help, and a hint for anything else said to the bot in private. Replies quote the user's message,
/// so in a busy chat it is clear what they answer. The subscription side of /start, /lang and the
/// resource-file texts arrive with the subscriptions feature; until then the texts below are English only.
/// </summary>
public sealed class HelpHandler : IUpdateHandler
{
    public const string Welcome = "Welcome! I keep this community's gates and announcements. Send /help to see what I can do.";
    public const string HelpText = "/start – subscribe to announcements\n/stop – unsubscribe\n/help – this list";
    public const string Hint = "I answer commands only. Send /help to see them.";

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is not { Type: UpdateType.Message, Message: { Chat: { } chat } message })
        {
            return false;
        }

        string? reply;
        if (ChatCommand.TryParse(message.Text, botUsername: null, out var command))
        {
            reply = command.Name switch
            {
                "start" => Welcome,
                "help" => HelpText,
                _ => chat.Type == ChatType.Private ? Hint : null,
            };
        }
        else
        {
            // In groups the bot stays quiet unless spoken to with a command.
            reply = chat.Type == ChatType.Private && message.Text is not null ? Hint : null;
        }

        if (reply is null)
        {
            return false;
        }

        await context.Outbox.EnqueueAsync(new SendMessageRequest
        {
            ChatId = chat.Id,
            Text = reply,
            ReplyParameters = new ReplyParameters { MessageId = message.MessageId, AllowSendingWithoutReply = true },
        }, chat.Id, cancellationToken: context.CancellationToken);
        return true;
    }
}
