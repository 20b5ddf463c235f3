using System.Globalization;
using Bot.Outbox;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features.JoinGate;

/// <summary>
/// The log chat of a gated chat: one line per approval, decline, removal and settings change, in the same
/// transaction as what it reports. A decline carries <b>Approve anyway</b> ("gl:approve:ID"), which only the gated
/// chat's admins may press (<see cref="GateAdminHandler"/>). Worded in English, the log chat's readers being admins of
/// any language; queued as bulk, so a raid's log lines never hold back interactive replies.
/// </summary>
public static class GateLog
{
    public const string CallbackPrefix = "gl:";

    public static Task DecisionAsync(OutboxWriter outbox, Texts texts, ChatGate gate, Decision decision, string chatTitle, CancellationToken cancellationToken)
    {
        if (gate.LogChatId is not { } logChat)
        {
            return Task.CompletedTask;
        }

        var key = (decision.Approved, decision.Entry) switch
        {
            (true, _) => "JoinGate.log_approved",
            (false, JoinEntry.Direct) => "JoinGate.log_removed",
            _ => "JoinGate.log_declined",
        };
        var text = texts.Format(Texts.English, key,
            ("user", Mention(decision.UserId)), ("chat", Html(chatTitle)), ("reason", decision.Reason), ("id", decision.Id));
        var buttons = decision.Approved
            ? null
            : new InlineKeyboardMarkup(InlineKeyboardButton.WithCallbackData(
                texts.Get(Texts.English, "JoinGate.log_approve_anyway"), CallbackPrefix + "approve:" + decision.Id.ToString(CultureInfo.InvariantCulture)));
        return SendAsync(outbox, logChat, text, buttons, cancellationToken);
    }

    /// <summary>The chat entered raid mode: the admins are told, with Approve all held / Decline all held.</summary>
    public static Task RaidStartedAsync(OutboxWriter outbox, Texts texts, ChatGate gate, string chatTitle, int joins, int minutes, CancellationToken cancellationToken)
    {
        if (gate.LogChatId is not { } logChat)
        {
            return Task.CompletedTask;
        }

        var chat = gate.ChatId.ToString(CultureInfo.InvariantCulture);
        var buttons = new InlineKeyboardMarkup(
            InlineKeyboardButton.WithCallbackData(texts.Get(Texts.English, "JoinGate.log_raid_approve_all"), CallbackPrefix + "raid-approve:" + chat),
            InlineKeyboardButton.WithCallbackData(texts.Get(Texts.English, "JoinGate.log_raid_decline_all"), CallbackPrefix + "raid-decline:" + chat));
        var text = texts.Format(Texts.English, "JoinGate.log_raid_started", ("chat", Html(chatTitle)), ("joins", joins), ("minutes", minutes));
        return SendAsync(outbox, logChat, text, buttons, cancellationToken);
    }

    /// <summary>An admin changed a setting of the chat's gate (from /settings or the Mini App).</summary>
    public static Task SettingAsync(
        OutboxWriter outbox, Texts texts, ChatGate gate, long adminId, string? adminName, string setting, string value, CancellationToken cancellationToken) =>
        LineAsync(outbox, gate, texts.Format(Texts.English, "JoinGate.log_setting",
            ("admin", Mention(adminId, adminName)), ("chat", gate.ChatId), ("setting", setting), ("value", Html(value))), cancellationToken);

    public static Task LineAsync(OutboxWriter outbox, ChatGate gate, string text, CancellationToken cancellationToken) =>
        gate.LogChatId is { } logChat ? SendAsync(outbox, logChat, text, null, cancellationToken) : Task.CompletedTask;

    /// <summary>A link to the user that works without a username (tg://user?id=...).</summary>
    public static string Mention(long userId, string? name = null) =>
        $"<a href=\"tg://user?id={userId.ToString(CultureInfo.InvariantCulture)}\">{Html(name ?? userId.ToString(CultureInfo.InvariantCulture))}</a>";

    /// <summary>How a chat is named in the gate's texts: its title, else its username, else its id.</summary>
    public static string Title(Chat chat) => chat.Title ?? chat.Username ?? chat.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Text made safe for Telegram's HTML parse mode.</summary>
    public static string Html(string? text) =>
        (text ?? "").Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static Task<long> SendAsync(OutboxWriter outbox, long chatId, string text, ReplyMarkup? buttons, CancellationToken cancellationToken) =>
        outbox.EnqueueAsync(
            new SendMessageRequest { ChatId = chatId, Text = text, ParseMode = ParseMode.Html, ReplyMarkup = buttons, LinkPreviewOptions = new LinkPreviewOptions { IsDisabled = true } },
            chatId, OutboxPriority.Bulk, cancellationToken);
}
