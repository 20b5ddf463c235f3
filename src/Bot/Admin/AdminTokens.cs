using Bot.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Bot.Admin;

/// <summary>A configured admin token, known by its name and the hash of its value.</summary>
public sealed record AdminToken(string Name, AdminScope Scope, byte[] Hash);

/// <summary>
/// The admin API's bearer tokens, re-read whenever configuration reloads (the secrets directory and the mounted
/// config), so that a rotation takes effect without a restart: add the new value as Admin__Token and the old one
/// as Admin__PreviousToken, move the callers, then remove the previous one. A reload with an invalid token keeps
/// the tokens as they were and logs which setting is wrong (never its value).
/// </summary>
public sealed partial class AdminTokens : IDisposable
{
    private readonly IConfiguration configuration;
    private readonly ILogger<AdminTokens> logger;
    private readonly IDisposable subscription;
    private volatile AdminToken[] tokens;

    public AdminTokens(IConfiguration configuration, ILogger<AdminTokens> logger)
    {
        this.configuration = configuration;
        this.logger = logger;
        // At start the options validation has already refused a bad value; here it can only be valid.
        tokens = Read(out _) ?? [];
        subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>The token <paramref name="presented"/> is, or null. Every configured token is compared, in constant time.</summary>
    public AdminToken? Match(string presented)
    {
        Span<byte> hash = stackalloc byte[SecretHash.Size];
        SecretHash.Hash(presented, hash);
        AdminToken? match = null;
        foreach (var token in tokens)
        {
            // No early exit: the time taken does not tell which token, if any, was close.
            if (SecretHash.Equal(hash, token.Hash))
            {
                match = token;
            }
        }

        return match;
    }

    public void Dispose() => subscription.Dispose();

    private void Reload()
    {
        if (Read(out var failure) is { } fresh)
        {
            tokens = fresh;
        }
        else
        {
            LogInvalidReload(logger, failure!);
        }
    }

    private AdminToken[]? Read(out string? failure)
    {
        var options = configuration.GetSection(AdminOptions.Section).Get<AdminOptions>() ?? new AdminOptions();
        var result = new AdminOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            failure = result.FailureMessage;
            return null;
        }

        failure = null;
        return [.. options.Tokens().Where(t => !string.IsNullOrEmpty(t.Value))
            .Select(t => new AdminToken(t.Name, t.Scope, SecretHash.Of(t.Value!)))];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin tokens not reloaded, the previous ones stay in force: {Failure}")]
    private static partial void LogInvalidReload(ILogger logger, string failure);
}
