using System.Globalization;
using Bot.Admin;
using Bot.Features.Subscriptions;
using Bot.Processing;
using Bot.Storage;
using Microsoft.Extensions.Options;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using static Bot.Storage.Sql;

namespace Bot.Features.Broadcasts;

/// <summary>
/// The admins' broadcasts in Telegram. Replying /broadcast to a message (or an album) makes a draft and answers with
/// its menu: the audience buttons and the recipient count, Send me a preview, Send now, Schedule, Cancel. Replying
/// /broadcast LANG to other messages adds language variants to the admin's draft. /audience, /schedule, /quiet,
/// /timezone and /paid change a draft; the status message's buttons pause, resume, cancel and withdraw; /edit and
/// /withdraw take back what was sent; /cancel stops one. Others who try them are told the commands are for admins.
/// </summary>
public sealed class BroadcastHandler(Texts texts, FeatureFlags flags, IOptionsMonitor<AdminOptions> admin, IOptions<BroadcastOptions> options) : IUpdateHandler
{
    private static readonly string[] Names = ["broadcast", "cancel", "audience", "schedule", "quiet", "timezone", "paid", "edit", "withdraw"];

    public async ValueTask<bool> HandleAsync(UpdateContext context)
    {
        if (context.Update is { Type: UpdateType.CallbackQuery, CallbackQuery: { Data: { } data } query } && data.StartsWith("bc:", StringComparison.Ordinal))
        {
            await PressAsync(context, query, data);
            return true;
        }

        if (context.Update is not { Type: UpdateType.Message, Message: { From: { } from } message })
        {
            return false;
        }

        if (!ChatCommand.TryParse(message.Text, null, out var command) || !Names.Contains(command.Name))
        {
            // The items of an album an admin sends the bot, so that /broadcast replied to one of them sends the album.
            if (message is { MediaGroupId: { } group, Chat.Type: ChatType.Private } && admin.CurrentValue.IsAdmin(from.Id))
            {
                await AlbumItems.RecordAsync(context.Db, message.Chat.Id, group, message.MessageId, context.CancellationToken);
            }

            return false;
        }

        var language = await UserDirectory.LanguageAsync(context, from);
        if (!admin.CurrentValue.IsAdmin(from.Id))
        {
            context.Reply(message, texts.Get(language, "Broadcasts.admins_only"));
            return true;
        }

        var argument = command.Argument.Trim();
        switch (command.Name)
        {
            case "cancel":
                var cancelled = await BroadcastStore.CancelAsync(context.Db, TryId(argument, out var cancelId, out _) ? cancelId : (long?)null, context.CancellationToken);
                context.Reply(message, cancelled is { } id
                    ? texts.Format(language, "Broadcasts.cancelled", ("id", id))
                    : texts.Get(language, "Broadcasts.nothing_to_cancel"));
                return true;
            case "broadcast":
                await DraftAsync(context, message, from, language, argument);
                return true;
            case "timezone":
                await TimeZoneAsync(context, message, from, language, argument);
                return true;
        }

        if (!TryId(argument, out var broadcastId, out var rest))
        {
            context.Reply(message, texts.Get(language, $"Broadcasts.usage_{command.Name}"));
            return true;
        }

        if (await BroadcastStore.GetAsync(context.Db, broadcastId, context.CancellationToken) is not { } view)
        {
            context.Reply(message, texts.Format(language, "Broadcasts.not_found", ("id", broadcastId)));
            return true;
        }

        switch (command.Name)
        {
            case "audience":
                await AudienceAsync(context, message, language, view, rest);
                break;
            case "schedule":
                await ScheduleAsync(context, message, from, language, view, rest);
                break;
            case "quiet":
                await QuietAsync(context, message, language, view, rest);
                break;
            case "paid":
                await PaidAsync(context, message, language, view, rest);
                break;
            case "edit":
                await JobAsync(context, message, language, view, "edit", rest);
                break;
            default:
                await JobAsync(context, message, language, view, "withdraw", null);
                break;
        }

        return true;
    }

    private async Task DraftAsync(UpdateContext context, Message message, User from, string language, string argument)
    {
        if (!flags.IsEnabled(BroadcastsFeature.FeatureName, from.Id))
        {
            context.Reply(message, texts.Get(language, "Broadcasts.disabled"));
            return;
        }

        if (message.ReplyToMessage is not { } original)
        {
            context.Reply(message, texts.Get(language, "Broadcasts.reply_needed"));
            return;
        }

        var tag = argument.ToLowerInvariant();
        if (tag.Length > 0 && (tag.Length is < 2 or > 8 || !tag.All(char.IsAsciiLetterLower)))
        {
            context.Reply(message, texts.Get(language, "Broadcasts.usage_broadcast"));
            return;
        }

        var ids = original.MediaGroupId is { } group
            ? await AlbumItems.OfAsync(context.Db, message.Chat.Id, group, context.CancellationToken)
            : [];
        var variant = new Variant(tag, message.Chat.Id, ids.Length > 0 ? ids : [original.MessageId], ids.Length == 0 && original.Text is not null);

        // A tagged variant joins the admin's draft of the last day, if there is one; an untagged reply makes a new draft.
        var id = tag.Length > 0 ? await BroadcastStore.DraftOfAsync(context.Db, from.Id, context.CancellationToken) : null;
        if (id is { } draft)
        {
            await BroadcastStore.SetVariantAsync(context.Db, draft, variant, context.CancellationToken);
        }
        else
        {
            id = await BroadcastStore.CreateAsync(context.Db,
                new NewBroadcast([variant], Audience.Everyone, from.Id, message.Chat.Id, language, null), context.CancellationToken);
        }

        await SendMenuAsync(context, message, language, id.Value);
    }

    /// <summary>Answers with the broadcast's menu; the new message is the one the runner keeps up to date from now on.</summary>
    private async Task SendMenuAsync(UpdateContext context, Message message, string language, long id)
    {
        var view = (await BroadcastStore.GetAsync(context.Db, id, context.CancellationToken))!;
        var count = await Audience.CountAsync(context.Db, view.Audience, context.CancellationToken);
        var (text, markup) = BroadcastMenu.Render(texts, language, view, count);
        var menu = await context.ReplyNowAsync(message, text, markup);
        await BroadcastStore.SetStatusOutboxAsync(context.Db, id, menu, context.CancellationToken);
    }

    /// <summary>Edits the menu the press came from to the broadcast as it is now.</summary>
    private async Task RefreshMenuAsync(UpdateContext context, CallbackQuery query, string language, long id)
    {
        if (query.Message is not { } menu || await BroadcastStore.GetAsync(context.Db, id, context.CancellationToken) is not { } view)
        {
            return;
        }

        var count = await Audience.CountAsync(context.Db, view.Audience, context.CancellationToken);
        var (text, markup) = BroadcastMenu.Render(texts, language, view, count);
        context.Outbox.Queue(new EditMessageTextRequest { ChatId = menu.Chat.Id, MessageId = menu.MessageId, Text = text, ReplyMarkup = markup }, menu.Chat.Id);
    }

    private async Task PressAsync(UpdateContext context, CallbackQuery query, string data)
    {
        var language = await UserDirectory.LanguageAsync(context, query.From);
        if (!admin.CurrentValue.IsAdmin(query.From.Id))
        {
            context.Answer(query, texts.Get(language, "Broadcasts.admins_only"), alert: true);
            return;
        }

        var parts = data.Split(':', 4);
        if (parts.Length < 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || await BroadcastStore.GetAsync(context.Db, id, context.CancellationToken) is not { } view)
        {
            context.Answer(query, texts.Get(language, "Broadcasts.press_unknown"), alert: true);
            return;
        }

        var db = context.Db;
        var token = context.CancellationToken;
        switch (parts[2])
        {
            case "all" or "l" or "act" or "mem" when view.State == BroadcastState.Draft:
                var audience = parts[2] switch
                {
                    "all" => Audience.Everyone,
                    "act" => view.Audience with { ActiveWithinDays = view.Audience.ActiveWithinDays is null ? 30 : null },
                    "mem" => view.Audience with { Member = view.Audience.Member is true ? null : true },
                    _ when parts.Length == 4 && Texts.Languages.Contains(parts[3]) => view.Audience with { Languages = Toggle(view.Audience.Languages, parts[3]) },
                    _ => view.Audience,
                };
                await BroadcastStore.SetAudienceAsync(db, id, audience, token);
                context.Answer(query);
                await RefreshMenuAsync(context, query, language, id);
                return;
            case "pre":
                await PreviewAsync(context, query.From.Id, language, id);
                context.Answer(query, texts.Get(language, "Broadcasts.preview_sent"));
                return;
            case "go" when view.State == BroadcastState.Draft:
                await BroadcastStore.StartAsync(db, id, token);
                context.Answer(query, texts.Get(language, "Broadcasts.started"));
                await RefreshMenuAsync(context, query, language, id);
                return;
            case "sch" when view.State == BroadcastState.Draft:
                context.Answer(query, texts.Format(language, "Broadcasts.usage_schedule_id", ("id", id)), alert: true);
                return;
            case "x":
                var cancelled = await BroadcastStore.CancelAsync(db, id, token) is not null;
                context.Answer(query, cancelled ? texts.Format(language, "Broadcasts.cancelled", ("id", id)) : texts.Get(language, "Broadcasts.press_too_late"));
                if (cancelled && view.State is BroadcastState.Draft or BroadcastState.Scheduled)
                {
                    await RefreshMenuAsync(context, query, language, id);
                }

                return;
            case "pause":
                context.Answer(query, await BroadcastDeliveries.PauseAsync(db, id, "admin", token)
                    ? texts.Get(language, "Broadcasts.paused") : texts.Get(language, "Broadcasts.press_too_late"));
                return;
            case "resume":
                context.Answer(query, await BroadcastDeliveries.ResumeAsync(db, id, null, token)
                    ? texts.Get(language, "Broadcasts.resumed") : texts.Get(language, "Broadcasts.press_too_late"));
                return;
            case "wd":
                context.Answer(query, await BroadcastDeliveries.StartJobAsync(db, id, "withdraw", null, token)
                    ? texts.Get(language, "Broadcasts.withdrawing") : texts.Get(language, "Broadcasts.press_too_late"));
                return;
            default:
                context.Answer(query, texts.Get(language, "Broadcasts.press_too_late"));
                return;
        }
    }

    /// <summary>Sends the admin exactly what recipients get: each variant, labelled with its language when there are several.</summary>
    private async Task PreviewAsync(UpdateContext context, long adminId, string language, long id)
    {
        var variants = await BroadcastDeliveries.VariantsAsync(context.Db, id, context.CancellationToken);
        BroadcastDeliveries.QueuePreview(context.Outbox, texts, language, variants, adminId);
    }

    private async Task AudienceAsync(UpdateContext context, Message message, string language, BroadcastView view, string rest)
    {
        if (Audience.Parse(rest, out var problem) is not { } audience)
        {
            context.Reply(message, texts.Format(language, "Broadcasts.audience_bad", ("part", problem)) + "\n" + texts.Get(language, "Broadcasts.usage_audience"));
            return;
        }

        if (!await BroadcastStore.SetAudienceAsync(context.Db, view.Id, audience, context.CancellationToken))
        {
            context.Reply(message, texts.Format(language, "Broadcasts.not_draft", ("id", view.Id)));
            return;
        }

        await SendMenuAsync(context, message, language, view.Id);
    }

    private async Task ScheduleAsync(UpdateContext context, Message message, User from, string language, BroadcastView view, string rest)
    {
        var zone = await BroadcastStore.TimeZoneOfAsync(context.Db, from.Id, context.CancellationToken);
        if (BroadcastSchedule.Parse(rest, zone) is not { } plan)
        {
            context.Reply(message, texts.Format(language, "Broadcasts.usage_schedule_id", ("id", view.Id)));
            return;
        }

        if (view.State != BroadcastState.Draft)
        {
            context.Reply(message, texts.Format(language, "Broadcasts.not_draft", ("id", view.Id)));
            return;
        }

        if (await BroadcastStore.ScheduleAsync(context.Db, view.Id, plan, context.CancellationToken) is null)
        {
            context.Reply(message, texts.Get(language, "Broadcasts.schedule_past"));
            return;
        }

        await SendMenuAsync(context, message, language, view.Id);
    }

    private async Task QuietAsync(UpdateContext context, Message message, string language, BroadcastView view, string rest)
    {
        TimeOnly? start = null, end = null;
        if (!rest.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            var range = rest.Split('-', 2, StringSplitOptions.TrimEntries);
            if (range.Length != 2 || !BroadcastSchedule.TryTime(range[0], out var from) || !BroadcastSchedule.TryTime(range[1], out var to) || from == to)
            {
                context.Reply(message, texts.Get(language, "Broadcasts.usage_quiet"));
                return;
            }

            (start, end) = (from, to);
        }

        if (!await BroadcastStore.SetQuietHoursAsync(context.Db, view.Id, start, end, context.CancellationToken))
        {
            context.Reply(message, texts.Format(language, "Broadcasts.not_draft", ("id", view.Id)));
            return;
        }

        await SendMenuAsync(context, message, language, view.Id);
    }

    private async Task PaidAsync(UpdateContext context, Message message, string language, BroadcastView view, string rest)
    {
        int? budget = null;
        if (!rest.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            if (!options.Value.AllowPaid)
            {
                context.Reply(message, texts.Get(language, "Broadcasts.paid_disabled"));
                return;
            }

            if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > options.Value.MaxPaidBudget)
            {
                context.Reply(message, texts.Format(language, "Broadcasts.usage_paid", ("max", options.Value.MaxPaidBudget)));
                return;
            }

            if ((await BroadcastDeliveries.VariantsAsync(context.Db, view.Id, context.CancellationToken)).Any(v => v.IsAlbum))
            {
                context.Reply(message, texts.Get(language, "Broadcasts.paid_album"));
                return;
            }

            budget = value;
        }

        if (!await BroadcastStore.SetPaidAsync(context.Db, view.Id, budget, context.CancellationToken))
        {
            context.Reply(message, texts.Format(language, "Broadcasts.not_draft", ("id", view.Id)));
            return;
        }

        await SendMenuAsync(context, message, language, view.Id);
    }

    private async Task JobAsync(UpdateContext context, Message message, string language, BroadcastView view, string job, string? text)
    {
        if (job == "edit")
        {
            if (string.IsNullOrWhiteSpace(text) || text.Length > 4096)
            {
                context.Reply(message, texts.Get(language, "Broadcasts.usage_edit"));
                return;
            }

            if ((await BroadcastDeliveries.VariantsAsync(context.Db, view.Id, context.CancellationToken)) is not { Count: > 0 } variants || variants.Any(v => !v.IsText))
            {
                context.Reply(message, texts.Get(language, "Broadcasts.edit_text_only"));
                return;
            }
        }

        context.Reply(message, await BroadcastDeliveries.StartJobAsync(context.Db, view.Id, job, text, context.CancellationToken)
            ? texts.Format(language, $"Broadcasts.{job}_started", ("id", view.Id))
            : texts.Format(language, "Broadcasts.job_refused", ("id", view.Id)));
    }

    private async Task TimeZoneAsync(UpdateContext context, Message message, User from, string language, string zone)
    {
        if (zone.Length is 0 or > 64)
        {
            context.Reply(message, texts.Format(language, "Broadcasts.timezone_is",
                ("zone", await BroadcastStore.TimeZoneOfAsync(context.Db, from.Id, context.CancellationToken))));
            return;
        }

        context.Reply(message, await BroadcastStore.SetTimeZoneAsync(context.Db, from.Id, zone, context.CancellationToken)
            ? texts.Format(language, "Broadcasts.timezone_set", ("zone", zone))
            : texts.Format(language, "Broadcasts.timezone_unknown", ("zone", zone)));
    }

    private static string[]? Toggle(string[]? languages, string language)
    {
        var set = (languages ?? []).ToList();
        if (!set.Remove(language))
        {
            set.Add(language);
        }

        return set.Count == 0 ? null : [.. set.Order(StringComparer.Ordinal)];
    }

    /// <summary>Reads "ID rest…" (the broadcast's number, with or without #).</summary>
    private static bool TryId(string argument, out long id, out string rest)
    {
        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        var first = (space < 0 ? argument : argument[..space]).TrimStart('#');
        rest = space < 0 ? "" : argument[(space + 1)..].Trim();
        return long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;
    }
}

/// <summary>The items of albums admins sent the bot in private (broadcast_album_items), kept a day.</summary>
public static class AlbumItems
{
    public static Task RecordAsync(Db db, long chatId, string mediaGroupId, int messageId, CancellationToken cancellationToken) =>
        db.ExecuteAsync(
            "INSERT INTO broadcast_album_items (chat_id, media_group_id, message_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            cancellationToken, Arg(chatId), Arg(mediaGroupId), Arg(messageId));

    /// <summary>The album's message ids in order (at most 10, as Telegram's albums), empty when none was recorded.</summary>
    public static async Task<int[]> OfAsync(Db db, long chatId, string mediaGroupId, CancellationToken cancellationToken) =>
        [.. await db.ListAsync(
            "SELECT message_id FROM broadcast_album_items WHERE chat_id = $1 AND media_group_id = $2 ORDER BY message_id LIMIT 10",
            reader => reader.GetInt32(0), cancellationToken, Arg(chatId), Arg(mediaGroupId))];
}
