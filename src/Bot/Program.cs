using Bot.Health;
using Bot.Hosting;
using Bot.Ingest;
using Bot.Storage;
using Bot.Telegram;

return await Cli.RunAsync(args, ServeAsync);

static async Task<int> ServeAsync(string[] args)
{
    var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
    {
        Args = args,
        ContentRootPath = AppContext.BaseDirectory,
    });
    builder.Configuration.AddBotSources(args);

    builder.AddBotLogging();
    builder.AddHosting();
    builder.AddStorage();
    builder.AddTelegramOptions();
    builder.AddIngest();

    await using var app = builder.Build();
    app.ValidateOptions();
    await app.EnsureSchemaAsync();

    app.UsePortGate();
    app.MapHealth();
    app.MapWebhook();

    await app.RunAsync();
    return ExitCodes.Success;
}
