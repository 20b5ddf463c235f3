using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Features.MiniApp;

/// <summary>The admin Mini App (section "MiniApp"): where Telegram opens it, how old its initData may be, its limits.</summary>
public sealed class MiniAppOptions
{
    public const string Section = "MiniApp";

    /// <summary>
    /// The app's public address, https and ending in /app/ (https://bot.example.com/app/): what /admin's button and the
    /// admins' menu button open. Unset: the app is served, but the bot offers no button for it.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>How old an initData may be. Telegram signs a new one each time the app is opened.</summary>
    [Range(60, 86400, ErrorMessage = "MiniApp:InitDataMaxAgeSeconds must be between 60 and 86400")]
    public int InitDataMaxAgeSeconds { get; set; } = 3600;

    /// <summary>API requests per Telegram user and minute.</summary>
    [Range(1, 10_000, ErrorMessage = "MiniApp:RequestsPerMinute must be between 1 and 10000")]
    public int RequestsPerMinute { get; set; } = 120;

    /// <summary>Failed authentications per client address and minute, before the address is answered 429.</summary>
    [Range(1, 10_000, ErrorMessage = "MiniApp:FailedAuthenticationsPerMinute must be between 1 and 10000")]
    public int FailedAuthenticationsPerMinute { get; set; } = 20;

    /// <summary>How long a chat admin's rights (getChatMember) are believed: at most a minute.</summary>
    [Range(0, 60, ErrorMessage = "MiniApp:ChatAdminCacheSeconds must be between 0 and 60")]
    public int ChatAdminCacheSeconds { get; set; } = 60;

    public TimeSpan InitDataMaxAge => TimeSpan.FromSeconds(InitDataMaxAgeSeconds);
}

[OptionsValidator]
public sealed partial class MiniAppOptionsAttributesValidator : IValidateOptions<MiniAppOptions>;

/// <summary>The Url, when set, is an absolute https address of the app's folder (Telegram opens only https).</summary>
public sealed class MiniAppOptionsValidator : IValidateOptions<MiniAppOptions>
{
    public ValidateOptionsResult Validate(string? name, MiniAppOptions options)
    {
        if (options.Url is null)
        {
            return ValidateOptionsResult.Success;
        }

        return Uri.TryCreate(options.Url, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps && url.AbsolutePath.EndsWith("/app/", StringComparison.Ordinal)
            && string.IsNullOrEmpty(url.Query) && string.IsNullOrEmpty(url.Fragment) && string.IsNullOrEmpty(url.UserInfo)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("MiniApp:Url must be an https address ending in /app/ (https://bot.example.com/app/), without a query or fragment");
    }
}
