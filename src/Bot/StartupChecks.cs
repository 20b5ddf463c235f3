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

    /// <summary>What start-up may allocate before its first collection (<see cref="BeginStartupHeap"/>): the first three seconds of an idle bot allocate about 13 MiB.</summary>
    private const long StartupHeapBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Start-up runs in a region without collections (<see cref="GC.TryStartNoGCRegion(long)"/>), set up before the
    /// composition with room for <see cref="StartupHeapBytes"/>. With the binary's 6 MiB gen0 budget (Bot.csproj)
    /// start-up collected once and took about a tenth longer; in the region it starts in 0.87 of the time of either
    /// that or the collector's own budget (docs/performance.md). The region ends at
    /// <see cref="ReleaseStartupMemoryAsync"/>, or earlier by itself when start-up allocates more (a bot that takes
    /// traffic at once); from then on the collector collects as usual.
    /// </summary>
    public static void BeginStartupHeap()
    {
        try
        {
            GC.TryStartNoGCRegion(StartupHeapBytes);
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentOutOfRangeException)
        {
            // Already in one, or more than the collector can promise: start-up collects as usual.
        }
    }

    private static void EndStartupHeap()
    {
        if (System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.NoGCRegion)
        {
            return; // ended by itself: start-up allocated more than the region held
        }

        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // A collection ended it between the check and here.
        }
    }

    /// <summary>How long after the start <see cref="ReleaseStartupMemoryAsync"/> waits: past the first probes and the work the leader and the workers do as they start.</summary>
    private static readonly TimeSpan StartupMemoryReleaseDelay = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Once the start has settled, gives back what only start-up needed: the executable's read-only data that only
    /// start-up read (<see cref="StartupPages"/>), and the heap of start-up's garbage. Start-up runs without a
    /// collection (<see cref="BeginStartupHeap"/>), so the composition's and the first round trips' garbage (about
    /// 10 MiB) would stay committed for as long as the bot is idle; one compacting collection that decommits what
    /// it frees (<see cref="GCCollectionMode.Aggressive"/>) returns it. It pauses the process for 10–16 ms, so it runs
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

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Bot.Startup");
        long pages = 0;
        try
        {
            pages = StartupPages.Release();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A sandbox without /proc/self/smaps: the pages stay, nothing else changes.
            LogStartupPagesUnreadable(logger, exception.GetType().Name);
        }

        EndStartupHeap();
        var collections = GC.CollectionCount(0);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: false);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var heapAfter = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        LogStartupMemoryReleased(logger, pages / (1024 * 1024), collections, heapBefore / (1024 * 1024), heapAfter / (1024 * 1024), Gen0BudgetKilobytes());
    }

    /// <summary>
    /// The garbage collector's largest gen0 budget in KiB, as it reports it: 6 MiB with the budget of Bot.csproj, or
    /// sized from the L3 cache when DOTNET_GCgen0size is invalid (16 MiB on a 32 MiB L3); 0 where it does not say.
    /// </summary>
    private static long Gen0BudgetKilobytes() =>
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {PagesMiB} MiB of the executable's read-only data mapped at start-up; after {Collections} collections, the heap went from {HeapMiB} MiB to {CommittedMiB} MiB committed (gen0 budget at most {Gen0KiB} KiB)")]
    private static partial void LogStartupMemoryReleased(ILogger logger, long pagesMiB, int collections, long heapMiB, long committedMiB, long gen0KiB);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The executable's mappings could not be read ({Error}); its read-only data stays mapped")]
    private static partial void LogStartupPagesUnreadable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema at version {Version} (this release needs {Required})")]
    private static partial void LogSchema(ILogger logger, int version, int required);
}
