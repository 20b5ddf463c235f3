using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace FakeTelegram.Tests.Infrastructure;

/// <summary>Raw Bot API calls, to check the fake's wire format without a library in between.</summary>
internal sealed class BotApiClient(FakeTelegramServer fake, string token = BotApiClient.DefaultToken) : IDisposable
{
    public const string DefaultToken = "123456789:TEST-token_for-fake-telegram-tests";

    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Task<ApiAnswer> CallAsync(string method, JsonObject? parameters = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, method, parameters?.ToJsonString() ?? "{}", "application/json", cancellationToken);

    public Task<ApiAnswer> CallFormAsync(string method, IEnumerable<KeyValuePair<string, string>> fields) =>
        SendAsync(HttpMethod.Post, method, null, null, default, new FormUrlEncodedContent(fields));

    public Task<ApiAnswer> GetAsync(string methodAndQuery) => SendAsync(HttpMethod.Get, methodAndQuery, null, null, default);

    public Task<ApiAnswer> SendMessageAsync(long chatId, string text = "hello", CancellationToken cancellationToken = default) =>
        CallAsync("sendMessage", new JsonObject { ["chat_id"] = chatId, ["text"] = text }, cancellationToken);

    public void Dispose() => http.Dispose();

    private async Task<ApiAnswer> SendAsync(
        HttpMethod verb, string method, string? body, string? contentType, CancellationToken cancellationToken, HttpContent? content = null)
    {
        // Absolute: "bot123:secret/..." alone would parse as a URI with the scheme "bot123".
        using var request = new HttpRequestMessage(verb, new Uri($"{fake.BaseUrl}/bot{token}/{method}"));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType!);
        }
        else if (content is not null)
        {
            request.Content = content;
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var json = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonNode.Parse(text)!.AsObject() : null;
        return new ApiAnswer((int)response.StatusCode, json, text);
    }
}

/// <summary>An answer: the HTTP status and Telegram's envelope (null when the body is not JSON).</summary>
internal sealed record ApiAnswer(int Status, JsonObject? Body, string Text)
{
    public bool Ok => Body?["ok"]?.GetValue<bool>() == true;

    public JsonNode? Result => Body?["result"];

    public string? Description => Body?["description"]?.GetValue<string>();

    public int? ErrorCode => Body?["error_code"]?.GetValue<int>();

    public int? RetryAfter => Body?["parameters"]?["retry_after"]?.GetValue<int>();

    public int MessageId => Result!["message_id"]!.GetValue<int>();

    public override string ToString() => $"{Status} {Text}";
}
