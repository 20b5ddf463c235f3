using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Bot.Features;
using Bot.Features.Broadcasts;
using Bot.Features.Flags;
using Bot.Features.JoinGate;
using Bot.Outbox;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Npgsql;
using Telegram.Bot.Requests;

namespace Bot.Admin;

/// <summary>A broadcast to start: the message to copy, and optionally a chat where its progress is shown.</summary>
/// <param name="FromChatId">The chat that holds the message.</param>
/// <param name="MessageId">The message to copy to every active subscriber.</param>
/// <param name="StatusChatId">A chat the bot may write to, where one status message shows the progress.</param>
public sealed record CreateBroadcastRequest(long FromChatId, int MessageId, long? StatusChatId = null);

/// <summary>
/// The admin HTTP API on the internal port: start, list, read and cancel broadcasts, read the counts. Every route
/// needs <c>Authorization: Bearer &lt;Admin__Token&gt;</c> (compared in constant time) and shares one rate limit.
/// Described at /openapi/v1.json.
/// </summary>
public static class AdminEndpoints
{
    private const string RateLimitPolicy = "admin";

    public static IHostApplicationBuilder AddAdminApi(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJson.Default));
        builder.Services.AddProblemDetails();
        var perMinute = builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>()?.RequestsPerMinute ?? new AdminOptions().RequestsPerMinute;
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddFixedWindowLimiter(RateLimitPolicy, window =>
            {
                window.PermitLimit = Math.Clamp(perMinute, 1, 100_000);
                window.Window = TimeSpan.FromMinutes(1);
                window.QueueLimit = 0;
            });
        });
        builder.Services.AddOpenApi("v1", openApi =>
        {
            // The document describes the admin API; health probes and the webhook have their own contracts.
            openApi.ShouldInclude = description => description.RelativePath?.StartsWith("admin/", StringComparison.Ordinal) == true;
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = "Bot admin API", Version = "v1", Description = "Broadcasts, join decisions and counts. Internal port only; bearer token Admin__Token." };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "Admin__Token" };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    public static WebApplication MapAdminApi(this WebApplication app)
    {
        // The token is checked before anything else about the request (its body included) is looked at.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/admin", StringComparison.Ordinal), admin => admin.Use(RequireToken));
        app.UseRateLimiter();
        app.MapOpenApi("/openapi/{documentName}.json");

        var admin = app.MapGroup("/admin").RequireRateLimiting(RateLimitPolicy).WithTags("Admin")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        admin.MapPost("/broadcasts", CreateAsync).WithName("CreateBroadcast").WithSummary("Start a broadcast of a message to every active subscriber");
        admin.MapGet("/broadcasts", ListAsync).WithName("ListBroadcasts").WithSummary("The most recent broadcasts, newest first");
        admin.MapGet("/broadcasts/{id:long}", GetAsync).WithName("GetBroadcast").WithSummary("A broadcast's state and counts");
        admin.MapPost("/broadcasts/{id:long}/cancel", CancelAsync).WithName("CancelBroadcast").WithSummary("Stop a running broadcast; what was sent stays sent");
        admin.MapGet("/join-requests", JoinRequestsAsync).WithName("ListJoinRequests").WithSummary("Join requests and their decisions, newest first (audit)");
        admin.MapGet("/stats", StatsAsync).WithName("GetStats").WithSummary("Subscribers, broadcasts, join decisions and queue depths");
        return app;
    }

    private static async Task<Results<Accepted<BroadcastView>, ProblemHttpResult>> CreateAsync(
        CreateBroadcastRequest request, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge, CancellationToken cancellationToken)
    {
        if (request.FromChatId == 0 || request.MessageId <= 0 || request.StatusChatId == 0)
        {
            return TypedResults.Problem("fromChatId must be a chat id and messageId a positive message id; statusChatId, when given, a chat id",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid broadcast");
        }

        if (!flags.IsEnabledForAll(Feature.Broadcasts))
        {
            return TypedResults.Problem("the Broadcasts feature flag is off", statusCode: StatusCodes.Status409Conflict, title: "Broadcasts are switched off");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = await BroadcastStore.CreateAsync(connection, transaction, request.FromChatId, request.MessageId, null, request.StatusChatId, Texts.English, cancellationToken);
        if (request.StatusChatId is { } statusChat)
        {
            var outbox = new OutboxWriter(connection, transaction, null);
            var status = await outbox.EnqueueAsync(new SendMessageRequest { ChatId = statusChat, Text = BroadcastStatus.Starting(texts, Texts.English, id) },
                statusChat, cancellationToken: cancellationToken);
            await BroadcastStore.SetStatusOutboxAsync(connection, transaction, id, status, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        nudge.Nudge();
        var view = await BroadcastStore.GetAsync(dataSource, id, cancellationToken);
        return TypedResults.Accepted($"/admin/broadcasts/{id}", view!);
    }

    private static async Task<Ok<List<BroadcastView>>> ListAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken, int limit = 20) =>
        TypedResults.Ok(await BroadcastStore.ListAsync(dataSource, Math.Clamp(limit, 1, 200), cancellationToken));

    private static async Task<Results<Ok<BroadcastView>, NotFound>> GetAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await BroadcastStore.GetAsync(dataSource, id, cancellationToken) is { } view ? TypedResults.Ok(view) : TypedResults.NotFound();

    private static async Task<Results<Ok<BroadcastView>, NotFound, ProblemHttpResult>> CancelAsync(long id, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var cancelled = await BroadcastStore.CancelAsync(connection, null, id, cancellationToken);
        var view = await BroadcastStore.GetAsync(dataSource, id, cancellationToken);
        return view switch
        {
            null => TypedResults.NotFound(),
            _ when cancelled is null => TypedResults.Problem($"broadcast {id} is already {view.State}", statusCode: StatusCodes.Status409Conflict, title: "Not running"),
            _ => TypedResults.Ok(view),
        };
    }

    private static async Task<Results<Ok<List<JoinRequestView>>, ProblemHttpResult>> JoinRequestsAsync(
        NpgsqlDataSource dataSource, CancellationToken cancellationToken, long? chatId = null, long? userId = null, string? state = null, int limit = 50)
    {
        if (state is not null and not ("pending" or "approved" or "declined"))
        {
            return TypedResults.Problem("state must be pending, approved or declined", statusCode: StatusCodes.Status400BadRequest, title: "Invalid filter");
        }

        return TypedResults.Ok(await JoinRequestAudit.ListAsync(dataSource, chatId, userId, state, Math.Clamp(limit, 1, 500), cancellationToken));
    }

    private static async Task<Ok<BotStats>> StatsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return TypedResults.Ok(await BroadcastStore.StatsAsync(connection, null, cancellationToken));
    }

    /// <summary>Bearer token check in constant time: both sides are hashed first, so neither length nor content leaks through timing.</summary>
    private static async Task RequireToken(HttpContext http, RequestDelegate next)
    {
        var configured = http.RequestServices.GetRequiredService<IOptionsMonitor<AdminOptions>>().CurrentValue.Token;
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (string.IsNullOrEmpty(configured) || presented is null
            || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(configured))))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await TypedResults.Problem("a valid bearer token (Admin__Token) is required", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized")
                .ExecuteAsync(http);
            return;
        }

        await next(http);
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateBroadcastRequest))]
[JsonSerializable(typeof(BroadcastView))]
[JsonSerializable(typeof(List<BroadcastView>))]
[JsonSerializable(typeof(BotStats))]
[JsonSerializable(typeof(List<JoinRequestView>))]
internal sealed partial class AdminJson : JsonSerializerContext;
