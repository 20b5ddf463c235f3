using System.Globalization;
using Bot.Features.JoinGate;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Microsoft.Extensions.Options;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.DiscordSync;

/// <summary>
/// /link in private: a single-use state bound to the user, valid for 10 minutes, and a button to Discord's
/// authorization page (scope identify) that returns to /discord/callback. /unlink removes the link and queues the
/// role's removal.
/// </summary>
public sealed class DiscordLinkHandler(FeatureFlags flags, Texts texts, IOptionsMonitor<DiscordOptions> options) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (!context.TryGetCommand(out var message, out var command) || command.Name is not ("link" or "unlink") || message.From is not { } from)
        {
            return false;
        }

        // Off for this user: the command is not the bot's (help answers it as any unknown one).
        if (!flags.IsEnabled(DiscordSyncFeature.FeatureName, from.Id))
        {
            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);

        if (message.Chat.Type != ChatType.Private)
        {
            context.Reply(message, texts.Get(language, "DiscordSync.private_only"));
            return true;
        }

        if (command.Name == "unlink")
        {
            if (await DiscordStore.UnlinkAsync(context.Db, from.Id, context.CancellationToken) is { } account)
            {
                await DiscordStore.EnqueueAsync(context.Db, account, add: false, context.CancellationToken);
                context.Reply(message, texts.Get(language, "DiscordSync.unlinked"));
            }
            else
            {
                context.Reply(message, texts.Get(language, "DiscordSync.not_linked"));
            }

            return true;
        }

        var state = await DiscordStore.NewStateAsync(context.Db, from.Id, context.CancellationToken);
        context.Reply(message, texts.Get(language, "DiscordSync.link_prompt"),
            new InlineKeyboardMarkup(InlineKeyboardButton.WithUrl(texts.Get(language, "DiscordSync.link_button"), AuthorizeUrl(options.CurrentValue, state))));
        return true;
    }

    /// <summary>Discord's authorization page for <paramref name="state"/>: the code flow, scope identify, back to the callback.</summary>
    public static string AuthorizeUrl(DiscordOptions options, string state) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{options.AuthorizeUrl}?response_type=code&client_id={Uri.EscapeDataString(options.ClientId!)}&scope=identify&state={Uri.EscapeDataString(state)}&redirect_uri={Uri.EscapeDataString(options.RedirectUri!)}&prompt=none");
}

/// <summary>
/// Watches the main group's chat_member updates for linked users and queues their role: joining adds it, leaving or
/// being removed takes it away. It never takes the update: the join gate after it still handles the same change.
/// </summary>
public sealed class DiscordMembershipHandler(FeatureFlags flags, IOptionsMonitor<JoinGateOptions> gate) : IUpdateHandler
{
    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is not { Type: UpdateType.ChatMember, ChatMember: { OldChatMember: { } before, NewChatMember: { } after } change }
            || gate.CurrentValue.MainChat is not { } main || change.Chat.Id != main
            || !flags.Get(DiscordSyncFeature.FeatureName).Enabled)
        {
            return false;
        }

        var was = Membership.IsInChat(before);
        var isNow = Membership.IsInChat(after);
        if (was != isNow && await DiscordStore.LinkedAccountAsync(context.Db, after.User.Id, context.CancellationToken) is { } account)
        {
            await DiscordStore.EnqueueAsync(context.Db, account, add: isNow, context.CancellationToken);
        }

        return false;
    }
}
