using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Bot.Admin;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Bot.Features.MiniApp;

/// <summary>
/// The admin Mini App: a few static pages embedded in the binary, served on the public port under /app/, and their
/// API under /app/api/, where every call carries Telegram's signed initData (<see cref="MiniAppAuthHandler"/>). Bot
/// admins see every chat and the broadcasts; a chat's admins see and change only their chats. What the app shows of a
/// feature is that feature's own (<see cref="IMiniAppRoutes"/>, <see cref="IMiniAppChats"/>); this feature serves the
/// page, checks who is calling, offers the app with /admin and puts it in the admins' menu button.
/// </summary>
public sealed class MiniAppFeature : IFeature
{
    public const string FeatureName = "MiniApp";

    public const string RateLimitPolicy = "miniapp";

    /// <summary>The largest body an API call may send (a broadcast's text is at most 4096 characters).</summary>
    public const int MaxBodyBytes = 32 * 1024;

    public string Name => FeatureName;

    public IReadOnlyList<CommandSpec> Commands { get; } = [new("admin", CommandAccess.Admins)];

    public void Register(FeatureBuilder feature)
    {
        feature
            .Options<MiniAppOptions, MiniAppOptionsAttributesValidator>(o => o.BindConfiguration(MiniAppOptions.Section))
            .Validator<MiniAppOptions, MiniAppOptionsValidator>()
            .Service<MiniAppSecret>()
            .Service<MiniAppAuthThrottle>()
            .Service<ChatAdminCache>()
            .Service<MiniAppAssets>()
            .Service<MiniAppChatList>()
            .Handler<MiniAppHandler>()
            .LeaderJob<MiniAppMenu>()
            .PublicRoutes<MiniAppRoutes>()
            .Json(MiniAppJson.Default);

        var services = feature.Services;
        new AuthenticationBuilder(services).AddScheme<AuthenticationSchemeOptions, MiniAppAuthHandler>(MiniAppAuth.Scheme, null);
        services.AddSingleton<IAuthorizationHandler, ChatAdminHandler>();
        // Each policy names its one scheme: the admin API's bearer token is nothing here, initData nothing there.
        services.AddAuthorizationBuilder()
            .AddPolicy(MiniAppAuth.UserPolicy, policy => policy.AddAuthenticationSchemes(MiniAppAuth.Scheme).RequireAuthenticatedUser()
                .RequireClaim(MiniAppAuth.UserIdClaim))
            .AddPolicy(MiniAppAuth.BotAdminPolicy, policy => policy.AddAuthenticationSchemes(MiniAppAuth.Scheme).RequireAuthenticatedUser()
                .RequireClaim(MiniAppAuth.BotAdminClaim, "true"))
            .AddPolicy(MiniAppAuth.ChatAdminPolicy, policy => policy.AddAuthenticationSchemes(MiniAppAuth.Scheme).RequireAuthenticatedUser()
                .AddRequirements(new ChatAdminRequirement()));
        // Per Telegram user (authorization runs first, so only a valid initData spends a user's budget).
        services.Configure<RateLimiterOptions>(limiter => limiter.AddPolicy(RateLimitPolicy, http =>
        {
            var perMinute = http.RequestServices.GetRequiredService<IOptionsMonitor<MiniAppOptions>>().CurrentValue.RequestsPerMinute;
            var user = http.User.FindFirstValue(MiniAppAuth.UserIdClaim) ?? AuthFailureThrottle.ClientKey(http.Connection.RemoteIpAddress);
            return RateLimitPartition.GetFixedWindowLimiter(user, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            });
        }));
    }
}

/// <summary>What a feature adds to the Mini App's API: routes about one chat (its admins'), and routes for the bot's admins.</summary>
public interface IMiniAppRoutes
{
    /// <param name="chat">/app/api/chats/{chatId}: the caller administers that chat (or is a bot admin).</param>
    /// <param name="botAdmin">/app/api: the caller is a bot admin.</param>
    void Map(RouteGroupBuilder chat, RouteGroupBuilder botAdmin);
}

/// <summary>A chat the app can show, with the name its admins know it by.</summary>
public sealed record MiniAppChat(long Id, string Title);

/// <summary>The chats a feature manages, which the app offers to the admins of each.</summary>
public interface IMiniAppChats
{
    Task<IReadOnlyList<MiniAppChat>> ChatsAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Every feature's chats (read again at most every <see cref="RefreshAfter"/>), and those a user may open. Only these
/// chats exist for the app: a route naming any other is refused before Telegram is asked anything, so a valid initData
/// cannot make the bot call getChatMember for chats it does not manage.
/// </summary>
public sealed class MiniAppChatList(IEnumerable<IMiniAppChats> sources, ChatAdminCache admins, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim reading = new(1, 1);
    private (List<MiniAppChat> Chats, long At)? known;

    public async Task<List<MiniAppChat>> AllAsync(CancellationToken cancellationToken)
    {
        if (known is { } cached && time.GetElapsedTime(cached.At) < RefreshAfter)
        {
            return cached.Chats;
        }

        await reading.WaitAsync(cancellationToken);
        try
        {
            if (known is { } fresh && time.GetElapsedTime(fresh.At) < RefreshAfter)
            {
                return fresh.Chats;
            }

            var chats = await ReadAsync(cancellationToken);
            known = (chats, time.GetTimestamp());
            return chats;
        }
        finally
        {
            reading.Release();
        }
    }

    public void Dispose() => reading.Dispose();

    public async Task<bool> IsKnownAsync(long chatId, CancellationToken cancellationToken) =>
        (await AllAsync(cancellationToken)).Any(c => c.Id == chatId);

    private async Task<List<MiniAppChat>> ReadAsync(CancellationToken cancellationToken)
    {
        var all = new Dictionary<long, MiniAppChat>();
        foreach (var source in sources)
        {
            foreach (var chat in await source.ChatsAsync(cancellationToken))
            {
                all.TryAdd(chat.Id, chat);
            }
        }

        return [.. all.Values.OrderBy(c => c.Title, StringComparer.CurrentCultureIgnoreCase)];
    }

    /// <summary>The chats <paramref name="user"/> may open: every one for a bot admin, else those they administer now.</summary>
    public Task<List<MiniAppChat>> ForAsync(ClaimsPrincipal user, CancellationToken cancellationToken) =>
        ForAsync(user.UserId(), user.IsBotAdmin(), cancellationToken);

    public async Task<List<MiniAppChat>> ForAsync(long userId, bool botAdmin, CancellationToken cancellationToken)
    {
        var all = await AllAsync(cancellationToken);
        if (botAdmin)
        {
            return all;
        }

        var administered = (await admins.AdministeredAsync([.. all.Select(c => c.Id)], userId, cancellationToken)).ToHashSet();
        return [.. all.Where(c => administered.Contains(c.Id))];
    }
}

/// <summary>The app's pages and API on the public port (the chart's ingress routes /app/ there).</summary>
public sealed class MiniAppRoutes(MiniAppAssets assets, IServiceProvider services) : IPublicRoutes
{
    public void Map(IEndpointRouteBuilder publicPort)
    {
        // The pages are public: they hold no data, and what they show comes from the API, which checks every call. One route
        // (routing matches /app and /app/ alike): /app is sent to /app/, where the page's relative addresses resolve.
        publicPort.MapMethods("/app/{file?}", ["GET", "HEAD"], (HttpContext http, string? file) =>
                file is null && !http.Request.Path.Value!.EndsWith('/') ? Results.Redirect(MiniAppAssets.Prefix, permanent: true) : assets.Serve(http, file ?? ""))
            .AllowAnonymous().ExcludeFromDescription();

        var api = publicPort.MapGroup("/app/api")
            .WithMetadata(new BodySizeLimit(MiniAppFeature.MaxBodyBytes))
            .RequireAuthorization(MiniAppAuth.UserPolicy)
            .RequireRateLimiting(MiniAppFeature.RateLimitPolicy)
            .AddEndpointFilter(async (context, next) =>
            {
                var response = context.HttpContext.Response;
                MiniAppAssets.Secure(response);
                response.Headers.CacheControl = "no-store";
                return await next(context);
            })
            .ExcludeFromDescription();
        api.MapGet("/me", MeAsync);
        var chat = api.MapGroup("/chats/{chatId:long}").RequireAuthorization(MiniAppAuth.ChatAdminPolicy);
        var botAdmin = api.MapGroup("").RequireAuthorization(MiniAppAuth.BotAdminPolicy);
        foreach (var routes in services.GetServices<IMiniAppRoutes>())
        {
            routes.Map(chat, botAdmin);
        }

        // Anything else under the API is a 404 in the API's shape, not the page.
        api.MapFallback(() => TypedResults.Problem("no such Mini App route", statusCode: StatusCodes.Status404NotFound, title: "Not found"));
    }

    /// <summary>Who the caller is and what they may open; 403 for a user who administers nothing the bot manages.</summary>
    private static async Task<Results<Ok<MeView>, ProblemHttpResult>> MeAsync(ClaimsPrincipal user, MiniAppChatList chats, CancellationToken cancellationToken)
    {
        var open = await chats.ForAsync(user, cancellationToken);
        if (!user.IsBotAdmin() && open.Count == 0)
        {
            return TypedResults.Problem("this panel is for the bot's admins and the admins of the chats it manages",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        return TypedResults.Ok(new MeView(
            new MeUser(user.UserId(), user.FindFirstValue(MiniAppAuth.NameClaim) ?? "", user.Language()), user.IsBotAdmin(), open));
    }
}

public sealed record MeUser(long Id, string FirstName, string Language);

/// <summary>GET /app/api/me.</summary>
public sealed record MeView(MeUser User, bool BotAdmin, List<MiniAppChat> Chats);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MeView))]
internal sealed partial class MiniAppJson : JsonSerializerContext;
