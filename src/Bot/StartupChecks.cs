using Bot.Hosting;
using Bot.Migrations;
using Bot.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bot;

public static partial class StartupChecks
{
    /// <summary>Validates every option now, so that all bad settings are named together before anything starts.</summary>
    public static void ValidateOptions(this WebApplication app) =>
        app.Services.GetRequiredService<IStartupValidator>().Validate();

    /// <summary>
    /// Starts the server while the schema is checked; readiness stays false until both are done, and a schema
    /// that is behind stops the process before it ever reports ready.
    /// </summary>
    public static async Task StartCheckedAsync(this WebApplication app)
    {
        var schema = app.EnsureSchemaAsync();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await schema.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        try
        {
            await schema;
        }
        catch
        {
            // Workers started beside the check; stop them before reporting, or the process would linger.
            await app.StopAsync(TimeSpan.FromSeconds(5));
            throw;
        }
    }

    /// <summary>Once started: the executable's read-only data that only start-up read leaves the process (<see cref="StartupPages"/>).</summary>
    public static void ReleaseStartupPages(this WebApplication app)
    {
        var released = StartupPages.Release();
        LogStartupPagesReleased(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Bot.Startup"), released / (1024 * 1024));
    }

    /// <summary>
    /// Refuses to serve on a schema older than this release needs. A database that is unreachable, starting up
    /// or shutting down is not fatal: the process starts unready and readiness keeps checking, so a database
    /// restart does not crash-loop pods.
    /// </summary>
    public static async Task EnsureSchemaAsync(this WebApplication app)
    {
        var required = Migrator.RequiredVersion;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Bot.Startup");
        int version;
        try
        {
            version = await Migrator.ReadVersionAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception exception) when (Database.IsUnavailable(exception))
        {
            LogDatabaseUnreachable(logger, exception.Message);
            return;
        }

        if (version < required)
        {
            throw new StartupException(
                $"the database schema is at version {version} and this release needs {required}: run 'Bot migrate up' first");
        }

        LogSchema(logger, version, required);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database unreachable at start-up ({Error}); serving unready until it answers")]
    private static partial void LogDatabaseUnreachable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {MiB} MiB of the executable's read-only data mapped at start-up")]
    private static partial void LogStartupPagesReleased(ILogger logger, long miB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema at version {Version} (this release needs {Required})")]
    private static partial void LogSchema(ILogger logger, int version, int required);
}
