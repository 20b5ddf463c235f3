using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Telemetry;

/// <summary>
/// Sentry__Dsn against a stand-in Sentry (it keeps every envelope posted to /api/{project}/envelope/): a handler that
/// throws an exception quoting the bot token dead-letters its update, and the event reaches the tracker with the
/// exception and its stack, the release, the environment and the update's trace id, and without any secret.
/// </summary>
public sealed class ErrorTrackingTests(SharedPostgres postgres)
{
    private const long Poison = 9101;
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task A_dead_letter_reaches_the_error_tracker_with_release_environment_and_the_updates_trace_id_and_no_secret()
    {
        // The receiver answers 200 to every post, which is all Sentry's transport needs.
        await using var sentry = new OtlpReceiver();
        await using var bot = await TestBot.StartAsync(postgres.Cluster, new Dictionary<string, string?>
        {
            ["Sentry__Dsn"] = $"http://0123456789abcdef0123456789abcdef@127.0.0.1:{sentry.Port}/42",
            ["Sentry__Release"] = "bot@sha256:0123456789abcdef",
            ["FaultInjection__Enabled"] = "true",
            ["FaultInjection__ThrowOnUpdateIds"] = Poison.ToString(CultureInfo.InvariantCulture),
            ["Processing__MaxAttempts"] = "1",
        });
        await bot.Process.WaitForOutputAsync("Error tracking on");

        using (var response = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(Poison, 77))))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        var envelope = await sentry.WaitForAsync(
            () => Envelopes(sentry).FirstOrDefault(e => e.Contains("dead-lettered", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "a dead-letter event");
        Assert.Contains(sentry.Posts, p => p.Path == "/api/42/envelope/");
        var item = envelope.Split('\n').Select(Json).First(j => j?.TryGetProperty("exception", out _) == true)!.Value;

        Assert.Equal("bot@sha256:0123456789abcdef", item.GetProperty("release").GetString());
        Assert.Equal("production", item.GetProperty("environment").GetString());
        Assert.Equal("error", item.GetProperty("level").GetString());
        var exception = item.GetProperty("exception").GetProperty("values").EnumerateArray().Last();
        Assert.Equal("System.Net.Http.HttpRequestException", exception.GetProperty("type").GetString());
        Assert.Contains("/bot[redacted]/sendMessage", exception.GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.True(exception.GetProperty("stacktrace").GetProperty("frames").GetArrayLength() > 0, "the exception's stack");

        await using var connection = new Npgsql.NpgsqlConnection(bot.ConnectionString);
        await connection.OpenAsync();
        await using var query = new Npgsql.NpgsqlCommand($"SELECT trace_context FROM inbox WHERE update_id = {Poison}", connection);
        var stored = (string)(await query.ExecuteScalarAsync())!;
        var traceId = stored.Split('-')[1];
        Assert.Equal(traceId, item.GetProperty("contexts").GetProperty("trace").GetProperty("trace_id").GetString());
        Assert.Equal(traceId, item.GetProperty("tags").GetProperty("trace_id").GetString());

        BotProcess.ThrowIfLeaked(BotProcess.SecretsIn(bot.Settings), string.Join('\n', Envelopes(sentry)));
        BotProcess.ThrowIfLeaked(BotProcess.SecretsIn(bot.Settings), bot.Process.Output);
    }

    [Fact]
    public async Task A_value_that_is_not_a_dsn_stops_the_start_with_a_configuration_error_that_does_not_repeat_it()
    {
        var settings = await postgres.Cluster.CreateMigratedAsync(new Dictionary<string, string?> { ["Sentry__Dsn"] = "not-a-dsn-SENTINEL" });
        var run = await BotProcess.RunAsync(settings, TimeSpan.FromSeconds(30));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("Sentry:Dsn is not a Sentry DSN", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SENTINEL", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Every envelope the stand-in received, decompressed.</summary>
    private static List<string> Envelopes(OtlpReceiver sentry) =>
        [.. sentry.Posts.Where(p => p.Path.EndsWith("/envelope/", StringComparison.Ordinal)).Select(p => Gunzip(p.Body))];

    private static string Gunzip(byte[] body)
    {
        if (body is not [0x1f, 0x8b, ..])
        {
            return Encoding.UTF8.GetString(body);
        }

        using var zip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(zip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static JsonElement? Json(string line)
    {
        try
        {
            return JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
