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

    /// <summary>How long after the start <see cref="ReleaseStartupMemoryAsync"/> waits: past the first probes and the work the leader and the workers do as they start.</summary>
    public static readonly TimeSpan StartupMemoryReleaseDelay = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Once the start has settled, gives back what only start-up needed: the executable's read-only data that only
    /// start-up read (<see cref="StartupPages"/>), and the heap of start-up's garbage. Until its first collection the
    /// garbage collector has taken nothing back, so the composition's and the first round trips' garbage (about
    /// 7 MiB) stays committed for as long as the bot is idle; one compacting collection that decommits what it frees
    /// (<see cref="GCCollectionMode.Aggressive"/>) returns it. It pauses the process for 10–16 ms, so it runs
    /// <see cref="StartupMemoryReleaseDelay"/> after the start, not in front of the first requests (docs/performance.md).
    /// Ends early, doing nothing, when the host stops first.
    /// </summary>
    public static async Task ReleaseStartupMemoryAsync(this WebApplication app)
    {
        try
        {
            await Task.Delay(StartupMemoryReleaseDelay, app.Lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var pages = StartupPages.Release();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var heapAfter = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        LogStartupMemoryReleased(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Bot.Startup"), pages / (1024 * 1024), heapBefore / (1024 * 1024), heapAfter / (1024 * 1024), Gen0BudgetKilobytes());
    }

    /// <summary>
    /// The garbage collector's largest gen0 budget in KiB, as it reports it: 6 MiB with the budget of Bot.csproj, or
    /// sized from the L3 cache when DOTNET_GCgen0size is invalid (16 MiB on a 32 MiB L3); 0 where it does not say.
    /// </summary>
    public static long Gen0BudgetKilobytes() =>
        GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var value) && value is IConvertible number
            ? number.ToInt64(System.Globalization.CultureInfo.InvariantCulture) / 1024
            : 0;

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {PagesMiB} MiB of the executable's read-only data mapped at start-up; the heap went from {HeapMiB} MiB to {CommittedMiB} MiB committed (gen0 budget at most {Gen0KiB} KiB)")]
    private static partial void LogStartupMemoryReleased(ILogger logger, long pagesMiB, long heapMiB, long committedMiB, long gen0KiB);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema at version {Version} (this release needs {Required})")]
    private static partial void LogSchema(ILogger logger, int version, int required);
}
