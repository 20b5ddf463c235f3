using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Bot.Admin;
using Bot.Telegram;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Bot.Features.MiniApp;

/// <summary>The Mini App API's authentication scheme, claims and policies.</summary>
public static class MiniAppAuth
{
    public const string Scheme = "TelegramInitData";

    /// <summary>The header's scheme word: <c>Authorization: tma &lt;initData&gt;</c>.</summary>
    public const string HeaderScheme = "tma";

    public const string UserIdClaim = "bot.miniapp.user";
    public const string LanguageClaim = "bot.miniapp.language";
    public const string NameClaim = "bot.miniapp.name";
    public const string BotAdminClaim = "bot.miniapp.botadmin";

    /// <summary>Any Telegram user with a valid initData (the routes then check what they may see).</summary>
    public const string UserPolicy = "MiniAppUser";

    /// <summary>A bot admin (Admin__UserIds): broadcasts.</summary>
    public const string BotAdminPolicy = "MiniAppBotAdmin";

    /// <summary>An admin of the chat the route names ({chatId}), or a bot admin.</summary>
    public const string ChatAdminPolicy = "MiniAppChatAdmin";

    public static long UserId(this ClaimsPrincipal user) => long.Parse(user.FindFirstValue(UserIdClaim)!, CultureInfo.InvariantCulture);

    public static string Language(this ClaimsPrincipal user) => user.FindFirstValue(LanguageClaim) ?? Texts.English;

    public static bool IsBotAdmin(this ClaimsPrincipal user) => user.HasClaim(BotAdminClaim, "true");
}

/// <summary>Failed Mini App authentications per client address: MiniApp:FailedAuthenticationsPerMinute.</summary>
public sealed class MiniAppAuthThrottle(IOptions<MiniAppOptions> options) : AuthFailureThrottle(options.Value.FailedAuthenticationsPerMinute);

/// <summary>
/// <c>Authorization: tma &lt;initData&gt;</c>, validated (<see cref="InitData"/>) with the bot's token on every call.
/// It authenticates the Telegram user it names, and says whether they are a bot admin. The admin API's bearer tokens
/// mean nothing here, and this header means nothing to the admin API: each policy names its one scheme. Failures
/// count against the caller's address, which is refused 429 once it has spent them.
/// </summary>
public sealed partial class MiniAppAuthHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, MiniAppSecret secret,
    IOptionsMonitor<MiniAppOptions> miniApp, IOptionsMonitor<AdminOptions> admin, MiniAppAuthThrottle throttle, TimeProvider time)
    : ThrottledAuthenticationHandler(options, loggerFactory, encoder, throttle)
{
    protected override string HeaderScheme => MiniAppAuth.HeaderScheme;

    protected override string ChallengeDetail => "open the app from the bot in Telegram: a valid, recent Telegram initData (Authorization: tma …) is required";

    protected override string ForbiddenDetail => "this is for the bot's admins and the admins of this chat";

    protected override (AuthenticateResult Result, bool Failed) Check()
    {
        if (Presented() is not { } initData)
        {
            return (AuthenticateResult.NoResult(), true);
        }

        var (user, problem) = InitData.Validate(initData, secret.Key, miniApp.CurrentValue.InitDataMaxAge, time.GetUtcNow());
        if (user is null)
        {
            LogRefused(Logger, problem);
            return (AuthenticateResult.Fail("invalid initData: " + problem), true);
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(MiniAppAuth.UserIdClaim, user.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(MiniAppAuth.NameClaim, user.FirstName),
            new Claim(MiniAppAuth.LanguageClaim, Texts.Resolve(null, user.LanguageCode)),
            new Claim(MiniAppAuth.BotAdminClaim, admin.CurrentValue.IsAdmin(user.Id) ? "true" : "false"),
        ], MiniAppAuth.Scheme);
        return (AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), MiniAppAuth.Scheme)), false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Mini App request refused: initData {Problem}")]
    private static partial void LogRefused(ILogger logger, InitDataProblem problem);
}

/// <summary>The key initData is signed with, derived once from the bot's token.</summary>
public sealed class MiniAppSecret(IOptions<TelegramOptions> telegram)
{
    public byte[] Key { get; } = InitData.SecretKey(telegram.Value.BotToken ?? "");
}

/// <summary>The chat a route names ({chatId}) must be one the caller administers (or the caller a bot admin).</summary>
public sealed class ChatAdminRequirement : IAuthorizationRequirement;

/// <summary>
/// Decides <see cref="ChatAdminRequirement"/> from the route's chatId, which must be one the app offers
/// (<see cref="MiniAppChatList"/>), and Telegram (getChatMember, remembered for at
/// most MiniApp:ChatAdminCacheSeconds by <see cref="ChatAdminCache"/>). An absent or unreadable chatId fails.
/// </summary>
public sealed class ChatAdminHandler(ChatAdminCache admins, MiniAppChatList chats) : AuthorizationHandler<ChatAdminRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ChatAdminRequirement requirement)
    {
        if (context.Resource is not HttpContext http || context.User.FindFirst(MiniAppAuth.UserIdClaim) is null
            || http.GetRouteValue("chatId") is not string text
            || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId)
            // A chat the bot does not manage is nobody's here, a bot admin's neither; Telegram is not asked about it.
            || !await chats.IsKnownAsync(chatId, http.RequestAborted))
        {
            return;
        }

        if (context.User.IsBotAdmin() || await admins.IsAdminAsync(chatId, context.User.UserId(), http.RequestAborted))
        {
            context.Succeed(requirement);
        }
    }
}
