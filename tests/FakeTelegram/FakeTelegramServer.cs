using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FakeTelegram;

/// <summary>
/// A fake Telegram Bot API on loopback. Point the bot's <c>Telegram__ApiBaseUrl</c> at <see cref="BaseUrl"/>;
/// steer and inspect it through these methods or the <c>/_fake/</c> control API (see README.md).
/// </summary>
public sealed class FakeTelegramServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeTelegramServer(WebApplication app, FakeTelegramState state)
    {
        this.app = app;
        State = state;
    }

    /// <summary>What the bot's <c>Telegram__ApiBaseUrl</c> is set to, e.g. <c>http://127.0.0.1:43127</c>.</summary>
    public string BaseUrl => BaseUri.GetLeftPart(UriPartial.Authority);

    public Uri BaseUri { get; private set; } = null!;

    public int Port => BaseUri.Port;

    /// <summary>Rate limits in force; <see cref="SetRateLimits"/> changes them.</summary>
    public RateLimits RateLimits => State.RateLimits;

    public WebhookState Webhook => State.Webhook();

    /// <summary>Updates queued for getUpdates and not yet confirmed by an offset.</summary>
    public int PendingUpdateCount => State.PendingUpdateCount;

    internal FakeTelegramState State { get; }

    /// <summary>Starts listening on <see cref="FakeTelegramOptions.ListenUrl"/> (a free loopback port by default).</summary>
    public static async Task<FakeTelegramServer> StartAsync(FakeTelegramOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeTelegramOptions();
        var listen = ParseListenUrl(options.ListenUrl);

        // The empty builder reads no configuration, environment or appsettings: the fake is the same wherever it runs.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "FakeTelegram" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(listen));
        builder.Services.AddRoutingCore();
        options.ConfigureLogging?.Invoke(builder.Logging);

        // ASP.NET Core logs request paths, and the token is in every Bot API path: keep its logs to warnings,
        // set last so that a caller's logging setup cannot turn them back on by accident.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        var app = builder.Build();
        var state = new FakeTelegramState(options);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FakeTelegram");
        var server = new FakeTelegramServer(app, state);
        BotApiEndpoint.Map(app, state, logger, app.Lifetime.ApplicationStopping);
        ControlEndpoints.Map(app, server);
        app.MapFallback(NotFound);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        server.BaseUri = BoundUri(app, listen);
        Log.Listening(logger, server.BaseUrl);
        return server;
    }

    /// <summary>The short, stable hash of a token that records carry instead of the token.</summary>
    public static string TokenFingerprint(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return TokenPolicy.Fingerprint(token);
    }

    /// <summary>Calls in arrival order, optionally of one method (case-insensitive) and/or one chat.</summary>
    public IReadOnlyList<CallRecord> Calls(string? method = null, long? chatId = null) =>
        State.Calls(method, chatId is { } id ? ChatRef.Of(id) : null);

    /// <summary>Forgets recorded calls, deliveries and counters; the world (chats, webhook, limits, faults) stays.</summary>
    public void ClearCalls() => State.ClearCalls();

    public FakeStats Stats() => State.Stats();

    /// <summary>Messages delivered to one chat, in order.</summary>
    public IReadOnlyList<DeliveredMessage> Deliveries(long chatId) => State.Deliveries(ChatRef.Of(chatId));

    /// <summary>Messages delivered to any chat, in order.</summary>
    public IReadOnlyList<DeliveredMessage> Deliveries() => State.Deliveries(null);

    /// <summary>Waits until at least <paramref name="count"/> messages have been delivered in all, and returns them all.</summary>
    public async Task<IReadOnlyList<DeliveredMessage>> WaitForDeliveriesAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await State.WaitAsync(log => log.WaitForDeliveries(count), timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"Expected {count} deliveries within {timeout}, got {State.Deliveries(null).Count}. Last calls:\n{LastCalls()}"));
        }

        return State.Deliveries(null);
    }

    /// <summary>Waits until at least <paramref name="count"/> matching calls have been recorded, and returns them.</summary>
    public async Task<IReadOnlyList<CallRecord>> WaitForCallsAsync(
        int count, TimeSpan timeout, string? method = null, long? chatId = null, CancellationToken cancellationToken = default)
    {
        var chat = chatId is { } id ? ChatRef.Of(id) : (ChatRef?)null;
        try
        {
            await State.WaitAsync(log => log.WaitForCalls(count, method, chat), timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"Expected {count} {method ?? "calls"}{(chatId is null ? "" : $" to chat {chatId}")} within {timeout}, got {State.Calls(method, chat).Count}. Last calls:\n{LastCalls()}"));
        }

        return State.Calls(method, chat);
    }

    /// <summary>Queues an update for getUpdates; one without <c>update_id</c> gets the next. Returns the update_id.</summary>
    public long EnqueueUpdate(JsonObject update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return State.EnqueueUpdate(update.DeepClone().AsObject());
    }

    public long EnqueueUpdate(string updateJson) =>
        State.EnqueueUpdate(JsonNode.Parse(updateJson)?.AsObject() ?? throw new ArgumentException("Not a JSON object", nameof(updateJson)));

    public IReadOnlyList<long> EnqueueUpdates(IEnumerable<JsonObject> updates) => updates.Select(EnqueueUpdate).ToList();

    /// <summary>Adds a fault; faults are matched in the order they were added.</summary>
    public void InjectFault(Fault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        State.InjectFault(fault);
    }

    /// <summary>Faults not used up yet, each with <see cref="Fault.Count"/> set to the uses left.</summary>
    public IReadOnlyList<Fault> PendingFaults() => State.PendingFaults();

    public void ClearFaults() => State.ClearFaults();

    /// <summary>Puts the bot in a chat (so getChatMember answers there); the type defaults to what the id implies.</summary>
    public void AddChat(long chatId, string? type = null) => State.AddChat(ChatRef.Of(chatId), type);

    /// <summary>Sets what getChatMember answers; users not set are <c>left</c>. Adds the chat.</summary>
    public void SetChatMember(long chatId, long userId, string status)
    {
        if (!ChatMemberStatus.IsValid(status))
        {
            throw new ArgumentException($"Unknown status {status}; see {nameof(ChatMemberStatus)}", nameof(status));
        }

        State.SetChatMember(ChatRef.Of(chatId), userId, status);
    }

    /// <summary>
    /// A pending join request. Once a chat has one, approving or declining a user without a pending request
    /// there fails as Telegram does (<c>HIDE_REQUESTER_MISSING</c>); chats without any accept every decision.
    /// </summary>
    public void AddJoinRequest(long chatId, long userId) => State.AddJoinRequest(ChatRef.Of(chatId), userId);

    /// <summary>
    /// The bot's administrator rights in a chat (by default it has both, and may invite users): without
    /// <paramref name="canRestrictMembers"/> restrictChatMember, banChatMember and unbanChatMember fail with
    /// <c>not enough rights to restrict/unrestrict chat member</c>; without <paramref name="canDeleteMessages"/>
    /// deleting someone else's message fails with <c>message can't be deleted</c>. getChatMember on the bot shows them. Adds the chat.
    /// </summary>
    public void SetBotRights(long chatId, bool canRestrictMembers, bool canDeleteMessages = true) =>
        State.SetBotRights(ChatRef.Of(chatId), canRestrictMembers, canDeleteMessages);

    /// <summary>
    /// The bot is no longer in the group: every call naming it is 403 <c>bot was kicked from the supergroup chat</c>
    /// (<c>…the group chat</c>, <c>bot is not a member of the channel chat</c>); a private chat is blocked by the user
    /// instead. The same as <see cref="BlockChat"/> with <see cref="ChatBlock.Kicked"/>; <see cref="UnblockChat"/> puts the bot back.
    /// </summary>
    public void RemoveBot(long chatId) => State.RemoveBot(ChatRef.Of(chatId));

    /// <summary>A user's recorded status in a chat, as restrictions, bans and unbans left it (<c>left</c> if never set).</summary>
    public ChatMemberState ChatMemberStatusOf(long chatId, long userId) => State.ChatMemberStatusOf(ChatRef.Of(chatId), userId);

    /// <summary>
    /// A message the fake delivered, edited, deleted or saw in an update, as it is now (an edit's text, a delete), or
    /// null when the fake knows nothing of it.
    /// </summary>
    public MessageState? Message(long chatId, int messageId) => State.Message(ChatRef.Of(chatId), messageId);

    /// <summary>Every message to the chat fails with the 403 Telegram sends for <paramref name="reason"/>.</summary>
    public void BlockChat(long chatId, ChatBlock reason = ChatBlock.BlockedByUser) => State.SetBlock(ChatRef.Of(chatId), reason);

    public void UnblockChat(long chatId) => State.SetBlock(ChatRef.Of(chatId), null);

    /// <summary>Replaces the limits; the windows already counted stay.</summary>
    public void SetRateLimits(RateLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        State.RateLimits = limits;
    }

    /// <summary>Whether the webhook was set with this secret_token (the secret itself is never exposed).</summary>
    public bool IsWebhookSecretToken(string candidate) => State.IsWebhookSecretToken(candidate);

    /// <summary>Back to the start: no calls, chats, faults, updates or webhook, and the options' limits.</summary>
    public void Reset() => State.Reset();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }

    private string LastCalls() => string.Join('\n', State.Calls(null, null).TakeLast(10));

    private static Task NotFound(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync("""{"ok":false,"error_code":404,"description":"Not Found"}""");
    }

    private static IPEndPoint ParseListenUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"Listen URL must be http://HOST:PORT, not {url}", nameof(url));
        }

        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            var host => IPAddress.TryParse(host.Trim('[', ']'), out var parsed)
                ? parsed
                : throw new ArgumentException($"Listen host must be an IP address or localhost, not {host}", nameof(url)),
        };
        return new IPEndPoint(address, uri.Port);
    }

    /// <summary>The address clients use: the port Kestrel took, on loopback when it listens on every address.</summary>
    private static Uri BoundUri(WebApplication app, IPEndPoint listen)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var port = new Uri(addresses.First()).Port;
        var host = listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any) ? "127.0.0.1"
            : listen.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listen.Address}]"
            : listen.Address.ToString();
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}"));
    }
}
