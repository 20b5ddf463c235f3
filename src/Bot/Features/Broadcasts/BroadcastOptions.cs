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
}

[OptionsValidator]
public sealed partial class BroadcastOptionsValidator : IValidateOptions<BroadcastOptions>;
