using Microsoft.Extensions.Options;

namespace Bot.Telegram;

public static class TelegramExtensions
{
    public static IHostApplicationBuilder AddTelegramOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramOptions>().BindConfiguration(TelegramOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramModeValidator>();
        return builder;
    }
}
