using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Features.Broadcasts;

public sealed class BroadcastOptions
{
    public const string Section = "Broadcasts";

    /// <summary>Recipients put into the outbox at a time; the next chunk goes in when fewer than this are left to send.</summary>
    [Range(10, 10_000, ErrorMessage = "Broadcasts:ChunkSize must be between 10 and 10000")]
    public int ChunkSize { get; set; } = 500;

    /// <summary>How often the status message is edited (Telegram allows about one edit per second per chat).</summary>
    [Range(1, 600, ErrorMessage = "Broadcasts:StatusIntervalSeconds must be between 1 and 600")]
    public double StatusIntervalSeconds { get; set; } = 3;

    /// <summary>
    /// A scheduled time older than this when the leader gets to it counts as missed (the bot was down): sent at once or
    /// skipped, as the broadcast says.
    /// </summary>
    [Range(5, 86_400, ErrorMessage = "Broadcasts:MissedAfterSeconds must be between 5 and 86400")]
    public int MissedAfterSeconds { get; set; } = 300;

    /// <summary>Whether admins may make a broadcast paid (allow_paid_broadcast: Telegram charges per message). Off unless set.</summary>
    public bool AllowPaid { get; set; }

    /// <summary>The largest budget (recipients) one paid broadcast may have.</summary>
    [Range(1, 10_000_000, ErrorMessage = "Broadcasts:MaxPaidBudget must be between 1 and 10000000")]
    public int MaxPaidBudget { get; set; } = 100_000;

    /// <summary>How long delivery records are kept after a broadcast ends (edit and withdraw need them; withdraw only within 48 h).</summary>
    [Range(1, 3650, ErrorMessage = "Broadcasts:DeliveryRetentionDays must be between 1 and 3650")]
    public int DeliveryRetentionDays { get; set; } = 30;
}

[OptionsValidator]
public sealed partial class BroadcastOptionsValidator : IValidateOptions<BroadcastOptions>;
