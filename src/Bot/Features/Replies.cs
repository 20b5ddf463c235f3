using Bot.Outbox;
using Bot.Processing;
using Telegram.Bot.Requests;
using Telegram.Bot.Types;
using Telegram.Bot.Types.ReplyMarkups;

namespace Bot.Features;

/// <summary>
/// What handlers say, through the outbox. These queue the call in the handler's transaction; the rows are
/// written with the update's completion, in one round trip (<see cref="OutboxWriter.Queue"/>).
/// </summary>
public static class Replies
{
    /// <summary>
    /// Answers a message, quoting it so that in a busy chat it is clear what the answer is to (and still sent if
    /// the user deleted the message meanwhile).
    /// </summary>
    public static void Reply(this UpdateContext context, Message message, string text, ReplyMarkup? markup = null) =>
        context.Outbox.Queue(ReplyRequest(message, text, markup), message.Chat.Id);

    /// <summary>As <see cref="Reply"/>, written at once; returns the outbox row's id (its result holds the sent message).</summary>
    public static Task<long> ReplyNowAsync(this UpdateContext context, Message message, string text, ReplyMarkup? markup = null) =>
        context.Outbox.EnqueueAsync(ReplyRequest(message, text, markup), message.Chat.Id, cancellationToken: context.CancellationToken);

    /// <summary>A message to a chat that is not an answer to anything (a private message to a join requester, a status).</summary>
    public static void Send(this UpdateContext context, long chatId, string text, ReplyMarkup? markup = null) =>
        context.Outbox.Queue(new SendMessageRequest { ChatId = chatId, Text = text, ReplyMarkup = markup }, chatId);

    /// <summary>Stops the button's spinner, optionally with a notice or an alert.</summary>
    public static void Answer(this UpdateContext context, CallbackQuery query, string? text = null, bool alert = false) =>
        context.Outbox.Queue(new AnswerCallbackQueryRequest { CallbackQueryId = query.Id, Text = text, ShowAlert = alert },
            query.Message?.Chat.Id ?? query.From.Id);

    private static SendMessageRequest ReplyRequest(Message message, string text, ReplyMarkup? markup) => new()
    {
        ChatId = message.Chat.Id,
        Text = text,
        ReplyParameters = new ReplyParameters { MessageId = message.MessageId, AllowSendingWithoutReply = true },
        // In a forum supergroup the answer stays in the message's topic, also when the message itself is gone.
        MessageThreadId = message.IsTopicMessage ? message.MessageThreadId : null,
        ReplyMarkup = markup,
    };
}
