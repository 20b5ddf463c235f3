using Microsoft.Extensions.Options;

namespace Bot.Hosting;

/// <summary>A failure that stops the process with a one-line reason on stderr and a non-zero exit code.</summary>
public sealed class StartupException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Configuration = 3;
}

public static partial class StartupError
{
    /// <summary>
    /// Validates options bound outside the host (the migrate and webhook commands) with the same validators the
    /// host uses, plus any failures the command adds, and throws them all together.
    /// </summary>
    public static void ThrowIfInvalid<TOptions>(string section, TOptions options, IEnumerable<string> extraFailures, params IValidateOptions<TOptions>[] validators)
        where TOptions : class
    {
        var failures = validators.Select(v => v.Validate(null, options)).Where(r => r.Failed).SelectMany(r => r.Failures!)
            .Concat(extraFailures).Distinct().ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(section, typeof(TOptions), failures);
        }
    }

    /// <summary>Joins every options failure into one line; the messages name keys, never values.</summary>
    public static string Describe(OptionsValidationException exception) =>
        "configuration error: " + string.Join("; ", exception.Failures.Select(Trim).Distinct());

    // The generated validators put the member name in front ("BotToken: ..."); our messages already name the key.
    private static string Trim(string failure) => MemberPrefix().Replace(failure, "");

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_.\[\]]+: ")]
    private static partial System.Text.RegularExpressions.Regex MemberPrefix();
}
