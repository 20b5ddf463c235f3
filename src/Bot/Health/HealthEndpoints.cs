using Bot.Hosting;
using Bot.Migrations;
using Npgsql;

namespace Bot.Health;

/// <summary>Liveness (no dependencies) and readiness (database, schema version, not draining).</summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan DatabaseTimeout = TimeSpan.FromSeconds(1);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", ReadyAsync);
        return app;
    }

    private static async Task<IResult> ReadyAsync(DrainState drain, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (drain.IsDraining)
        {
            return Results.Text("not ready: shutting down", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var required = Migrator.RequiredVersion;
        int version;
        try
        {
            version = await Migrator.ReadVersionAsync(dataSource, DatabaseTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return Results.Text("not ready: database unreachable", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        // A newer schema is fine: expand/contract keeps the previous release working on it.
        return version < required
            ? Results.Text($"not ready: schema at version {version}, this release needs {required}", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready");
    }
}
