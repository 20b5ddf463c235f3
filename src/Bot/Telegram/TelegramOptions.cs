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

    /// <summary>
    /// Every Bot API call goes to Telegram's test environment (<c>/bot&lt;token&gt;/test/METHOD</c>), a separate
    /// world of users, chats and bots whose token comes from the test environment's @BotFather; for staging.
    /// </summary>
    public bool UseTestEnvironment { get; set; }

    /// <summary>The update kinds Telegram sends (setWebhook and getUpdates), comma-separated, Telegram's names.</summary>
    [Required(ErrorMessage = "Telegram:AllowedUpdates is missing")]
    public string AllowedUpdates { get; set; } = "message,edited_message,callback_query,chat_join_request,chat_member,my_chat_member";

    /// <summary>setWebhook's max_connections: how many deliveries Telegram makes at once (1-100).</summary>
    [Range(1, 100, ErrorMessage = "Telegram:MaxConnections must be between 1 and 100")]
    public int MaxConnections { get; set; } = 40;

    /// <summary>How long a call that changes something may take before its outcome counts as unknown.</summary>
    [Range(1, 120, ErrorMessage = "Telegram:SendTimeoutSeconds must be between 1 and 120")]
    public int SendTimeoutSeconds { get; set; } = 15;

    /// <summary>The address of a Bot API method as Telegram.Bot builds it, the test environment's when that is on.</summary>
    public Uri MethodUri(string method) =>
        new($"{ApiBaseUrl.TrimEnd('/')}/bot{BotToken}/{(UseTestEnvironment ? "test/" : "")}{method}");

    public IReadOnlyList<string> AllowedUpdateKinds() =>
        AllowedUpdates.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

[OptionsValidator]
public sealed partial class TelegramOptionsValidator : IValidateOptions<TelegramOptions>;

/// <summary>Rules that depend on more than one setting.</summary>
public sealed class TelegramModeValidator : IValidateOptions<TelegramOptions>
{
    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        var failures = new List<string>();
        if (options.Mode == UpdateMode.Webhook && string.IsNullOrEmpty(options.WebhookSecret))
        {
            failures.Add("Telegram:WebhookSecret is missing; webhook mode needs it (set Telegram__WebhookSecret or the secret file Telegram__WebhookSecret)");
        }

        var unknown = options.AllowedUpdateKinds().Where(k => !Bot.Telegram.UpdateClassifier.IsKnownKind(k)).ToList();
        if (unknown.Count > 0)
        {
            failures.Add($"Telegram:AllowedUpdates names unknown update kinds: {string.Join(", ", unknown)}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
