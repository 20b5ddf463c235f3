using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Processing;

public sealed class ProcessingOptions
{
    public const string Section = "Processing";

    /// <summary>
    /// False makes an ingest-only replica: it stores updates and serves health but claims no work (for scaling
    /// ingest apart from handling, and for measuring ingest alone).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Updates handled at once by this replica (different chats only: a chat's updates go one by one).</summary>
    [Range(1, 256, ErrorMessage = "Processing:Concurrency must be between 1 and 256")]
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// At most this many claimed updates (of different chats) are handled in one transaction, one commit for all:
    /// fewer round trips and WAL flushes per update under load. 1 handles each update in a transaction of its own.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Processing:GroupSize must be between 1 and 64")]
    public int GroupSize { get; set; } = 8;

    /// <summary>
    /// Under load (something of this replica's is still being handled), a claim waits this long first, so that it
    /// takes, groups and commits the updates that arrived meanwhile together: fewer statements, commits and head
    /// changes per update, for this much more latency. An idle replica claims at once. 0 turns it off.
    /// </summary>
    [Range(0, 100, ErrorMessage = "Processing:ClaimLingerMilliseconds must be between 0 and 100")]
    public int ClaimLingerMilliseconds { get; set; } = 10;

    /// <summary>How long a claim holds; a replica that dies mid-update is replaced after this.</summary>
    [Range(2, 3600, ErrorMessage = "Processing:LeaseSeconds must be between 2 and 3600")]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>
    /// How long a claimed update (or group) may take, counted from its claim: the lease less a fifth of it (at least
    /// one second), so that a handler past its time is cancelled and failed before its lease can run out and
    /// another replica start the same update.
    /// </summary>
    public TimeSpan HandlerBudget => TimeSpan.FromSeconds(LeaseSeconds - Math.Max(1, LeaseSeconds / 5.0));

    /// <summary>Failed attempts before an update is dead-lettered.</summary>
    [Range(1, 100, ErrorMessage = "Processing:MaxAttempts must be between 1 and 100")]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The fallback when a notification is missed (for example while the listener reconnects).</summary>
    [Range(0.05, 60, ErrorMessage = "Processing:PollIntervalSeconds must be between 0.05 and 60")]
    public double PollIntervalSeconds { get; set; } = 1;

    /// <summary>Handled updates are kept at least this long: Telegram may redeliver within 24 hours.</summary>
    [Range(24, 24 * 365, ErrorMessage = "Processing:RetentionHours must be at least 24 (Telegram's redelivery window)")]
    public int RetentionHours { get; set; } = 48;

    /// <summary>
    /// Dead-lettered updates are kept this long after they died, for <c>Bot deadletters list|requeue|drop</c>; a
    /// requeued update is pending again and is not purged.
    /// </summary>
    [Range(1, 365, ErrorMessage = "Processing:DeadLetterRetentionDays must be between 1 and 365")]
    public int DeadLetterRetentionDays { get; set; } = 14;
}

[OptionsValidator]
public sealed partial class ProcessingOptionsValidator : IValidateOptions<ProcessingOptions>;
