using Bot;
using Bot.Admin;
using Bot.Coordination;
using Bot.Features;
using Bot.Features.Broadcasts;
using Bot.Features.DiscordSync;
using Bot.Features.FloodControl;
using Bot.Features.Help;
using Bot.Features.JoinGate;
using Bot.Features.MiniApp;
using Bot.Features.Ping;
using Bot.Features.Stats;
using Bot.Features.Subscriptions;
using Bot.Health;
using Bot.Hosting;
using Bot.Ingest;
using Bot.Outbox;
using Bot.Processing;
using Bot.Storage;
using Bot.Telegram;
using Bot.Telemetry;

return await Cli.RunAsync(args, ServeAsync, BotApplication.PublishCommandsAsync);

static async Task<int> ServeAsync(string[] args)
{
    StartupChecks.BeginStartupHeap();
    await using var app = BotApplication.Build(args);
    app.ValidateOptions();
    await app.StartCheckedAsync();
    var release = app.ReleaseStartupMemoryAsync();
    await app.WaitForShutdownAsync();
    await release;
    return ExitCodes.Success;
}

namespace Bot
{
    /// <summary>The bot's composition, for the process above and for tests that compose it without starting it.</summary>
    public static class BotApplication
    {
        /// <summary>
        /// The service, composed: one line per concern, then the middleware and the routes of each surface.
        /// <paramref name="compose"/> adds services before the container is built (tests: the OpenAPI generator).
        /// </summary>
        public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? compose = null)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
            {
                // The built-in appsettings files are part of the image and never change: no file watchers for them.
                Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"],
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Configuration.AddBotSources(args);

            builder.AddBotLogging();
            builder.AddTelemetry();
            builder.AddErrorTracking();
            builder.AddHosting();
            builder.AddStorage();
            builder.AddTelegram();
            builder.AddIngest();
            builder.AddProcessing();
            builder.AddOutbox();
            builder.AddCoordination();
            builder.AddAdminApi();
            builder.AddFeatures(Features());
            compose?.Invoke(builder);

            var app = builder.Build();
            app.UseRouting();
            app.UseAdminApi();

            // Every route belongs to exactly one surface; the port a request arrived on decides which it may reach.
            var publicPort = app.MapSurface(Surface.Public);
            publicPort.MapWebhook();
            foreach (var routes in app.Services.GetServices<IPublicRoutes>())
            {
                routes.Map(publicPort);
            }

            var internalPort = app.MapSurface(Surface.Internal);
            internalPort.MapHealth();
            internalPort.MapAdminApi();
            return app;
        }

        /// <summary>
        /// The features, in order of precedence: each update is offered to their handlers in this order, and the first
        /// that takes it handles it. Adding a feature is its folder and one line here.
        /// </summary>
        public static FeatureList Features() => new FeatureList()
            .Add<FloodControlFeature>()
            .Add<DiscordSyncFeature>()
            .Add<JoinGateFeature>()
            .Add<BroadcastsFeature>()
            .Add<StatsFeature>()
            .Add<SubscriptionsFeature>()
            .Add<PingFeature>()
            .Add<MiniAppFeature>()
            .Add<HelpFeature>();

        /// <summary>Registers the command menu with Telegram (<c>Bot webhook set</c>).</summary>
        public static async Task PublishCommandsAsync(global::Telegram.Bot.ITelegramBotClient client, IConfiguration configuration, CancellationToken cancellationToken)
        {
            var admins = configuration.GetSection(AdminOptions.Section).Get<AdminOptions>()?.Users ?? [];
            // A flagged feature's commands are in the menu only when its flag is on for everyone.
            using var flags = new FeatureFlags(configuration, Microsoft.Extensions.Logging.Abstractions.NullLogger<FeatureFlags>.Instance);
            await Features().Commands().PublishAsync(client, new Texts(), admins, cancellationToken, flags.IsEnabledForAll);
        }
    }
}
