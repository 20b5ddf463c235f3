using Bot;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Bot.Tests.Unit.Hosting;

/// <summary>The service as Program composes it, with settings that need nothing running (nothing is started).</summary>
internal static class ComposedService
{
    public static readonly string[] Settings =
    [
        "--Database:ConnectionString=Host=127.0.0.1;Port=9;Database=bot;Username=bot",
        "--Telegram:BotToken=123456789:unit-test-token-not-real",
        "--Telegram:WebhookSecret=unit-test-webhook-secret",
        "--Telegram:Mode=Webhook",
        "--Telegram:PublicUrl=https://bot.example.com",
        "--Secrets:Directory=/nonexistent",
        "--Config:Directory=/nonexistent",
    ];

    public static WebApplication Build(Action<WebApplicationBuilder>? compose = null) => BotApplication.Build(Settings, compose);

    /// <summary>Every route, as routing sees it.</summary>
    public static List<RouteEndpoint> Endpoints(WebApplication app) =>
        [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).Cast<RouteEndpoint>()];
}
