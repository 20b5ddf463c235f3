using System.ComponentModel.DataAnnotations;
using Bot.Features;
using Microsoft.Extensions.Options;

namespace Bot.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Bearer token of the admin HTTP API (a secret). Unset: every admin request is refused.</summary>
    public string? Token { get; set; }

    /// <summary>Telegram users allowed to run /broadcast, /cancel and /stats, comma-separated (Admin__UserIds).</summary>
    public string? UserIds { get; set; }

    /// <summary>Admin API requests allowed per minute (all callers together; the port is internal).</summary>
    [Range(1, 100_000, ErrorMessage = "Admin:RequestsPerMinute must be between 1 and 100000")]
    public int RequestsPerMinute { get; set; } = 120;

    public IReadOnlyList<long> Users => IdList.Parse(UserIds, "Admin:UserIds");

    public bool IsAdmin(long userId) => Users.Contains(userId);
}

[OptionsValidator]
public sealed partial class AdminOptionsAttributesValidator : IValidateOptions<AdminOptions>;

public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        try
        {
            _ = options.Users;
        }
        catch (FormatException exception)
        {
            return ValidateOptionsResult.Fail(exception.Message);
        }

        return options.Token is { Length: > 0 and < 16 }
            ? ValidateOptionsResult.Fail("Admin:Token must be at least 16 characters")
            : ValidateOptionsResult.Success;
    }
}
