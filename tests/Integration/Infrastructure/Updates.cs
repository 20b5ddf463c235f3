using System.Net.Http.Headers;
using System.Text;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>Telegram-shaped webhook requests.</summary>
internal static class Updates
{
    public static string Message(long updateId, long chatId, string text = "hello", long? messageId = null) =>
        $$$"""{"update_id":{{{updateId}}},"message":{"message_id":{{{messageId ?? updateId}}},"date":1700000000,"chat":{"id":{{{chatId}}},"type":"private","first_name":"T"},"from":{"id":{{{chatId}}},"is_bot":false,"first_name":"T"},"text":"{{{text}}}"}}""";

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
