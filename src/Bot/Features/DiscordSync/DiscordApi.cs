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
        return await SendAsync(request, body => body.TryGetProperty("access_token", out var token) ? token.GetString() : null, cancellationToken);
    }

    /// <summary>GET /users/@me with the user's access token: their Discord user id.</summary>
    public async Task<(ulong? UserId, DiscordCall Call)> CurrentUserAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("users/@me"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return await SendAsync(request,
            body => body.TryGetProperty("id", out var id) && ulong.TryParse(id.GetString(), CultureInfo.InvariantCulture, out var user) ? user : (ulong?)null,
            cancellationToken);
    }

    /// <summary>PUT or DELETE /guilds/{guild}/members/{user}/roles/{role} with the bot's token (both are idempotent at Discord).</summary>
    public async Task<DiscordCall> SetRoleAsync(ulong user, bool add, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(add ? HttpMethod.Put : HttpMethod.Delete,
            Url($"guilds/{Options.Guild}/members/{user}/roles/{Options.Role}"));
        Bot(request);
        request.Headers.TryAddWithoutValidation("X-Audit-Log-Reason", add ? "Telegram main group member" : "Not a Telegram main group member");
        return (await SendAsync(request, _ => 0, cancellationToken)).Call;
    }

    /// <summary>A page of the guild's members (GET /guilds/{guild}/members, ids above <paramref name="after"/>), each with whether it holds the role.</summary>
    public async Task<(List<(ulong Id, bool HasRole)> Members, DiscordCall Call)> MembersAsync(ulong after, int limit, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            Url(string.Create(CultureInfo.InvariantCulture, $"guilds/{Options.Guild}/members?limit={limit}&after={after}")));
        Bot(request);
        var role = Options.Role.ToString(CultureInfo.InvariantCulture);
        var (members, call) = await SendAsync(request, body =>
        {
            var page = new List<(ulong, bool)>();
            if (body.ValueKind == JsonValueKind.Array)
            {
                foreach (var member in body.EnumerateArray())
                {
                    if (member.TryGetProperty("user", out var user) && ulong.TryParse(user.GetProperty("id").GetString(), CultureInfo.InvariantCulture, out var id))
                    {
                        page.Add((id, member.TryGetProperty("roles", out var roles) && roles.EnumerateArray().Any(r => r.GetString() == role)));
                    }
                }
            }

            return page;
        }, cancellationToken);
        return (members ?? [], call);
    }

    private Uri Url(string path) => new($"{Options.ApiBaseUrl.TrimEnd('/')}/{path}");

    private void Bot(HttpRequestMessage request) => request.Headers.Authorization = new AuthenticationHeaderValue("Bot", Options.BotToken);

    /// <summary>
    /// Sends <paramref name="request"/>; on success, <paramref name="read"/> takes what it needs from the JSON body (the
    /// document is released before this returns), else the result is <c>default</c>.
    /// </summary>
    private async Task<(T? Result, DiscordCall Call)> SendAsync<T>(HttpRequestMessage request, Func<JsonElement, T> read, CancellationToken cancellationToken)
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
            return (default, new DiscordCall(false, 0, null, false, exception is OperationCanceledException ? "timed out" : "no answer: " + exception.Message));
        }

        using (response)
        {
            JsonDocument? document = null;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            try
            {
                document = text.Length > 0 ? JsonDocument.Parse(text) : null;
            }
            catch (JsonException)
            {
            }

            using var body = document;
            JsonElement? Field(string name) =>
                body?.RootElement is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty(name, out var value) ? value : null;

            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var wait = Field("retry_after") is { } after && after.TryGetDouble(out var seconds)
                    ? TimeSpan.FromSeconds(seconds)
                    : Header(response, "Retry-After") ?? TimeSpan.FromSeconds(1);
                var global = Field("global")?.ValueKind == JsonValueKind.True || response.Headers.TryGetValues("X-RateLimit-Global", out _);
                return (default, new DiscordCall(false, status, wait, global, $"429 rate limited for {wait.TotalSeconds:0.###} s"));
            }

            // A spent bucket: the call went through, and the next one on it must wait until the bucket resets.
            var spent = response.Headers.TryGetValues("X-RateLimit-Remaining", out var remaining) && remaining.FirstOrDefault() == "0"
                ? Header(response, "X-RateLimit-Reset-After")
                : null;
            if (response.IsSuccessStatusCode)
            {
                return (body is null ? default : read(body.RootElement), new DiscordCall(true, status, spent, false, null));
            }

            var message = Field("message") is { ValueKind: JsonValueKind.String } m ? m.GetString() : null;
            return (default, new DiscordCall(false, status, spent, false, $"{status} {message ?? response.ReasonPhrase}"));
        }
    }

    private static TimeSpan? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
