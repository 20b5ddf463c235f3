using Bot.Outbox;
using Bot.Processing;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features;

public static class Replies
{
    /// <summary>
    /// Answers a message through the outbox, quoting it so that in a busy chat it is clear what the answer is to
    /// (and still sent if the user deleted the message meanwhile).
    /// </summary>
    public static Task<long> ReplyAsync(this UpdateContext context, Message message, string text, ReplyMarkup? markup = null) =>
        context.Outbox.EnqueueAsync(new SendMessageRequest
        {
            ChatId = message.Chat.Id,
            Text = text,
            ReplyParameters = new ReplyParameters { MessageId = message.MessageId, AllowSendingWithoutReply = true },
            ReplyMarkup = markup,
        }, message.Chat.Id, cancellationToken: context.CancellationToken);

    /// <summary>A message to a chat that is not an answer to anything (a private message to a join requester, a status).</summary>
    public static Task<long> SendAsync(this UpdateContext context, long chatId, string text, ReplyMarkup? markup = null) =>
        context.Outbox.EnqueueAsync(new SendMessageRequest { ChatId = chatId, Text = text, ReplyMarkup = markup }, chatId, cancellationToken: context.CancellationToken);

    /// <summary>Stops the button's spinner, optionally with a notice or an alert.</summary>
    public static Task<long> AnswerAsync(this UpdateContext context, CallbackQuery query, string? text = null, bool alert = false) =>
        context.Outbox.EnqueueAsync(new AnswerCallbackQueryRequest { CallbackQueryId = query.Id, Text = text, ShowAlert = alert },
            query.Message?.Chat.Id ?? query.From.Id, cancellationToken: context.CancellationToken);
}
