using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Bot.Features;
using Bot.Features.Broadcasts;
using Bot.Features.Flags;
using Bot.Features.JoinGate;
using Bot.Outbox;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
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
/// <param name="AllowConcurrent">Start even while another broadcast is running (otherwise that is a 409).</param>
public sealed record CreateBroadcastRequest(long FromChatId, int MessageId, long? StatusChatId = null, bool AllowConcurrent = false);

/// <summary>
/// The admin HTTP API on the internal port: start, list, read and cancel broadcasts, read the counts and the join
/// audit. Every route is in one route group that requires an authenticated caller (<see cref="AdminTokenHandler"/>):
/// reads need either token, writes the write token. Authorization is endpoint metadata, so it holds for every
/// spelling of a path that routing accepts. Failed authentications are throttled per address before anything
/// else; authenticated callers share one rate limit; every call is audited. Described at /openapi/v1.json.
/// </summary>
public static class AdminEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    private const string RateLimitPolicy = "admin";

    /// <summary>The admin API's services: options, tokens, authentication, policies, rate limit, OpenAPI, the key purge.</summary>
    public static IHostApplicationBuilder AddAdminApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsAttributesValidator>();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddSingleton<AdminTokens>();
        builder.Services.AddSingleton<AdminAuthThrottle>();
        builder.Services.AddSingleton<Coordination.ILeaderSingleton, IdempotencyKeyPurge>();

        // The audit line says what the handler's own messages would ("was challenged"), with more.
        builder.Logging.AddFilter(typeof(AdminTokenHandler).FullName, LogLevel.Warning);
        // No default scheme: only the admin policies authenticate, so no other request ever runs the token check.
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminTokenHandler>(AdminAuth.Scheme, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminAuth.ReadPolicy, policy => policy.AddAuthenticationSchemes(AdminAuth.Scheme).RequireAuthenticatedUser()
                .RequireClaim(AdminAuth.ScopeClaim, AdminAuth.Name(AdminScope.Read), AdminAuth.Name(AdminScope.Write)))
            .AddPolicy(AdminAuth.WritePolicy, policy => policy.AddAuthenticationSchemes(AdminAuth.Scheme).RequireAuthenticatedUser()
                .RequireClaim(AdminAuth.ScopeClaim, AdminAuth.Name(AdminScope.Write)));

        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AdminJson.Default));
        builder.Services.AddProblemDetails();
        var perMinute = builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>()?.RequestsPerMinute ?? new AdminOptions().RequestsPerMinute;
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after))
                {
                    context.HttpContext.Response.Headers.RetryAfter =
                        Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                return ValueTask.CompletedTask;
            };
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
            openApi.ShouldInclude = description => description.ActionDescriptor.EndpointMetadata.OfType<AdminApiMetadata>().Any();
            openApi.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Bot admin API",
                    Version = "v1",
                    Description = "Broadcasts, join decisions and counts. Internal port only; bearer token Admin__Token (write) or Admin__ReadToken (read).",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "Admin__Token (read and write) or Admin__ReadToken (read only)",
                };
                document.Security ??= [];
                document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>
    /// The middleware the admin routes rely on, in order, after routing: the audit (which sees every outcome),
    /// authorization (throttled authentication, then the scope), then the rate limit of authenticated callers,
    /// so that wrong tokens cannot spend the budget of the right one.
    /// </summary>
    public static WebApplication UseAdminApi(this WebApplication app)
    {
        app.UseAdminAudit();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Maps the admin routes and the OpenAPI document; call on the internal surface's group.</summary>
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");

        var read = app.MapGroup("/admin").WithTags("Admin")
            .WithMetadata(AdminApiMetadata.Instance, new BodySizeLimit(MaxBodyBytes))
            .RequireAuthorization(AdminAuth.ReadPolicy).RequireRateLimiting(RateLimitPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        var write = read.MapGroup("").RequireAuthorization(AdminAuth.WritePolicy).ProducesProblem(StatusCodes.Status403Forbidden);

        write.MapPost("/broadcasts", CreateAsync).WithName("CreateBroadcast")
            .WithSummary("Start a broadcast of a message to every active subscriber (Idempotency-Key honoured for 24 h)");
        read.MapGet("/broadcasts", ListAsync).WithName("ListBroadcasts").WithSummary("The most recent broadcasts, newest first");
        read.MapGet("/broadcasts/{id:long}", GetAsync).WithName("GetBroadcast").WithSummary("A broadcast's state and counts");
        write.MapPost("/broadcasts/{id:long}/cancel", CancelAsync).WithName("CancelBroadcast").WithSummary("Stop a running broadcast; what was sent stays sent");
        read.MapGet("/join-requests", JoinRequestsAsync).WithName("ListJoinRequests").WithSummary("Join requests and their decisions, newest first (audit)");
        read.MapGet("/stats", StatsAsync).WithName("GetStats").WithSummary("Subscribers, broadcasts, join decisions and queue depths");
        return app;
    }

    private static async Task<Results<Accepted<BroadcastView>, ProblemHttpResult>> CreateAsync(
        CreateBroadcastRequest request, HttpContext http, NpgsqlDataSource dataSource, FeatureFlags flags, Texts texts, OutboxNudge nudge,
        CancellationToken cancellationToken)
    {
        if (request.FromChatId == 0 || request.MessageId <= 0 || request.StatusChatId == 0)
        {
            return TypedResults.Problem("fromChatId must be a chat id and messageId a positive message id; statusChatId, when given, a chat id",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid broadcast");
        }

        var key = http.Request.Headers[IdempotencyKeys.Header] is { Count: > 0 } values ? values.ToString() : null;
        if (key is not null && !IdempotencyKeys.IsValid(key))
        {
            return TypedResults.Problem($"{IdempotencyKeys.Header} must be 1 to {IdempotencyKeys.MaxLength} visible ASCII characters",
                statusCode: StatusCodes.Status400BadRequest, title: "Invalid idempotency key");
        }

        if (!flags.IsEnabledForAll(Feature.Broadcasts))
        {
            return TypedResults.Problem("the Broadcasts feature flag is off", statusCode: StatusCodes.Status409Conflict, title: "Broadcasts are switched off");
        }

        var fingerprint = IdempotencyKeys.Fingerprint(request);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One creation at a time: the running check and the key lookup then see every earlier creation committed.
        await using (var serialize = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('bot.admin.create-broadcast'))", connection, transaction))
        {
            await serialize.ExecuteNonQueryAsync(cancellationToken);
        }

        if (key is not null && await IdempotencyKeys.FindAsync(connection, transaction, key, fingerprint, cancellationToken) is { } earlier)
        {
            await transaction.RollbackAsync(cancellationToken);
            if (!earlier.SameRequest)
            {
                return TypedResults.Problem($"this {IdempotencyKeys.Header} was used for a different request in the last 24 hours",
                    statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused");
            }

            http.Response.Headers["Idempotent-Replayed"] = "true";
            var first = await BroadcastStore.GetAsync(dataSource, earlier.BroadcastId, cancellationToken);
            return TypedResults.Accepted($"/admin/broadcasts/{earlier.BroadcastId}", first!);
        }

        if (!request.AllowConcurrent && await BroadcastStore.RunningAsync(connection, transaction, cancellationToken) is { } running)
        {
            return TypedResults.Problem($"broadcast {running} is still running; cancel it, wait for it, or send \"allowConcurrent\": true",
                statusCode: StatusCodes.Status409Conflict, title: "A broadcast is running");
        }

        var caller = $"api:{http.User.FindFirst(AdminAuth.TokenClaim)?.Value}";
        var id = await BroadcastStore.CreateAsync(
            connection, transaction, request.FromChatId, request.MessageId, null, request.StatusChatId, Texts.English, cancellationToken, caller);
        if (request.StatusChatId is { } statusChat)
        {
            var outbox = new OutboxWriter(connection, transaction, null);
            var status = await outbox.EnqueueAsync(new SendMessageRequest { ChatId = statusChat, Text = BroadcastStatus.Starting(texts, Texts.English, id) },
                statusChat, cancellationToken: cancellationToken);
            await BroadcastStore.SetStatusOutboxAsync(connection, transaction, id, status, cancellationToken);
        }

        if (key is not null)
        {
            await IdempotencyKeys.StoreAsync(connection, transaction, key, fingerprint, id, cancellationToken);
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
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CreateBroadcastRequest))]
[JsonSerializable(typeof(BroadcastView))]
[JsonSerializable(typeof(List<BroadcastView>))]
[JsonSerializable(typeof(BotStats))]
[JsonSerializable(typeof(List<JoinRequestView>))]
internal sealed partial class AdminJson : JsonSerializerContext;

/// <summary>Request body limit of an endpoint, applied by routing before the body is read (larger bodies get 413).</summary>
public sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize => bytes;
}
