using System.Net;
using Bot.Hosting;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Hosting;

public sealed class StartupTests(SharedPostgres postgres)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("Telegram__BotToken")]
    [InlineData("Telegram__WebhookSecret")]
    [InlineData("Database__ConnectionString")]
    public async Task A_missing_secret_stops_start_up_and_is_named(string missing)
    {
        var settings = BotProcess.Settings("Host=127.0.0.1;Port=1;Username=x;Database=x");
        settings.Remove(missing);

        var run = await BotProcess.RunAsync(settings, Timeout, "serve");

        Assert.NotEqual(0, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_native_binary_keeps_its_rehydrated_data_in_huge_pages()
    {
        // src/Bot/Native/hugepages.c advises the range before the runtime fills it; the kernel decides by its mode.
        var mode = File.Exists(TransparentHugePages) ? File.ReadAllText(TransparentHugePages) : "[never]";
        if (!Repo.IsNativeAot || mode.Contains("[never]", StringComparison.Ordinal))
        {
            Assert.Skip($"needs the Native AOT binary (BOT_BINARY) and transparent huge pages not off ({mode.Trim()})");
        }

        await using var bot = BotProcess.Start(await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>()));
        await bot.WaitReadyAsync();

        // The rehydrated data is about 20 MiB: several whole 2 MiB pages of it, not one, are huge.
        var huge = StartupPages.Mappings(File.ReadLines($"/proc/{bot.ProcessId}/smaps"))
            .Sum(m => m.Kilobytes.GetValueOrDefault("AnonHugePages"));
        Assert.True(huge >= 8 * 1024, $"AnonHugePages {huge} kB in the bot's mappings");
    }

    [Fact]
    public async Task The_native_binary_gives_back_the_read_only_data_that_only_start_up_read()
    {
        if (!Repo.IsNativeAot)
        {
            Assert.Skip("needs the Native AOT binary (BOT_BINARY)");
        }

        await using var bot = BotProcess.Start(await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>()));
        await bot.WaitReadyAsync();
        using var client = new HttpClient { BaseAddress = bot.InternalUri };
        var smaps = $"/proc/{bot.ProcessId}/smaps";
        var executable = File.ReadAllText($"/proc/{bot.ProcessId}/cmdline").Split('\0')[0];

        // The release follows the start; until the log says so, the dehydrated data is still mapped in full.
        await bot.WaitForOutputAsync("read-only data mapped at start-up");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz", TestContext.Current.CancellationToken)).StatusCode);
        }

        // Of the executable's read-only data (about 16 MiB of dehydrated data and 7 MiB of exception and unwind
        // tables), what a serving bot reads again is well under half; unreleased, over 80 % of it stays resident.
        var (size, resident) = ReadOnlyData(File.ReadAllLines(smaps), executable);
        Assert.True(size > 8 * 1024 * 1024, $"{size} bytes of read-only data mapped from {executable}");
        Assert.True(resident < size / 2, $"{resident} of {size} bytes of the executable's read-only data resident");
    }

    [Fact]
    public async Task The_native_binary_collects_start_ups_garbage_once_the_start_has_settled()
    {
        if (!Repo.IsNativeAot)
        {
            Assert.Skip("needs the Native AOT binary (BOT_BINARY)");
        }

        await using var bot = BotProcess.Start(await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>()));
        await bot.WaitReadyAsync();
        var status = $"/proc/{bot.ProcessId}/status";

        // Not in front of the first requests: the collection pauses the process, so it waits for the start to settle.
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.DoesNotContain("read-only data mapped at start-up", bot.Output, StringComparison.Ordinal);
        var before = AnonymousKilobytes(File.ReadAllLines(status));

        await bot.WaitForOutputAsync("read-only data mapped at start-up");
        var after = AnonymousKilobytes(File.ReadAllLines(status));

        // Start-up leaves about 10 MiB of garbage that no collection has taken back yet; the release returns it.
        Assert.True(before - after >= 4 * 1024, $"anonymous memory {before} kB before the release, {after} kB after");

        // The binary carries its gen0 budget (Bot.csproj): the collector does not size gen0 from the L3 cache.
        Assert.Contains("(gen0 budget at most 6144 KiB)", bot.Output, StringComparison.Ordinal);
    }

    private static long AnonymousKilobytes(string[] status) =>
        long.Parse(status.Single(line => line.StartsWith("RssAnon:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

    private static (long Size, long Resident) ReadOnlyData(string[] smaps, string executable)
    {
        var data = StartupPages.Mappings(smaps).Where(m => StartupPages.IsReadOnlyDataOf(m, executable)).ToList();
        return (data.Sum(m => m.Kilobytes["Size"]) * 1024, data.Sum(m => m.Kilobytes["Rss"]) * 1024);
    }

    private const string TransparentHugePages = "/sys/kernel/mm/transparent_hugepage/enabled";

    [Fact]
    public async Task A_bad_setting_is_named_without_echoing_its_value()
    {
        var settings = BotProcess.Settings("Host=127.0.0.1;Port=1;Username=x;Database=x");
        settings["Telegram__BotToken"] = "not-a-token-SENTINEL1";
        settings["Telegram__WebhookSecret"] = "has spaces SENTINEL2";
        settings["Hosting__PublicPort"] = "70000";

        var run = await BotProcess.RunAsync(settings, Timeout, "serve");

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("Telegram:BotToken", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Telegram:WebhookSecret", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_needs_only_the_database_and_names_it_when_missing()
    {
        var run = await BotProcess.RunAsync(new Dictionary<string, string?>
        {
            ["Secrets__Directory"] = "/nonexistent",
            ["Config__Directory"] = "/nonexistent",
        }, Timeout, "migrate", "status");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Database__ConnectionString", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Secrets_are_read_one_file_per_key_from_the_secrets_directory()
    {
        var connectionString = await postgres.Cluster.CreateDatabaseAsync();
        var secrets = Directory.CreateTempSubdirectory("bot-secrets-");
        try
        {
            // As a Kubernetes Secret volume lays them out, trailing newline and ..data entries included.
            File.WriteAllText(Path.Combine(secrets.FullName, "Telegram__BotToken"), BotProcess.BotToken);
            File.WriteAllText(Path.Combine(secrets.FullName, "Telegram__WebhookSecret"), BotProcess.WebhookSecret + "\n");
            File.WriteAllText(Path.Combine(secrets.FullName, "Database__ConnectionString"), connectionString);
            Directory.CreateDirectory(Path.Combine(secrets.FullName, "..data"));
            var settings = BotProcess.Settings("");
            settings.Remove("Telegram__BotToken");
            settings.Remove("Telegram__WebhookSecret");
            settings.Remove("Database__ConnectionString");
            settings["Secrets__Directory"] = secrets.FullName;

            Assert.Equal(0, (await BotProcess.RunAsync(settings, Timeout, "migrate", "up")).ExitCode);
            await using var bot = BotProcess.Start(settings);
            await bot.WaitReadyAsync();
            using var http = new HttpClient();
            using var response = await http.SendAsync(Updates.Post(bot.WebhookUri, Updates.Message(1, 1)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            secrets.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_database_that_is_down_or_starting_up_at_start_up_leaves_the_process_unready_not_crashed()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?>());
        var direct = settings["Database__ConnectionString"]!;
        await using var gate = new DatabaseGate(new Npgsql.NpgsqlConnectionStringBuilder(direct).Port);
        settings["Database__ConnectionString"] = gate.Through(direct);

        // As PostgreSQL recovering after a restart: every log-in is refused with "starting up", then its port is
        // closed for a while (a second restart), then it serves.
        gate.Mode = DatabaseGate.State.StartingUp;
        await using var bot = BotProcess.Start(settings);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (gate.StartingUpAnswers < 3 && clock.Elapsed < TimeSpan.FromSeconds(20) && !bot.HasExited)
        {
            await Task.Delay(100);
        }

        Assert.True(gate.StartingUpAnswers >= 3, "the bot did not keep trying the database while it was starting up");
        await AssertUpButUnreadyAsync(bot, http);
        Assert.Contains("Database unreachable at start-up (57P03", bot.Output, StringComparison.Ordinal);

        gate.Mode = DatabaseGate.State.Closed;
        await Task.Delay(TimeSpan.FromSeconds(2));
        await AssertUpButUnreadyAsync(bot, http);

        gate.Mode = DatabaseGate.State.Open;
        await bot.WaitReadyAsync(TimeSpan.FromSeconds(30));
        using var response = await http.SendAsync(Updates.Post(bot.WebhookUri, Updates.Message(1, 1)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await PostgresCluster.ScalarAsync(direct, "SELECT count(*) FROM inbox"));
    }

    private static async Task AssertUpButUnreadyAsync(BotProcess bot, HttpClient http)
    {
        Assert.False(bot.HasExited, "the bot exited:\n" + bot.Output);
        // The database is tried before the ports listen; on a busy machine they may open a moment later.
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); ; await Task.Delay(100))
        {
            try
            {
                using var probe = await http.GetAsync(new Uri(bot.InternalUri, "healthz"));
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !bot.HasExited)
            {
            }
        }

        using var ready = await http.GetAsync(new Uri(bot.InternalUri, "readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var live = await http.GetAsync(new Uri(bot.InternalUri, "healthz"));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
