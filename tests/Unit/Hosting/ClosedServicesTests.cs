using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Text.RegularExpressions;
using Bot.Coordination;
using Bot.Hosting;
using Bot.Processing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Tests.Unit.Hosting;

/// <summary>
/// What the start path resolves is made without the runtime's type loader: no <c>ILogger&lt;T&gt;</c> or options service
/// of a type the bot can name is made from the framework's open generics (<c>ClosedServices</c>). The container reports
/// each service it builds through its event source, with the implementation types; an open generic shows there as its
/// framework implementation (<c>Logger`1[...]</c>, <c>OptionsMonitor`1[...]</c>).
/// </summary>
public sealed partial class ClosedServicesTests
{
    // Internal to the framework, so they cannot be named in a closed registration: made from the open generic.
    private static readonly string[] CannotBeNamed =
    [
        "Microsoft.AspNetCore.Hosting.GenericWebHostServiceOptions",
        "Microsoft.Extensions.DependencyInjection.MetricsServiceExtensions+NoOpOptions",
        "Microsoft.Extensions.Http.Resilience.Internal.PipelineKeyOptions",
        "Microsoft.Extensions.Options.StartupValidatorOptions",
        "Polly.DependencyInjection.ConfigureResiliencePipelineRegistryOptions`1[Microsoft.Extensions.Http.Resilience.Internal.HttpKey]",
        "Polly.Registry.ResiliencePipelineRegistryOptions`1[Microsoft.Extensions.Http.Resilience.Internal.HttpKey]",
        "Microsoft.Extensions.Hosting.Internal.Host",
        "Microsoft.AspNetCore.RateLimiting.RateLimitingMiddleware",
        "Microsoft.AspNetCore.Routing.EndpointMiddleware",
        "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.CertificatePathWatcher",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.PinnedBlockMemoryPoolFactory",
    ];

    [Fact]
    public async Task The_start_path_makes_no_nameable_logger_or_options_service_from_an_open_generic()
    {
        using var listener = new ContainerEvents();
        await using var app = ComposedService.Build();
        listener.Provider = app.Services.GetHashCode();

        // What the host resolves before the ports listen, and what the leader and the workers resolve when they start.
        app.ValidateOptions();
        _ = app.Services.GetServices<IHostedService>().ToList();
        _ = app.Services.GetRequiredService<LeaderElection>();
        _ = app.Services.GetRequiredService<InboxWorker>();
        _ = app.Services.GetRequiredService<NotificationListener>();
        _ = app.Services.GetRequiredService<IServer>();
        _ = app.Services.GetServices<ILeaderSingleton>().ToList();
        _ = app.Services.GetServices<IUpdateHandler>().ToList();
        _ = app.Services.GetRequiredService<IOptions<HostOptions>>().Value;

        var open = listener.OpenGenericArguments().Except(CannotBeNamed).Order().ToList();
        Assert.True(open.Count == 0,
            "made from an open generic (add them to ClosedServices, or to CannotBeNamed if internal): " + string.Join(", ", open));
        // The listener saw the container at all (a listener that saw nothing would pass the check above).
        Assert.Contains("Microsoft.Extensions.Hosting.Internal.Host", listener.OpenGenericArguments());
    }

    [Fact]
    public void A_closed_options_registration_keeps_the_framework_behaviour()
    {
        var services = new ServiceCollection();
        services.AddOptions<Sample>().Configure(o => o.Value = 1).PostConfigure(o => o.Value *= 10).Closed();
        services.AddOptions<Sample>("named").Configure(o => o.Value = 2);
        services.AddSingleton<IValidateOptions<Sample>>(new RejectNegative());
        using var provider = services.BuildServiceProvider();

        Assert.Equal(10, provider.GetRequiredService<IOptions<Sample>>().Value.Value);
        Assert.Same(provider.GetRequiredService<IOptions<Sample>>().Value, provider.GetRequiredService<IOptions<Sample>>().Value);
        var monitor = provider.GetRequiredService<IOptionsMonitor<Sample>>();
        Assert.Equal(10, monitor.CurrentValue.Value);
        Assert.Equal(2, monitor.Get("named").Value);
        Assert.Same(monitor, provider.GetRequiredService<IOptionsMonitor<Sample>>());

        var rejected = new ServiceCollection();
        rejected.AddOptions<Sample>().Configure(o => o.Value = -1).Closed();
        rejected.AddSingleton<IValidateOptions<Sample>>(new RejectNegative());
        using var rejecting = rejected.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => rejecting.GetRequiredService<IOptions<Sample>>().Value);
    }

    [Fact]
    public void A_closed_logger_has_the_category_of_its_type()
    {
        var services = new ServiceCollection();
        var provider = new CategoryRecorder();
        services.AddLogging(l => l.AddProvider(provider)).AddClosedLogger<Sample>().AddClosedLogger<Sample>();
        using var built = services.BuildServiceProvider();

        built.GetRequiredService<ILogger<Sample>>().LogInformation("x");

        Assert.Single(services, d => d.ServiceType == typeof(ILogger<Sample>));
        Assert.Contains("Bot.Tests.Unit.Hosting.ClosedServicesTests.Sample", provider.Categories);
    }

    public sealed class Sample
    {
        public int Value { get; set; }
    }

    private sealed class RejectNegative : IValidateOptions<Sample>
    {
        public ValidateOptionsResult Validate(string? name, Sample options) =>
            options.Value < 0 ? ValidateOptionsResult.Fail("negative") : ValidateOptionsResult.Success;
    }

    private sealed class CategoryRecorder : ILoggerProvider
    {
        public ConcurrentBag<string> Categories { get; } = [];

        public ILogger CreateLogger(string categoryName)
        {
            Categories.Add(categoryName);
            return Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        }

        public void Dispose()
        {
        }
    }

    private sealed partial class ContainerEvents : EventListener
    {
        private readonly ConcurrentQueue<(int Provider, string CallSite)> callSites = new();

        public int Provider { get; set; }

        // A long call site comes in chunks, one event each, in order: joined, they are the whole description.
        public IEnumerable<string> OpenGenericArguments() =>
            FrameworkGeneric().Matches(string.Concat(callSites.Where(c => c.Provider == Provider).Select(c => c.CallSite)))
                .Select(m => m.Groups[1].Value)
                .Distinct();

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Extensions-DependencyInjection")
            {
                EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "CallSiteBuilt" && eventData.Payload is { Count: >= 5 } payload)
            {
                callSites.Enqueue((Convert.ToInt32(payload[4], System.Globalization.CultureInfo.InvariantCulture), payload[1]?.ToString() ?? ""));
            }
        }

        // An implementation made from one of the framework's open generics, and its type argument.
        [GeneratedRegex(@"""implementationType"":\s*""Microsoft\.Extensions\.(?:Logging\.Logger|Options\.(?:OptionsMonitor|OptionsFactory|OptionsCache|UnnamedOptionsManager))`1\[(.+?)\]""")]
        private static partial Regex FrameworkGeneric();
    }
}
