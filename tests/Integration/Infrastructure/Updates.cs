using System.Net.Http.Headers;
using System.Text;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>Telegram-shaped webhook requests.</summary>
internal static class Updates
{
    public static string Message(long updateId, long chatId, string text = "hello", long? messageId = null) =>
        $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId ?? updateId}}},"date":1700000000,"chat":{"id":{{{chatId}}},"type":"private","first_name":"T"},"from":{"id":{{{chatId}}},"is_bot":false,"first_name":"T"},"text":"{{{text}}}"}}""";

    /// <summary>A private message from a user with a language, optionally replying to an earlier message of the same chat.</summary>
    public static string UserMessage(long updateId, long userId, string text, string languageCode = "en", int? replyTo = null, long? messageId = null)
    {
        var reply = replyTo is { } original
            ? $$$""","reply_to_message":{"message_id":{{{original}}},"date":1700000000,"chat":{"id":{{{userId}}},"type":"private","first_name":"T"},"text":"announcement"}"""
            : "";
        return $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId ?? updateId}}},"date":1700000000,"chat":{"id":{{{userId}}},"type":"private","first_name":"T"},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"text":"{{{text}}}"{{{reply}}}}}""";
    }

    /// <summary>A chat_join_request to <paramref name="chatId"/> (a supergroup) from a user, with the private chat Telegram opens for it.</summary>
    public static string JoinRequest(long updateId, long chatId, long userId, string languageCode = "en") =>
        $$$"""{"update_id":{{{updateId}}},"chat_join_request":{"chat":{"id":{{{chatId}}},"type":"supergroup","title":"Gated Club"},"from":{"id":{{{userId}}},"is_bot":false,"first_name":"T","language_code":"{{{languageCode}}}"},"user_chat_id":{{{userId}}},"date":1700000000}}""";

    /// <summary>A button press on message <paramref name="messageId"/> of the user's private chat.</summary>
    public static string Callback(long updateId, long userId, string data, int messageId) =>
        $$$$"""{"update_id":{{{{updateId}}}},"callback_query":{"id":"cb-{{{{updateId}}}}","from":{"id":{{{{userId}}}},"is_bot":false,"first_name":"T","language_code":"en"},"chat_instance":"ci-{{{{userId}}}}","data":"{{{{data}}}}","message":{"message_id":{{{{messageId}}}},"date":1700000000,"chat":{"id":{{{{userId}}}},"type":"private","first_name":"T"},"text":"check"}}}""";

    public static HttpRequestMessage Post(Uri uri, string body, string? secret = BotProcess.WebhookSecret, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (secret is not null)
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
        }

        return request;
    }
}
