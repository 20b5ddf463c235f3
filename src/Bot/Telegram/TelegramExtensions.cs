using Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Telegram;

public static class TelegramExtensions
{
    /// <summary>The Bot API's settings and clients.</summary>
    public static IHostApplicationBuilder AddTelegram(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramOptions>().BindConfiguration(TelegramOptions.Section).ValidateOnStart().Closed();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramModeValidator>();
        builder.Services.AddTelegramClients();
        return builder;
    }
}
