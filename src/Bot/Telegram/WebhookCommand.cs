using Bot.Hosting;
using Telegram.Bot;
using Telegram.Bot.Exceptions;

namespace Bot.Telegram;

/// <summary><c>Bot webhook set|delete|info</c>: registers the webhook with its secret, removes it, or shows Telegram's view of it.</summary>
public static class WebhookCommand
{
    public const string Usage = "usage: Bot webhook set|delete|info";

    /// <summary>
    /// Runs the command; after <c>set</c>, <paramref name="publishCommands"/> (when given) registers the bot's command
    /// menu with the same client, so a new deployment's menu matches its commands.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args, TextWriter output, CancellationToken cancellationToken,
        Func<ITelegramBotClient, IConfiguration, CancellationToken, Task>? publishCommands = null)
    {
        if (args.Length != 1 || args[0] is not ("set" or "delete" or "info"))
        {
            throw new StartupException(Usage, ExitCodes.Usage);
        }

        var configuration = BotConfiguration.BuildForCommand([]);
        var options = LoadOptions(configuration, requireWebhook: args[0] == "set");
        using var redactor = new SecretRedactor(configuration);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var client = TelegramClients.Create(options, http, cancellationToken);
        try
        {
            switch (args[0])
            {
                case "set":
                    await client.SetWebhook(
                        options.WebhookUrl!, maxConnections: options.MaxConnections,
                        allowedUpdates: options.AllowedUpdateKinds().Select(UpdateClassifier.ToUpdateType),
                        dropPendingUpdates: false, secretToken: options.WebhookSecret, cancellationToken: cancellationToken);
                    output.WriteLine($"webhook set: {options.WebhookUrl} (max_connections {options.MaxConnections}, allowed_updates {options.AllowedUpdates})");
                    if (publishCommands is not null)
                    {
                        await publishCommands(client, configuration, cancellationToken);
                        output.WriteLine("command menu set");
                    }

                    break;
                case "delete":
                    // Pending updates stay with Telegram: a later webhook or getUpdates still receives them.
                    await client.DeleteWebhook(dropPendingUpdates: false, cancellationToken);
                    output.WriteLine("webhook deleted");
                    break;
            }

            var info = await client.GetWebhookInfo(cancellationToken);
            output.WriteLine($"url: {(string.IsNullOrEmpty(info.Url) ? "(none)" : info.Url)}");
            output.WriteLine($"pending_update_count: {info.PendingUpdateCount}");
            output.WriteLine($"max_connections: {info.MaxConnections?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}");
            output.WriteLine($"allowed_updates: {(info.AllowedUpdates is { Length: > 0 } kinds ? string.Join(",", kinds.Select(k => UpdateClassifier.ToSnakeCase(k.ToString()))) : "(all)")}");
            output.WriteLine($"last_error: {(info.LastErrorDate is { } at ? $"{at:u} {info.LastErrorMessage}" : "-")}");
            return ExitCodes.Success;
        }
        catch (ApiRequestException exception)
        {
            throw new StartupException($"Telegram refused webhook {args[0]}: {redactor.Redact(exception.Message)}");
        }
        catch (RequestException exception)
        {
            throw new StartupException($"cannot reach the Bot API at {options.ApiBaseUrl}: {redactor.Redact(exception.InnerException?.Message ?? exception.Message)}");
        }
    }

    private static TelegramOptions LoadOptions(IConfiguration configuration, bool requireWebhook)
    {
        var options = configuration.GetSection(TelegramOptions.Section).Get<TelegramOptions>() ?? new TelegramOptions();
        var failures = new List<string>();
        if (requireWebhook && string.IsNullOrEmpty(options.WebhookUrl))
        {
            failures.Add("Telegram:WebhookUrl is missing (set Telegram__WebhookUrl)");
        }

        if (requireWebhook && string.IsNullOrEmpty(options.WebhookSecret))
        {
            failures.Add("Telegram:WebhookSecret is missing (set Telegram__WebhookSecret or the secret file Telegram__WebhookSecret)");
        }

        StartupError.ThrowIfInvalid(TelegramOptions.Section, options, failures, new TelegramOptionsValidator(), new TelegramModeValidator());
        return options;
    }
}
