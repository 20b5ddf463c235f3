using Bot.Hosting;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Bot.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot.Admin;

/// <summary>Routes a module or a feature adds to the admin API, inside its authorized route groups.</summary>
public interface IAdminRoutes
{
    /// <summary>Maps onto <paramref name="read"/> (either token) or <paramref name="write"/> (the write token only).</summary>
    void Map(RouteGroupBuilder read, RouteGroupBuilder write);
}

/// <summary>
/// The admin HTTP API on the internal port: the counts, and the routes the features add (<see cref="IAdminRoutes"/>:
/// broadcasts, the join audit). Every route is in one route group that requires an authenticated caller (<see cref="AdminTokenHandler"/>):
/// reads need either token, writes the write token. Authorization is endpoint metadata, so it holds for every
/// spelling of a path that routing accepts. Failed authentications are throttled per address before anything
/// else; authenticated callers share one rate limit; every call is audited. Described at /openapi/v1.json.
/// </summary>
public static class AdminEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;

    private const string RateLimitPolicy = "admin";

    /// <summary>The admin API's services: options, tokens, authentication, policies, rate limit, the key purge.</summary>
    public static IHostApplicationBuilder AddAdminApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsAttributesValidator>();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddSingleton<AdminTokens>().AddClosedLogger<AdminTokens>();
        builder.Services.AddSingleton<AdminAuthThrottle>();

        // The audit line says what the handler's own messages would ("was challenged"), with more.
        builder.Logging.AddFilter(typeof(AdminTokenHandler).FullName, LogLevel.Warning);
        // No default scheme: only the admin policies authenticate, so no other request ever runs the token check. ASP.NET
        // Core makes a lone scheme the default unless told not to, and then every request (each webhook POST too) ran the
        // handler and counted as a failed authentication of its address: Telegram's or a proxy's address was locked out of
        // the admin API after ten updates a minute.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        // AddAuthentication() without its data protection: the token scheme signs and encrypts nothing, and data protection
        // loads (or creates and writes) an XML key ring in a hosted service before the ports listen, which cost start-up
        // time, a writable home directory and System.Private.Xml in the binary (docs/performance.md).
        builder.Services.AddAuthenticationCore();
        builder.Services.AddWebEncoders();
        new AuthenticationBuilder(builder.Services).AddScheme<AuthenticationSchemeOptions, AdminTokenHandler>(AdminAuth.Scheme, null);
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
                    context.HttpContext.Response.Headers.RetryAfter = AdminAuth.RetryAfter(after);
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
        app.MapOpenApiDocument();

        var read = app.MapGroup("/admin").WithTags("Admin")
            .WithMetadata(AdminApiMetadata.Instance, new BodySizeLimit(MaxBodyBytes))
            .RequireAuthorization(AdminAuth.ReadPolicy).RequireRateLimiting(RateLimitPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        var write = read.MapGroup("").RequireAuthorization(AdminAuth.WritePolicy).ProducesProblem(StatusCodes.Status403Forbidden);

        read.MapGet("/stats", StatsAsync).WithName("GetStats").WithSummary("Every module's and feature's counts: subscribers, broadcasts, join decisions, queue depths");
        foreach (var routes in app.ServiceProvider.GetServices<IAdminRoutes>())
        {
            routes.Map(read, write);
        }

        return app;
    }

    private static async Task<Ok<Dictionary<string, long>>> StatsAsync(BotCounts counts, ReadReplica reads, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reads.ReadAsync(counts.ReadAsync, cancellationToken));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Dictionary<string, long>))]
internal sealed partial class AdminJson : JsonSerializerContext;

/// <summary>Request body limit of an endpoint, applied by routing before the body is read (larger bodies get 413).</summary>
public sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize => bytes;
}
