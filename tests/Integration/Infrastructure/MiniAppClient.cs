using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bot.Features.MiniApp;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>The admin Mini App as Telegram opens it: initData signed with the test bot's token, sent on every call.</summary>
internal static class MiniAppClient
{
    public const long MainChat = -1001000000001;
    public const long Gated = -1001000000002;
    public const long OtherGated = -1001000000003;
    public const string AppUrl = "https://bot.example.test/app/";
    public const string AdminToken = "mini-app-admin-token-0123456789";

    public static readonly byte[] Key = InitData.SecretKey(BotProcess.BotToken);

    /// <summary>A bot group with two gated chats, <paramref name="botAdmin"/> as the bot's admin and the app's address set.</summary>
    public static Task<BotGroup> GroupAsync(PostgresCluster cluster, long botAdmin, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bot__MainChatId"] = MainChat.ToString(CultureInfo.InvariantCulture),
            ["Bot__GatedChatIds"] = $"{Gated},{OtherGated}",
            ["Admin__Token"] = AdminToken,
            ["Admin__UserIds"] = botAdmin.ToString(CultureInfo.InvariantCulture),
            ["MiniApp__Url"] = AppUrl,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return BotGroup.CreateAsync(cluster, settings);
    }

    /// <summary>initData for <paramref name="userId"/>, signed <paramref name="age"/> ago (now by default).</summary>
    public static string InitDataFor(long userId, string firstName = "Ann", string language = "en", TimeSpan? age = null) =>
        InitData.Sign(new Dictionary<string, string>
        {
            ["query_id"] = "AAH" + userId.ToString(CultureInfo.InvariantCulture),
            ["user"] = JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = userId, ["first_name"] = firstName, ["language_code"] = language }),
            ["auth_date"] = (DateTimeOffset.UtcNow - (age ?? TimeSpan.Zero)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        }, Key);

    /// <summary>A client of the bot's public port, as <paramref name="userId"/> (no Authorization header when null).</summary>
    public static HttpClient For(BotProcess bot, long? userId, string language = "en")
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{bot.PublicPort}/"), Timeout = TimeSpan.FromSeconds(60) };
        if (userId is { } user)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("tma", InitDataFor(user, language: language));
        }

        return http;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 || !text.TrimStart().StartsWith('{') ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient http, string path) => SendAsync(http, HttpMethod.Get, path);

    public static Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient http, string path, string? body = "{}") => SendAsync(http, HttpMethod.Post, path, body);
}
