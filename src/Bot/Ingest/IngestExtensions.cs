using Bot.Hosting;
using Bot.Telegram;
using Microsoft.Extensions.Options;

namespace Bot.Ingest;

public static class IngestExtensions
{
    /// <summary>The webhook and its group-commit writer into the inbox, and in polling mode the leader's getUpdates loop.</summary>
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<IngestOptions>, IngestBudgetValidator>();
        builder.Services.AddSingleton<IngestBudget>();
        builder.Services.AddSingleton<IInboxStore, InboxStore>();
        builder.Services.AddSingleton<InboxWriter>().AddClosedLogger<InboxWriter>();
        builder.Services.AddSingleton(sp => new WebhookSecret(
            sp.GetRequiredService<IOptions<TelegramOptions>>().Value.WebhookSecret
            ?? throw new InvalidOperationException("Telegram:WebhookSecret is missing")));
        builder.Services.AddSingleton<WebhookEndpoint>().AddClosedLogger<WebhookEndpoint>();
        if (builder.Configuration.GetSection(TelegramOptions.Section).Get<TelegramOptions>()?.Mode == UpdateMode.Polling)
        {
            builder.Services.AddSingleton<Coordination.ILeaderSingleton, UpdatePoller>().AddClosedLogger<UpdatePoller>();
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapWebhook(this IEndpointRouteBuilder app)
    {
        // In polling mode Telegram refuses to deliver to a webhook, so none is served.
        if (app.ServiceProvider.GetRequiredService<IOptions<TelegramOptions>>().Value.Mode != UpdateMode.Webhook)
        {
            return app;
        }

        var endpoint = app.ServiceProvider.GetRequiredService<WebhookEndpoint>();
        app.MapPost(IngestOptions.WebhookPath, endpoint.HandleAsync).WithName("TelegramWebhook");
        return app;
    }
}
