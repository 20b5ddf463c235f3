using System.Diagnostics;
using System.Net;
using Bot.Tests.Integration.Infrastructure;

namespace Bot.Tests.Integration.Hosting;

public sealed class ShutdownTests(SharedPostgres postgres) : IAsyncLifetime
{
    private static readonly HttpClient Http = new();
    private TestBot bot = null!;

    public async ValueTask InitializeAsync() =>
        bot = await TestBot.StartAsync(postgres.Cluster, new Dictionary<string, string?> { ["Shutdown__DrainDelaySeconds"] = "2" });

    public ValueTask DisposeAsync() => bot.DisposeAsync();

    [Fact]
    public async Task On_sigterm_readiness_fails_first_the_webhook_still_takes_updates_then_the_process_exits_cleanly()
    {
        using (var live = await Http.GetAsync(new Uri(bot.Process.InternalUri, "healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        bot.Process.Terminate();
        await Task.Delay(300);

        using (var ready = await Http.GetAsync(new Uri(bot.Process.InternalUri, "readyz")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        // Late deliveries during the drain are still made durable.
        using (var late = await Http.SendAsync(Updates.Post(bot.Process.WebhookUri, Updates.Message(77, 7))))
        {
            Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        }

        var exitCode = await bot.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, exitCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"exited after {clock.Elapsed}, before the drain delay");
        Assert.Equal(1, await bot.ScalarAsync("SELECT count(*) FROM inbox WHERE update_id = 77"));
    }
}
