using Bot.Admin;
using Bot.Features.Users;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.Help;

/// <summary>
/// /help, /start when no other feature took it, and a hint for anything else said to the bot in private.
/// In groups the bot stays quiet unless spoken to with a command.
/// </summary>
public sealed class HelpHandler(Texts texts, IOptionsMonitor<AdminOptions> admin) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is not { Type: UpdateType.Message, Message: { Chat: { } chat, From: { } from } message })
        {
            return false;
        }

        string? key;
        if (ChatCommand.TryParse(message.Text, botUsername: null, out var command))
        {
            key = command.Name switch
            {
                "start" => "Help.welcome",
                "help" => "Help.help",
                _ => chat.Type == ChatType.Private ? "Help.hint" : null,
            };
        }
        else
        {
            key = chat.Type == ChatType.Private && message.Text is not null ? "Help.hint" : null;
        }

        if (key is null)
        {
            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);
        var text = texts.Get(language, key);
        if (key == "Help.help" && admin.CurrentValue.IsAdmin(from.Id))
        {
            text += "\n\n" + texts.Get(language, "Help.help_admin");
        }

        context.Reply(message, text);
        return true;
    }
}
