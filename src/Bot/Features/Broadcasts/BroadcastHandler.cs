using Bot.Admin;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Features.Broadcasts;

/// <summary>
/// The admins' commands: /broadcast as a reply to any message starts a broadcast of that message to every active
/// subscriber, with its progress shown in one status message; /cancel stops the running broadcast. Others who try
/// them are told the commands are for admins.
/// </summary>
public sealed class BroadcastHandler(Texts texts, FeatureFlags flags, IOptionsMonitor<AdminOptions> admin) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is not { Type: UpdateType.Message, Message: { From: { } from } message }
            || !ChatCommand.TryParse(message.Text, null, out var command)
            || command.Name is not ("broadcast" or "cancel"))
        {
            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);
        if (!admin.CurrentValue.IsAdmin(from.Id))
        {
            context.Reply(message, texts.Get(language, "Broadcasts.admins_only"));
            return true;
        }

        switch (command.Name)
        {
            case "cancel":
                var cancelled = await BroadcastStore.CancelAsync(context.Db, null, context.CancellationToken);
                context.Reply(message, cancelled is { } id
                    ? texts.Format(language, "Broadcasts.cancelled", ("id", id))
                    : texts.Get(language, "Broadcasts.nothing_to_cancel"));
                return true;
            default:
                if (!flags.IsEnabled(BroadcastsFeature.FeatureName, from.Id))
                {
                    context.Reply(message, texts.Get(language, "Broadcasts.disabled"));
                    return true;
                }

                if (message.ReplyToMessage is not { } original)
                {
                    context.Reply(message, texts.Get(language, "Broadcasts.reply_needed"));
                    return true;
                }

                var broadcast = await BroadcastStore.CreateAsync(
                    context.Db, message.Chat.Id, original.MessageId, from.Id, message.Chat.Id, language, context.CancellationToken);
                var status = await context.ReplyNowAsync(message, BroadcastStatus.Starting(texts, language, broadcast));
                await BroadcastStore.SetStatusOutboxAsync(context.Db, broadcast, status, context.CancellationToken);
                return true;
        }
    }
}
