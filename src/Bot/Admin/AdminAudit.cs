using Bot.Telemetry;
using Microsoft.AspNetCore.Routing;

namespace Bot.Admin;

/// <summary>Marks the admin API's endpoints for the audit.</summary>
public sealed class AdminApiMetadata
{
    public static readonly AdminApiMetadata Instance = new();
}

/// <summary>
/// One structured line and one count per admin API call, whatever its outcome (401, 403 and 429 included): the
/// route pattern, the scope and name of the token used (never its value), the client's address and the status.
/// Runs before authorization, so the calls it refuses are audited too.
/// </summary>
public static partial class AdminAudit
{
    public static IApplicationBuilder UseAdminAudit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<AdminApiMetadata>() is null)
        {
            await next(context);
            return;
        }

        var failed = true;
        try
        {
            await next(context);
            failed = false;
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unknown";
            var scope = context.User.FindFirst(AdminAuth.ScopeClaim)?.Value ?? "none";
            var token = context.User.FindFirst(AdminAuth.TokenClaim)?.Value ?? "none";
            // An exception that escapes is answered 500 by the server after this line.
            var status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            context.RequestServices.GetRequiredService<BotMetrics>().AdminRequest(route, status, scope);
            LogCall(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Bot.Admin.Audit"),
                context.Request.Method, route, status, scope, token, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        }
    });

    [LoggerMessage(EventName = "AdminCall", Level = LogLevel.Information,
        Message = "Admin API {Method} {Route}: {Status}, scope {Scope}, token {TokenName}, client {ClientAddress}")]
    private static partial void LogCall(ILogger logger, string method, string route, int status, string scope, string tokenName, string clientAddress);
}
