using Bot;
using Bot.Admin;
using Bot.Health;
using Bot.Hosting;
using Bot.Ingest;
using Bot.Processing;
using Bot.Storage;
using Bot.Telegram;
using Bot.Telemetry;

return await Cli.RunAsync(args, ServeAsync);

static async Task<int> ServeAsync(string[] args)
{
    await using var app = BotApplication.Build(args);
    app.ValidateOptions();
    await app.StartCheckedAsync();
    await app.WaitForShutdownAsync();
    return ExitCodes.Success;
}

namespace Bot
{
    /// <summary>The bot's composition, for the process above and for tests that compose it without starting it.</summary>
    public static class BotApplication
    {
        /// <summary>The service, composed: one line per concern, then the middleware and the routes of each surface.</summary>
        public static WebApplication Build(string[] args)
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
            builder.AddHosting();
            builder.AddStorage();
            builder.AddTelegramOptions();
            builder.AddIngest();
            builder.AddProcessing();
            builder.AddLeaderSingletons();
            builder.AddAdminApi();

            var app = builder.Build();
            app.UseRouting();
            app.UseAdminApi();

            // Every route belongs to exactly one surface; the port a request arrived on decides which it may reach.
            app.MapSurface(Surface.Public).MapWebhook();
            var internalPort = app.MapSurface(Surface.Internal);
            internalPort.MapHealth();
            internalPort.MapAdminApi();
            return app;
        }
    }
}
