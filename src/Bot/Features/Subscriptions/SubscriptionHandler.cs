using Bot.Outbox;
using Bot.Processing;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.Subscriptions;

/// <summary>
/// /start subscribes (the deep-link payload of the first one is kept as the source), /stop unsubscribes, /lang
/// chooses English or Russian (a button per language when given no argument). Private chats only: in a group
/// these fall through to /help's answers.
/// </summary>
public sealed class SubscriptionHandler(Texts texts, FeatureFlags flags) : IUpdateHandler
{
    private const string LanguageCallback = "lang:";

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        switch (context.Update)
        {
            case { Type: UpdateType.Message, Message: { Chat.Type: ChatType.Private, From: { } from } message }
                when flags.IsEnabled(SubscriptionsFeature.FeatureName, from.Id) && ChatCommand.TryParse(message.Text, null, out var command):
                return command.Name switch
                {
                    "start" => await StartAsync(context, message, from, command.Argument),
                    "stop" => await StopAsync(context, message, from),
                    "lang" => await LanguageAsync(context, message, from, command.Argument),
                    _ => false,
                };
            case { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data, From: { } user } query }
                when data.StartsWith(LanguageCallback, StringComparison.Ordinal) && flags.IsEnabled(SubscriptionsFeature.FeatureName, user.Id):
                var language = data[LanguageCallback.Length..];
                if (!Texts.Languages.Contains(language))
                {
                    context.Answer(query);
                    return true;
                }

                await UserDirectory.SetLanguageAsync(context, user, language);
                var confirmation = texts.Get(language, "Subscriptions.lang_set");
                context.Answer(query, confirmation);
                context.Send(user.Id, confirmation);
                return true;
            default:
                return false;
        }
    }

    private async Task<bool> StartAsync(UpdateContext context, Message message, User from, string payload)
    {
        // Talking to the bot again means it can reach them: a user once marked blocked is active again.
        var (previous, chosen) = await Subscribers.SubscribeAsync(context.Db, from.Id, from.LanguageCode, Source(payload), context.CancellationToken);
        await UnreachableChats.ClearAsync(context.Db, from.Id, context.CancellationToken);

        var language = Texts.Resolve(chosen, from.LanguageCode);
        context.Reply(message, texts.Get(language, previous == SubscriberStatus.Active ? "Subscriptions.already_subscribed" : "Subscriptions.subscribed"));
        return true;
    }

    private async Task<bool> StopAsync(UpdateContext context, Message message, User from)
    {
        var stopped = await Subscribers.StopAsync(context.Db, from.Id, context.CancellationToken);
        var language = await UserDirectory.LanguageAsync(context, from);
        context.Reply(message, texts.Get(language, stopped ? "Subscriptions.stopped" : "Subscriptions.not_subscribed"));
        return true;
    }

    private async Task<bool> LanguageAsync(UpdateContext context, Message message, User from, string argument)
    {
        var requested = argument.Trim().ToLowerInvariant();
        if (requested.Length == 0)
        {
            var current = await UserDirectory.LanguageAsync(context, from);
            var buttons = new InlineKeyboardMarkup([[
                InlineKeyboardButton.WithCallbackData("English", LanguageCallback + Texts.English),
                InlineKeyboardButton.WithCallbackData("Русский", LanguageCallback + Texts.Russian),
            ]]);
            context.Reply(message, texts.Get(current, "Subscriptions.lang_choose"), buttons);
            return true;
        }

        if (!Texts.Languages.Contains(requested))
        {
            context.Reply(message, texts.Get(await UserDirectory.LanguageAsync(context, from), "Subscriptions.lang_unknown"));
            return true;
        }

        await UserDirectory.SetLanguageAsync(context, from, requested);
        context.Reply(message, texts.Get(requested, "Subscriptions.lang_set"));
        return true;
    }

    /// <summary>A deep-link payload is at most 64 characters of A–Z, a–z, 0–9, _ and -; anything else is not kept.</summary>
    private static string Source(string payload) =>
        payload.Length is > 0 and <= 64 && payload.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? payload : "";
}
