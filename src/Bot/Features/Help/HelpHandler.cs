using Bot.Admin;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.Help;

/// <summary>Help: the last feature of the list, so that it answers what no other feature took.</summary>
public sealed class HelpFeature : IFeature
{
    public string Name => "Help";

    public IReadOnlyList<CommandSpec> Commands { get; } = [new("help", CommandAccess.Everyone)];

    public void Register(FeatureBuilder feature) => feature.Handler<HelpHandler>();
}

/// <summary>
/// /help (the commands of every feature the caller may run, from the <see cref="CommandRegistry"/>), /start when no
/// other feature took it, and a hint for anything else said to the bot in private. In groups the bot stays quiet
/// unless spoken to with a command.
/// </summary>
public sealed class HelpHandler(Texts texts, CommandRegistry commands, IOptionsMonitor<AdminOptions> admin, FeatureFlags flags) : IUpdateHandler
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
        if (key != "Help.help")
        {
            context.Reply(message, texts.Get(language, key));
            return true;
        }

        var isAdmin = admin.CurrentValue.IsAdmin(from.Id);
        // In a group, the chat's own admins also get the commands they may run there (asked of Telegram, never kept).
        var isChatAdmin = !isAdmin && chat.Type is ChatType.Group or ChatType.Supergroup && await IsChatAdminAsync(context, chat.Id, from.Id);
        context.Reply(message, Help(language, isAdmin, flag => flags.IsEnabled(flag, from.Id), isChatAdmin));
        return true;
    }

    private static async Task<bool> IsChatAdminAsync(UpdateContext context, long chatId, long userId)
    {
        try
        {
            return await context.Reader.GetChatMember(chatId, userId, context.CancellationToken) is ChatMemberOwner or ChatMemberAdministrator;
        }
        catch (global::Telegram.Bot.Exceptions.ApiRequestException)
        {
            // Telegram cannot say now: the everyone's list is still the right answer.
            return false;
        }
    }

    /// <summary>
    /// Everyone's commands under the help's heading; for an admin, the admins' commands under their own; for a chat's
    /// admin, the chat admins' commands.
    /// </summary>
    public string Help(string language, bool isAdmin, Func<string, bool>? flagOn = null, bool isChatAdmin = false)
    {
        var text = texts.Get(language, "Help.help") + "\n" + CommandRegistry.Lines(texts, language, commands.For(isAdmin: false, flagOn: flagOn));
        var adminOnly = commands.All.Where(c => c.Access != CommandAccess.Everyone && (c.Flag is null || flagOn?.Invoke(c.Flag) == true)).ToList();
        if (isAdmin && adminOnly.Count > 0)
        {
            text += "\n\n" + texts.Get(language, "Help.help_admin") + "\n" + CommandRegistry.Lines(texts, language, adminOnly);
        }
        else if (isChatAdmin && adminOnly.Where(c => c.Access == CommandAccess.ChatAdmins).ToList() is { Count: > 0 } chatAdminOnly)
        {
            text += "\n\n" + texts.Get(language, "Help.help_chat_admin") + "\n" + CommandRegistry.Lines(texts, language, chatAdminOnly);
        }

        return text;
    }
}
