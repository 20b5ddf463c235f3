using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Features.DiscordSync;

/// <summary>
/// The Discord application and server of the role sync (section "Discord"). ClientSecret and BotToken are secrets
/// (key-per-file: Discord__ClientSecret, Discord__BotToken). Checked at start when the DiscordSync flag is on for
/// anyone; with it off nothing here is needed.
/// </summary>
public sealed class DiscordOptions
{
    public const string Section = "Discord";

    /// <summary>The OAuth2 application's client id (Discord's developer portal).</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The bot user's token, for the guild member role calls ("Bot …").</summary>
    public string? BotToken { get; set; }

    /// <summary>The server (guild) whose role is synced.</summary>
    public string? GuildId { get; set; }

    /// <summary>The role that main group members get.</summary>
    public string? RoleId { get; set; }

    /// <summary>This bot's public callback, as registered with the application: https://bot.example.com/discord/callback.</summary>
    public string? RedirectUri { get; set; }

    public string ApiBaseUrl { get; set; } = "https://discord.com/api/v10";

    public string AuthorizeUrl { get; set; } = "https://discord.com/oauth2/authorize";

    [Range(5, 10080, ErrorMessage = "Discord:ReconcileMinutes must be between 5 and 10080")]
    public int ReconcileMinutes { get; set; } = 60;

    /// <summary>Members per page of the reconcile's walk through the server (Discord allows up to 1000).</summary>
    [Range(1, 1000, ErrorMessage = "Discord:ReconcilePageSize must be between 1 and 1000")]
    public int ReconcilePageSize { get; set; } = 1000;

    [Range(1, 60, ErrorMessage = "Discord:RequestTimeoutSeconds must be between 1 and 60")]
    public int RequestTimeoutSeconds { get; set; } = 10;

    /// <summary>How long a /link stays usable.</summary>
    public static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);

    public ulong Guild => ulong.Parse(GuildId!, System.Globalization.CultureInfo.InvariantCulture);

    public ulong Role => ulong.Parse(RoleId!, System.Globalization.CultureInfo.InvariantCulture);
}

[OptionsValidator]
public sealed partial class DiscordOptionsAttributesValidator : IValidateOptions<DiscordOptions>;

/// <summary>With the flag on, every setting the flow needs, each in its shape; the values themselves are never repeated.</summary>
public sealed class DiscordOptionsValidator(FeatureFlags flags) : IValidateOptions<DiscordOptions>
{
    public ValidateOptionsResult Validate(string? name, DiscordOptions options)
    {
        if (!flags.Get(DiscordSyncFeature.FeatureName).Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var problems = new List<string>();
        foreach (var (key, value) in new[] { ("ClientId", options.ClientId), ("GuildId", options.GuildId), ("RoleId", options.RoleId) })
        {
            if (!ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                problems.Add($"Discord:{key} must be a Discord id (digits)");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ClientSecret))
        {
            problems.Add("Discord:ClientSecret is missing (the secret file Discord__ClientSecret)");
        }

        if (string.IsNullOrWhiteSpace(options.BotToken))
        {
            problems.Add("Discord:BotToken is missing (the secret file Discord__BotToken)");
        }

        foreach (var (key, value, https) in new[]
        {
            ("RedirectUri", options.RedirectUri, true), ("ApiBaseUrl", options.ApiBaseUrl, false), ("AuthorizeUrl", options.AuthorizeUrl, false),
        })
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || (https && !uri.AbsolutePath.EndsWith("/discord/callback", StringComparison.Ordinal)))
            {
                problems.Add(https
                    ? $"Discord:{key} must be the bot's public https://…/discord/callback URL"
                    : $"Discord:{key} must be an absolute http(s) URL");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
