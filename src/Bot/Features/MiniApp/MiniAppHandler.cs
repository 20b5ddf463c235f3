using Bot.Admin;
using Bot.Coordination;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Bot.Telegram;
using Microsoft.Extensions.Options;
using Telegram.Bot;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.MiniApp;

/// <summary>
/// /admin in private: a bot admin, or an admin of a chat the bot manages, gets a button that opens the Mini App, and
/// the app becomes their chat's menu button. The button is an inline keyboard's web_app button: Telegram signs the
/// user's identity (initData) only for apps opened that way, from the menu button or a direct link; an app opened
/// from a reply keyboard's web_app button gets an empty initData, and the app could not tell who is calling.
/// </summary>
public sealed class MiniAppHandler(Texts texts, IOptionsMonitor<MiniAppOptions> options, IOptionsMonitor<AdminOptions> admin, MiniAppChatList chats)
    : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (!context.TryGetCommand(out var message, out var command) || command.Name != "admin" || message.From is not { } from)
        {
            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);
        if (message.Chat.Type != ChatType.Private)
        {
            context.Reply(message, texts.Get(language, "MiniApp.private_only"));
            return true;
        }

        var botAdmin = admin.CurrentValue.IsAdmin(from.Id);
        if (!botAdmin && (await chats.ForAsync(from.Id, botAdmin: false, context.CancellationToken)).Count == 0)
        {
            context.Reply(message, texts.Get(language, "MiniApp.refused"));
            return true;
        }

        if (options.CurrentValue.Url is not { } url)
        {
            context.Reply(message, texts.Get(language, "MiniApp.not_configured"));
            return true;
        }

        var label = texts.Get(language, "MiniApp.button");
        context.Reply(message, texts.Get(language, "MiniApp.open"),
            new InlineKeyboardMarkup(InlineKeyboardButton.WithWebApp(label, new WebAppInfo(url))));
        context.Outbox.Queue(MiniAppMenu.Button(from.Id, label, url), from.Id);
        return true;
    }
}

/// <summary>
/// Once a leadership term, when MiniApp:Url is set: the Mini App becomes the menu button of each bot admin's private
/// chat with the bot (setChatMenuButton), labelled in English; /admin sets it again in the user's language. A chat's admins get theirs
/// with their first /admin. A failure is retried with backoff, as the command menu's.
/// </summary>
public sealed partial class MiniAppMenu(
    IOptionsMonitor<MiniAppOptions> options, IOptionsMonitor<AdminOptions> admin, Texts texts, TelegramClients telegram, TimeProvider time,
    ILogger<MiniAppMenu> logger) : ILeaderSingleton
{
    public string Name => "miniapp-menu";

    public static SetChatMenuButtonRequest Button(long chatId, string label, string url) =>
        new() { ChatId = chatId, MenuButton = new MenuButtonWebApp { Text = label, WebApp = new WebAppInfo(url) } };

    public Task RunAsync(CancellationToken leadership)
    {
        if (options.CurrentValue.Url is not { } url)
        {
            return Task.CompletedTask;
        }

        return OncePerTerm.RunAsync(
            async token =>
            {
                var admins = admin.CurrentValue.Users;
                foreach (var user in admins)
                {
                    await telegram.Sender.SendRequest(Button(user, texts.Get(Texts.English, "MiniApp.button"), url), token);
                }

                LogSet(logger, admins.Count);
            },
            (exception, delay) => LogFailed(logger, exception.GetType().Name, delay.TotalSeconds), time, leadership);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mini App menu button set for {Count} bot admins")]
    private static partial void LogSet(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Setting the Mini App menu button failed ({ErrorType}); retrying in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string errorType, double seconds);
}
