using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Bot.Features.DiscordSync;

/// <summary>
/// What one call to Discord came to: success, or the status and whether waiting helps; and the wait Discord asks for
/// before the next call (a 429's <c>retry_after</c>, or <c>X-RateLimit-Reset-After</c> when the bucket is spent), and
/// whether that wait is the global limit's.
/// </summary>
public sealed record DiscordCall(bool Ok, int Status, TimeSpan? Wait, bool Global, string? Error)
{
    public bool RateLimited => Status == 429;

    /// <summary>A server error, a timeout or no answer: worth retrying later. (4xx other than 429 is not.)</summary>
    public bool Transient => Status is 0 or >= 500;
}

/// <summary>
/// The small part of Discord's REST API that the role sync needs, over IHttpClientFactory (client "discord", no retry
/// of its own: the durable queue retries), JSON read with <see cref="JsonDocument"/>. The OAuth2 code and access token
/// pass through and are never kept or logged; the bot token goes only into the Authorization header.
/// </summary>
public sealed class DiscordApi(IHttpClientFactory factory, IOptions<DiscordOptions> options)
{
    public const string Client = "discord";

    private DiscordOptions Options => options.Value;

    /// <summary>The authorization-code exchange (POST /oauth2/token): the user's access token for the identify call.</summary>
    public async Task<(string? AccessToken, DiscordCall Call)> ExchangeCodeAsync(string code, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("oauth2/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = Options.RedirectUri!,
                ["client_id"] = Options.ClientId!,
                ["client_secret"] = Options.ClientSecret!,
            }),
        };
        var (call, body) = await SendAsync(request, cancellationToken);
        return (call.Ok && body?.RootElement.TryGetProperty("access_token", out var token) == true ? token.GetString() : null, call);
    }

    /// <summary>GET /users/@me with the user's access token: their Discord user id.</summary>
    public async Task<(ulong? UserId, DiscordCall Call)> CurrentUserAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("users/@me"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        var (call, body) = await SendAsync(request, cancellationToken);
        return (call.Ok && body?.RootElement.TryGetProperty("id", out var id) == true && ulong.TryParse(id.GetString(), CultureInfo.InvariantCulture, out var user) ? user : null, call);
    }

    /// <summary>PUT or DELETE /guilds/{guild}/members/{user}/roles/{role} with the bot's token (both are idempotent at Discord).</summary>
    public async Task<DiscordCall> SetRoleAsync(ulong user, bool add, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(add ? HttpMethod.Put : HttpMethod.Delete,
            Url($"guilds/{Options.Guild}/members/{user}/roles/{Options.Role}"));
        Bot(request);
        request.Headers.TryAddWithoutValidation("X-Audit-Log-Reason", add ? "Telegram main group member" : "Not a Telegram main group member");
        return (await SendAsync(request, cancellationToken)).Call;
    }

    /// <summary>A page of the guild's members (GET /guilds/{guild}/members, ids above <paramref name="after"/>), each with whether it holds the role.</summary>
    public async Task<(List<(ulong Id, bool HasRole)> Members, DiscordCall Call)> MembersAsync(ulong after, int limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            Url(string.Create(CultureInfo.InvariantCulture, $"guilds/{Options.Guild}/members?limit={limit}&after={after}")));
        Bot(request);
        var (call, body) = await SendAsync(request, cancellationToken);
        var members = new List<(ulong, bool)>();
        if (call.Ok && body?.RootElement is { ValueKind: JsonValueKind.Array } list)
        {
            var role = Options.Role.ToString(CultureInfo.InvariantCulture);
            foreach (var member in list.EnumerateArray())
            {
                if (member.TryGetProperty("user", out var user) && ulong.TryParse(user.GetProperty("id").GetString(), CultureInfo.InvariantCulture, out var id))
                {
                    var hasRole = member.TryGetProperty("roles", out var roles) && roles.EnumerateArray().Any(r => r.GetString() == role);
                    members.Add((id, hasRole));
                }
            }
        }

        return (members, call);
    }

    private Uri Url(string path) => new($"{Options.ApiBaseUrl.TrimEnd('/')}/{path}");

    private void Bot(HttpRequestMessage request) => request.Headers.Authorization = new AuthenticationHeaderValue("Bot", Options.BotToken);

    private async Task<(DiscordCall Call, JsonDocument? Body)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(Options.RequestTimeoutSeconds));
        HttpResponseMessage response;
        try
        {
            response = await factory.CreateClient(Client).SendAsync(request, timeout.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (new DiscordCall(false, 0, null, false, exception is OperationCanceledException ? "timed out" : "no answer: " + exception.Message), null);
        }

        using (response)
        {
            JsonDocument? body = null;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            try
            {
                body = text.Length > 0 ? JsonDocument.Parse(text) : null;
            }
            catch (JsonException)
            {
            }

            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var wait = body?.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("retry_after", out var after) && after.TryGetDouble(out var seconds)
                    ? TimeSpan.FromSeconds(seconds)
                    : Header(response, "Retry-After") ?? TimeSpan.FromSeconds(1);
                var global = (body?.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("global", out var g) && g.ValueKind == JsonValueKind.True)
                    || response.Headers.TryGetValues("X-RateLimit-Global", out _);
                return (new DiscordCall(false, status, wait, global, $"429 rate limited for {wait.TotalSeconds:0.###} s"), body);
            }

            // A spent bucket: the call went through, and the next one on it must wait until the bucket resets.
            var spent = response.Headers.TryGetValues("X-RateLimit-Remaining", out var remaining) && remaining.FirstOrDefault() == "0"
                ? Header(response, "X-RateLimit-Reset-After")
                : null;
            if (response.IsSuccessStatusCode)
            {
                return (new DiscordCall(true, status, spent, false, null), body);
            }

            var message = body?.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("message", out var m) ? m.GetString() : null;
            return (new DiscordCall(false, status, spent, false, $"{status} {message ?? response.ReasonPhrase}"), body);
        }
    }

    private static TimeSpan? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
