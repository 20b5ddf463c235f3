using System.Net;
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
}
