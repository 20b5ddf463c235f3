using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Bot.Tests.Integration.Infrastructure;

/// <summary>
/// A stand-in for the part of Discord's API the role sync uses, under /api: the OAuth2 token exchange (codes it was
/// told of), /users/@me for the access tokens it issued, a guild's members with their roles (list, add and remove a
/// role, with the bot token checked), and faults: 429s with <c>retry_after</c> and the rate-limit headers, and a
/// page of the member list that takes its time.
/// </summary>
public sealed class FakeDiscord : LoopbackServer
{
    public const string ClientId = "111111111111111111";
    public const string ClientSecret = "discord-client-secret-0123456789";
    public const string BotToken = "discord-bot-token-0123456789abcdef";
    public const string GuildId = "222222222222222222";
    public const string RoleId = "333333333333333333";

    private readonly ConcurrentDictionary<string, ulong> codes = new();
    private readonly ConcurrentDictionary<string, ulong> tokens = new();
    private readonly object gate = new();

    public string ApiBaseUrl => $"http://127.0.0.1:{Port}/api";

    /// <summary>The guild's members and whether each holds the synced role.</summary>
    public Dictionary<ulong, bool> Members { get; } = [];

    /// <summary>Role calls as received: (method, user, time), 429s included.</summary>
    public ConcurrentQueue<(string Method, ulong User, DateTime At, int Status)> RoleCalls { get; } = new();

    /// <summary>Requests of the member list, with their after= value.</summary>
    public ConcurrentQueue<ulong> MemberPages { get; } = new();

    /// <summary>So many role calls are answered 429 (retry_after <see cref="RetryAfter"/>) before they go through.</summary>
    public int RateLimitNext { get; set; }

    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>A member list page after this id waits <see cref="SlowPageDelay"/> before it answers.</summary>
    public ulong? SlowPageAfter { get; set; }

    public TimeSpan SlowPageDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The settings that point the bot at this fake, with the flag on.</summary>
    public Dictionary<string, string?> Settings(string publicBaseUrl) => new()
    {
        ["FeatureFlags__DiscordSync"] = "true",
        ["Discord__ClientId"] = ClientId,
        ["Discord__ClientSecret"] = ClientSecret,
        ["Discord__BotToken"] = BotToken,
        ["Discord__GuildId"] = GuildId,
        ["Discord__RoleId"] = RoleId,
        ["Discord__RedirectUri"] = publicBaseUrl + "/discord/callback",
        ["Discord__ApiBaseUrl"] = ApiBaseUrl,
        ["Discord__AuthorizeUrl"] = $"http://127.0.0.1:{Port}/oauth2/authorize",
    };

    /// <summary>What Discord's authorization page would send the browser back with, for <paramref name="discordUser"/>.</summary>
    public string IssueCode(ulong discordUser)
    {
        var code = "code-" + Guid.NewGuid().ToString("N");
        codes[code] = discordUser;
        return code;
    }

    public bool HasRole(ulong user)
    {
        lock (gate)
        {
            return Members.TryGetValue(user, out var has) && has;
        }
    }

    public void SetMember(ulong user, bool hasRole)
    {
        lock (gate)
        {
            Members[user] = hasRole;
        }
    }

    protected override async Task ServeAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var path = request.Url!.AbsolutePath;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            switch (request.HttpMethod, segments)
            {
                case ("POST", ["api", "oauth2", "token"]):
                    {
                        var form = System.Web.HttpUtility.ParseQueryString(await new StreamReader(request.InputStream).ReadToEndAsync());
                        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret || form["grant_type"] != "authorization_code")
                        {
                            await JsonAsync(context, 401, """{"error":"invalid_client"}""");
                        }
                        else if (form["code"] is { } code && codes.TryRemove(code, out var user))
                        {
                            var token = "access-" + Guid.NewGuid().ToString("N");
                            tokens[token] = user;
                            await JsonAsync(context, 200, $$"""{"access_token":"{{token}}","token_type":"Bearer","expires_in":604800,"scope":"identify"}""");
                        }
                        else
                        {
                            await JsonAsync(context, 400, """{"error":"invalid_grant"}""");
                        }

                        return;
                    }

                case ("GET", ["api", "users", "@me"]):
                    {
                        var bearer = request.Headers["Authorization"] ?? "";
                        if (bearer.StartsWith("Bearer ", StringComparison.Ordinal) && tokens.TryGetValue(bearer[7..], out var user))
                        {
                            await JsonAsync(context, 200, $$"""{"id":"{{user}}","username":"u{{user}}"}""");
                        }
                        else
                        {
                            await JsonAsync(context, 401, """{"message":"401: Unauthorized","code":0}""");
                        }

                        return;
                    }

                case (_, ["api", "guilds", GuildId, "members"]) when request.HttpMethod == "GET":
                    {
                        if (!BotAuthorized(request))
                        {
                            await JsonAsync(context, 401, """{"message":"401: Unauthorized","code":0}""");
                            return;
                        }

                        var after = ulong.Parse(request.QueryString["after"] ?? "0", CultureInfo.InvariantCulture);
                        var limit = int.Parse(request.QueryString["limit"] ?? "1", CultureInfo.InvariantCulture);
                        MemberPages.Enqueue(after);
                        if (SlowPageAfter is { } slow && after == slow)
                        {
                            await Task.Delay(SlowPageDelay);
                        }

                        string body;
                        lock (gate)
                        {
                            body = "[" + string.Join(",", Members.Where(m => m.Key > after).OrderBy(m => m.Key).Take(limit)
                                .Select(m => $$"""{"user":{"id":"{{m.Key}}"},"roles":[{{(m.Value ? $"\"{RoleId}\"" : "")}}]}""")) + "]";
                        }

                        await JsonAsync(context, 200, body);
                        return;
                    }

                case ("PUT" or "DELETE", ["api", "guilds", GuildId, "members", var member, "roles", RoleId]):
                    {
                        var user = ulong.Parse(member, CultureInfo.InvariantCulture);
                        if (!BotAuthorized(request))
                        {
                            RoleCalls.Enqueue((request.HttpMethod, user, DateTime.UtcNow, 401));
                            await JsonAsync(context, 401, """{"message":"401: Unauthorized","code":0}""");
                            return;
                        }

                        if (RateLimitNext > 0)
                        {
                            RateLimitNext--;
                            RoleCalls.Enqueue((request.HttpMethod, user, DateTime.UtcNow, 429));
                            context.Response.Headers["X-RateLimit-Limit"] = "10";
                            context.Response.Headers["X-RateLimit-Remaining"] = "0";
                            context.Response.Headers["X-RateLimit-Reset-After"] = RetryAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture);
                            context.Response.Headers["Retry-After"] = Math.Ceiling(RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                            await JsonAsync(context, 429, $$"""{"message":"You are being rate limited.","retry_after":{{RetryAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)}},"global":false}""");
                            return;
                        }

                        bool known;
                        lock (gate)
                        {
                            known = Members.ContainsKey(user);
                            if (known)
                            {
                                Members[user] = request.HttpMethod == "PUT";
                            }
                        }

                        RoleCalls.Enqueue((request.HttpMethod, user, DateTime.UtcNow, known ? 204 : 404));
                        if (known)
                        {
                            context.Response.StatusCode = 204;
                            context.Response.Close();
                        }
                        else
                        {
                            await JsonAsync(context, 404, """{"message":"Unknown Member","code":10007}""");
                        }

                        return;
                    }

                default:
                    await JsonAsync(context, 404, """{"message":"404: Not Found","code":0}""");
                    return;
            }
        }
        catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
        {
        }
    }

    private static bool BotAuthorized(HttpListenerRequest request) => request.Headers["Authorization"] == "Bot " + BotToken;

    private static async Task JsonAsync(HttpListenerContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(json);
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }
}
