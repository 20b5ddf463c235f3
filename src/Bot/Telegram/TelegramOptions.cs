using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Telegram;

public enum UpdateMode
{
    Webhook,
    Polling,
}

public sealed class TelegramOptions
{
    public const string Section = "Telegram";

    // Validation messages name the setting and its two usual sources; they never echo a value.
    [Required(ErrorMessage = "Telegram:BotToken is missing (set Telegram__BotToken or the secret file Telegram__BotToken)")]
    [RegularExpression(@"^\d{1,20}:[A-Za-z0-9_-]{20,200}$",
        ErrorMessage = "Telegram:BotToken is not a bot token of the form <id>:<secret> (from @BotFather)")]
    public string? BotToken { get; set; }

    /// <summary>Telegram sends it as X-Telegram-Bot-Api-Secret-Token: 1 to 256 of A-Z, a-z, 0-9, _ and -.</summary>
    [RegularExpression("^[A-Za-z0-9_-]{16,256}$",
        ErrorMessage = "Telegram:WebhookSecret must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -")]
    public string? WebhookSecret { get; set; }

    [Url(ErrorMessage = "Telegram:WebhookUrl is not an absolute URL")]
    public string? WebhookUrl { get; set; }

    [Required(ErrorMessage = "Telegram:ApiBaseUrl is missing")]
    [Url(ErrorMessage = "Telegram:ApiBaseUrl is not an absolute URL")]
    public string ApiBaseUrl { get; set; } = "https://api.telegram.org";

    public UpdateMode Mode { get; set; } = UpdateMode.Webhook;
}

[OptionsValidator]
public sealed partial class TelegramOptionsValidator : IValidateOptions<TelegramOptions>;

/// <summary>Rules that depend on more than one setting.</summary>
public sealed class TelegramModeValidator : IValidateOptions<TelegramOptions>
{
    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        if (options.Mode == UpdateMode.Webhook && string.IsNullOrEmpty(options.WebhookSecret))
        {
            return ValidateOptionsResult.Fail(
                "Telegram:WebhookSecret is missing; webhook mode needs it (set Telegram__WebhookSecret or the secret file Telegram__WebhookSecret)");
        }

        return ValidateOptionsResult.Success;
    }
}
