namespace Bot.Processing;

/// <summary>
/// For drills only: the process ends abruptly (no shutdown, no release of its claims) when it is about to handle one
/// of the update ids in <c>FaultInjection:CrashOnUpdateIds</c>, as a handler that kills the process would; the
/// handler of one of <c>FaultInjection:ThrowOnUpdateIds</c> throws, with a message that quotes a Bot API URL and
/// so the token, as a failed call's exception may (the error tracking and redaction drills). It is active only
/// when <c>FaultInjection:Enabled</c> is true, and says so loudly at start. Never set in a deployment.
/// </summary>
public sealed partial class FaultInjection
{
    public const string Section = "FaultInjection";

    private readonly HashSet<long> crashOn;
    private readonly HashSet<long> throwOn;
    private readonly string? token;

    public FaultInjection(IConfiguration configuration, ILogger<FaultInjection> logger)
    {
        var section = configuration.GetSection(Section);
        var enabled = section.GetValue<bool>("Enabled");
        crashOn = enabled ? [.. Bot.Hosting.IdList.Parse(section["CrashOnUpdateIds"], "FaultInjection:CrashOnUpdateIds")] : [];
        throwOn = enabled ? [.. Bot.Hosting.IdList.Parse(section["ThrowOnUpdateIds"], "FaultInjection:ThrowOnUpdateIds")] : [];
        token = configuration["Telegram:BotToken"];
        if (crashOn.Count > 0)
        {
            LogEnabled(logger, string.Join(", ", crashOn));
        }

        if (throwOn.Count > 0)
        {
            LogThrowing(logger, string.Join(", ", throwOn));
        }
    }

    public void BeforeHandling(long updateId)
    {
        if (crashOn.Count > 0 && crashOn.Contains(updateId))
        {
            Environment.FailFast($"fault injection: update {updateId} crashes the process");
        }

        if (throwOn.Count > 0 && throwOn.Contains(updateId))
        {
            throw new HttpRequestException($"fault injection: update {updateId}: POST https://api.telegram.org/bot{token}/sendMessage failed");
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fault injection is on: the process will crash on updates {UpdateIds}")]
    private static partial void LogEnabled(ILogger logger, string updateIds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fault injection is on: the handlers of updates {UpdateIds} will throw")]
    private static partial void LogThrowing(ILogger logger, string updateIds);
}
