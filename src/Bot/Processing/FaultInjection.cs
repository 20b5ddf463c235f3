namespace Bot.Processing;

/// <summary>
/// For drills only: the process ends abruptly (no shutdown, no release of its claims) when it is about to handle one
/// of the update ids in <c>FaultInjection:CrashOnUpdateIds</c>, as a handler that kills the process would. It is
/// active only when <c>FaultInjection:Enabled</c> is true, and says so loudly at start. Never set in a deployment.
/// </summary>
public sealed partial class FaultInjection
{
    public const string Section = "FaultInjection";

    private readonly HashSet<long> crashOn;

    public FaultInjection(IConfiguration configuration, ILogger<FaultInjection> logger)
    {
        var section = configuration.GetSection(Section);
        crashOn = section.GetValue<bool>("Enabled")
            ? [.. Bot.Hosting.IdList.Parse(section["CrashOnUpdateIds"], "FaultInjection:CrashOnUpdateIds")]
            : [];
        if (crashOn.Count > 0)
        {
            LogEnabled(logger, string.Join(", ", crashOn));
        }
    }

    public void BeforeHandling(long updateId)
    {
        if (crashOn.Count > 0 && crashOn.Contains(updateId))
        {
            Environment.FailFast($"fault injection: update {updateId} crashes the process");
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fault injection is on: the process will crash on updates {UpdateIds}")]
    private static partial void LogEnabled(ILogger logger, string updateIds);
}
