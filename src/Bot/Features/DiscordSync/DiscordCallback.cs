using System.Net;
using Bot.Features.JoinGate;
using Bot.Features.Subscriptions;
using Bot.Outbox;
using Bot.Storage;
using Bot.Telegram;
using Microsoft.Extensions.Options;
using Npgsql;
using Telegram.Bot;
using Telegram.Bot.Requests;

namespace Bot.Features.DiscordSync;

/// <summary>
/// GET /discord/callback on the public port, where Discord sends the user back after /link. The state must be one the
/// bot issued, unused and unexpired: its row is locked for the exchange, so a concurrent replay finds nothing, and
/// deleted with the link, so a later one finds nothing either. The code is exchanged for an access token, which is
/// used once (GET /users/@me) and dropped. The link, the role job (when the user is in the main group) and the
/// user's confirmation commit together. A failed exchange changes nothing and leaves the state usable until it
/// expires. Pages are static text: no script, no third-party origin, not cached, no referrer (the URL holds the code).
/// </summary>
public sealed partial class DiscordCallback(
    NpgsqlDataSource dataSource, DiscordApi api, FeatureFlags flags, Texts texts, TelegramClients telegram, OutboxNudge nudge,
    IOptionsMonitor<JoinGateOptions> gate, ILogger<DiscordCallback> logger) : IPublicRoutes
{
    public const string Path = "/discord/callback";

    public void Map(IEndpointRouteBuilder publicPort) =>
        publicPort.MapGet(Path, HandleAsync).WithName("DiscordCallback").AllowAnonymous().ExcludeFromDescription();

    public async Task<IResult> HandleAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (!flags.Get(DiscordSyncFeature.FeatureName).Enabled)
        {
            return Results.NotFound();
        }

        var query = http.Request.Query;
        var language = Texts.Resolve(null, http.Request.Headers.AcceptLanguage.ToString().Split(',')[0].Trim());
        if (query["state"] is not [{ Length: 43 } state] || !IsBase64Url(state) || query["code"] is not [{ Length: > 0 and <= 512 } code])
        {
            LogRefused(logger, "no valid state and code");
            return Page(http, HttpStatusCode.BadRequest, texts.Get(language, "DiscordSync.page_refused"));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var db = Db.In(connection, transaction);
        if (await DiscordStore.LockStateAsync(db, state, cancellationToken) is not { } userId)
        {
            LogRefused(logger, "an unknown, used or expired state");
            return Page(http, HttpStatusCode.BadRequest, texts.Get(language, "DiscordSync.page_refused"));
        }

        language = Texts.Resolve(await db.ScalarAsync<string>(UserDirectory.ChosenLanguageOf("$1"), cancellationToken, Sql.Arg(userId)), language);
        var (token, exchange) = await api.ExchangeCodeAsync(code, cancellationToken);
        var (discordUser, identify) = token is null ? (null, exchange) : await api.CurrentUserAsync(token, cancellationToken);
        if (discordUser is not { } account)
        {
            LogExchangeFailed(logger, userId, identify.Error ?? "no user id");
            // A code Discord refused will not work again; anything else may, with the same link.
            return Page(http, identify.Transient || identify.RateLimited ? HttpStatusCode.BadGateway : HttpStatusCode.BadRequest,
                texts.Get(language, identify.Transient || identify.RateLimited ? "DiscordSync.page_failed" : "DiscordSync.page_refused"));
        }

        var discordId = checked((long)account);
        if (await DiscordStore.LinkAsync(db, userId, discordId, cancellationToken) is { } previous)
        {
            await DiscordStore.EnqueueAsync(db, previous, add: false, cancellationToken);
        }

        // The role follows the main group: a member gets it now; anyone else when they join (chat_member) or at the
        // next reconcile, which also repairs a check that failed here.
        if (gate.CurrentValue.MainChat is { } main && await MainGroup.ContainsAsync(telegram.Reader, main, userId, logger, cancellationToken) is true)
        {
            await DiscordStore.EnqueueAsync(db, discordId, add: true, cancellationToken);
        }

        await DiscordStore.ConsumeStateAsync(db, state, cancellationToken);
        var outbox = new OutboxWriter(connection, transaction, null);
        await outbox.EnqueueAsync(new SendMessageRequest { ChatId = userId, Text = texts.Get(language, "DiscordSync.linked") }, userId, cancellationToken: cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        LogLinked(logger, userId);
        return Page(http, HttpStatusCode.OK, texts.Get(language, "DiscordSync.page_linked"));
    }

    private static bool IsBase64Url(string value) => value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static IResult Page(HttpContext http, HttpStatusCode status, string text)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        var body = $"<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Discord</title>"
            + "<style>body{font:16px system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}</style></head>"
            + $"<body><p>{WebUtility.HtmlEncode(text)}</p></body></html>";
        return Results.Content(body, "text/html; charset=utf-8", statusCode: (int)status);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Discord account linked for user {UserId}")]
    private static partial void LogLinked(ILogger logger, long userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord callback refused: {Reason}; nothing stored")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discord did not confirm the account of user {UserId} ({Error}); nothing stored, the link stays usable")]
    private static partial void LogExchangeFailed(ILogger logger, long userId, string error);

}

/// <summary>Main group membership by getChatMember, as the callback and the reconcile read it.</summary>
public static partial class MainGroup
{
    /// <summary>
    /// Whether <paramref name="userId"/> is in <paramref name="mainChat"/>: Telegram's 400 (no such member) is no; null
    /// when Telegram cannot tell now (an error, a timeout), and the caller leaves the role as it is.
    /// </summary>
    public static async Task<bool?> ContainsAsync(ITelegramBotClient reader, long mainChat, long userId, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return Membership.IsInChat(await reader.GetChatMember(mainChat, userId, cancellationToken));
        }
        catch (global::Telegram.Bot.Exceptions.ApiRequestException exception) when (exception.ErrorCode == 400)
        {
            return false;
        }
        catch (Exception exception) when (exception is global::Telegram.Bot.Exceptions.ApiRequestException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogMembershipUnknown(logger, userId, exception.GetType().Name);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot tell whether user {UserId} is in the main group ({Error}); their Discord role stays as it is until the next reconcile")]
    private static partial void LogMembershipUnknown(ILogger logger, long userId, string error);
}
