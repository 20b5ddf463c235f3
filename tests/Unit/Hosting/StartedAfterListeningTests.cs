using Bot.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// A service started after listening is made only once every hosted service before it (the server included) has
/// started, is stopped with the host, and a failure of its background task stops the host as before.
/// </summary>
public sealed class StartedAfterListeningTests
{
    [Fact]
    public async Task It_is_made_after_the_host_has_started_and_stopped_with_it()
    {
        var events = new Events();
        using var host = Host(events, s => s.AddHostedServiceAfterListening<Worker>());

        await host.StartAsync(TestContext.Current.CancellationToken);
        await events.WaitForAsync("worker running");
        await host.StopAsync(TestContext.Current.CancellationToken);

        // "server started" stands for every hosted service registered after it (the web host's is the last one).
        Assert.Equal(["server started", "host started", "worker made", "worker running", "worker stopped"], events.All);
    }

    [Fact]
    public async Task A_failed_background_task_stops_the_host()
    {
        var events = new Events();
        using var host = Host(events, s => s.AddHostedServiceAfterListening<FailingWorker>());

        await host.StartAsync(TestContext.Current.CancellationToken);
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await Task.Delay(Timeout.Infinite, stopping).ContinueWith(_ => { }, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.True(stopping.IsCancellationRequested);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_host_stopped_before_it_started_never_makes_it()
    {
        var events = new Events();
        using var host = Host(events, s => s.AddHostedServiceAfterListening<Worker>(), failServer: true);

        await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain("worker made", events.All);
    }

    private static IHost Host(Events events, Action<IServiceCollection> add, bool failServer = false)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(events);
        add(builder.Services);
        builder.Services.AddSingleton<IHostedService>(new Server(events, failServer));
        var host = builder.Build();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => events.Add("host started"));
        return host;
    }

    private sealed class Events
    {
        private readonly List<string> all = [];
        private readonly SemaphoreSlim added = new(0);

        public List<string> All
        {
            get
            {
                lock (all)
                {
                    return [.. all];
                }
            }
        }

        public void Add(string name)
        {
            lock (all)
            {
                all.Add(name);
            }

            added.Release();
        }

        public async Task WaitForAsync(string name)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!All.Contains(name))
            {
                Assert.True(DateTime.UtcNow < deadline, $"no '{name}' in {string.Join(", ", All)}");
                await added.WaitAsync(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private sealed class Server(Events events, bool fail) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (fail)
            {
                throw new InvalidOperationException("the server did not start");
            }

            events.Add("server started");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class Worker : BackgroundService
    {
        private readonly Events events;

        public Worker(Events events)
        {
            this.events = events;
            events.Add("worker made");
        }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            events.Add("worker running");
            await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => events.Add("worker stopped"), TaskScheduler.Default);
        }
    }

    private sealed class FailingWorker : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            throw new InvalidOperationException("the worker failed");
        }
    }
}
