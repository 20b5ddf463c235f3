using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Outbox;

/// <summary>Telegram's limits are per bot token, so they hold for the one sender (on the leader).</summary>
public sealed class SenderOptions
{
    public const string Section = "Sender";

    [Range(1, 1000, ErrorMessage = "Sender:GlobalPerSecond must be between 1 and 1000")]
    public int GlobalPerSecond { get; set; } = 30;

    /// <summary>
    /// Calls sent with allow_paid_broadcast, overall: Telegram's paid limit, up to 1000 a second (each message beyond
    /// the free limit costs Stars). They count here instead of against GlobalPerSecond; per-chat limits still hold.
    /// </summary>
    [Range(1, 1000, ErrorMessage = "Sender:PaidPerSecond must be between 1 and 1000")]
    public int PaidPerSecond { get; set; } = 1000;

    [Range(1, 100, ErrorMessage = "Sender:PrivateChatPerSecond must be between 1 and 100")]
    public int PrivateChatPerSecond { get; set; } = 1;

    [Range(1, 1000, ErrorMessage = "Sender:GroupPerMinute must be between 1 and 1000")]
    public int GroupPerMinute { get; set; } = 20;

    /// <summary>Added to every window on top of the completion-based accounting (clock granularity).</summary>
    [Range(0, 1000, ErrorMessage = "Sender:SafetyMarginMilliseconds must be between 0 and 1000")]
    public int SafetyMarginMilliseconds { get; set; } = 5;

    [Range(1, 1000, ErrorMessage = "Sender:MaxInFlight must be between 1 and 1000")]
    public int MaxInFlight { get; set; } = 32;

    /// <summary>Transient failures (5xx, timeouts) before a message is dead-lettered.</summary>
    [Range(1, 100, ErrorMessage = "Sender:MaxAttempts must be between 1 and 100")]
    public int MaxAttempts { get; set; } = 10;
}

[OptionsValidator]
public sealed partial class SenderOptionsValidator : IValidateOptions<SenderOptions>;
