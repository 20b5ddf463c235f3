using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Bot.Features.FloodControl;

/// <summary>Flood control's settings (section "Bot", as Bot__FloodMaxUpdates and Bot__FloodWindowSeconds).</summary>
public sealed class FloodControlOptions
{
    public const string Section = "Bot";

    /// <summary>Updates one user may send per window before flood control answers once and then ignores them.</summary>
    [Range(1, 10_000, ErrorMessage = "Bot:FloodMaxUpdates must be between 1 and 10000")]
    public int FloodMaxUpdates { get; set; } = 20;

    [Range(1, 24 * 3600, ErrorMessage = "Bot:FloodWindowSeconds must be between 1 and 86400")]
    public int FloodWindowSeconds { get; set; } = 60;
}

[OptionsValidator]
public sealed partial class FloodControlOptionsValidator : IValidateOptions<FloodControlOptions>;
