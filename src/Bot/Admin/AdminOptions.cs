using System.ComponentModel.DataAnnotations;
using Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Admin;

public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>Bearer token of the admin HTTP API with the write scope (a secret). No token set: every admin request is refused.</summary>
    public string? Token { get; set; }

    /// <summary>The write token's previous value, accepted too while a rotation is under way (a secret).</summary>
    public string? PreviousToken { get; set; }

    /// <summary>Bearer token with the read scope: stats, broadcasts and the join audit, nothing that changes anything (a secret).</summary>
    public string? ReadToken { get; set; }

    /// <summary>The read token's previous value, during a rotation (a secret).</summary>
    public string? PreviousReadToken { get; set; }

    /// <summary>Telegram users allowed to run /broadcast, /cancel and /stats, comma-separated (Admin__UserIds).</summary>
    public string? UserIds { get; set; }

    /// <summary>Admin API requests allowed per minute to authenticated callers (all of them together; the port is internal).</summary>
    [Range(1, 100_000, ErrorMessage = "Admin:RequestsPerMinute must be between 1 and 100000")]
    public int RequestsPerMinute { get; set; } = 120;

    /// <summary>
    /// Failed authentications allowed per client address and minute (also the burst): beyond it the address gets
    /// 429 without its token being looked at, until the budget refills.
    /// </summary>
    [Range(1, 10_000, ErrorMessage = "Admin:FailedAuthenticationsPerMinute must be between 1 and 10000")]
    public int FailedAuthenticationsPerMinute { get; set; } = 10;

    public IReadOnlyList<long> Users => IdList.Parse(UserIds, "Admin:UserIds");

    public bool IsAdmin(long userId) => Users.Contains(userId);

    /// <summary>The configured tokens by name and scope, in a fixed order.</summary>
    public IEnumerable<(string Name, AdminScope Scope, string? Value, string Setting)> Tokens()
    {
        yield return ("write", AdminScope.Write, Token, "Admin:Token");
        yield return ("write-previous", AdminScope.Write, PreviousToken, "Admin:PreviousToken");
        yield return ("read", AdminScope.Read, ReadToken, "Admin:ReadToken");
        yield return ("read-previous", AdminScope.Read, PreviousReadToken, "Admin:PreviousReadToken");
    }
}

/// <summary>What a token may do: read (stats, broadcasts, the join audit) or write (also start and cancel broadcasts).</summary>
public enum AdminScope
{
    Read,
    Write,
}

[OptionsValidator]
public sealed partial class AdminOptionsAttributesValidator : IValidateOptions<AdminOptions>;

public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public const int MinimumTokenLength = 16;

    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        try
        {
            _ = options.Users;
        }
        catch (FormatException exception)
        {
            failures.Add(exception.Message);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, _, value, setting) in options.Tokens())
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            if (value.Length < MinimumTokenLength || value.Trim().Length != value.Length)
            {
                failures.Add($"{setting} must be at least {MinimumTokenLength} characters, without surrounding white space");
            }
            else if (!seen.Add(value))
            {
                // One value under two names would give it whichever scope is checked first.
                failures.Add($"{setting} has the same value as another admin token");
            }
        }

        if (string.IsNullOrEmpty(options.Token) && !string.IsNullOrEmpty(options.PreviousToken))
        {
            failures.Add("Admin:PreviousToken is set without Admin:Token");
        }

        if (string.IsNullOrEmpty(options.ReadToken) && !string.IsNullOrEmpty(options.PreviousReadToken))
        {
            failures.Add("Admin:PreviousReadToken is set without Admin:ReadToken");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
