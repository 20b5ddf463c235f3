using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Outbox;

/// <summary>How long settled outbox rows are kept (the leader's purge deletes them after this).</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    /// <summary>
    /// Sent and dead messages are kept at least this long after they were settled, a day at least, so that a day's
    /// replies can still be traced from their updates. A broadcast's messages and its status message stay while it
    /// runs and for this long after it ended (its counts are kept in the broadcasts table for good).
    /// </summary>
    [Range(24, 24 * 365, ErrorMessage = "Outbox:RetentionHours must be between 24 and 8760")]
    public int RetentionHours { get; set; } = 48;
}

[OptionsValidator]
public sealed partial class OutboxOptionsValidator : IValidateOptions<OutboxOptions>;
