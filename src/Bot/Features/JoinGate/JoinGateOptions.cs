using System.ComponentModel.DataAnnotations;
using Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Features.JoinGate;

/// <summary>
/// The join gate's settings (section "Bot", as Bot__MainChatId etc.): the main group, the gated chats, and the
/// defaults a chat starts with (check kind, attempts, time); each chat's admins change their chat's with /settings
/// (<see cref="GateSettings"/>).
/// </summary>
public sealed class JoinGateOptions
{
    public const string Section = "Bot";

    /// <summary>Members of this chat are let into gated chats at once (Bot__MainChatId).</summary>
    public string? MainChatId { get; set; }

    /// <summary>Chats whose join requests the bot decides, comma-separated (Bot__GatedChatIds).</summary>
    public string? GatedChatIds { get; set; }

    /// <summary>How long a requester has to answer the join check before the request is declined (default 10 minutes).</summary>
    [Range(10, 24 * 3600, ErrorMessage = "Bot:JoinCheckSeconds must be between 10 and 86400")]
    public int JoinCheckSeconds { get; set; } = 600;

    /// <summary>Decided join requests (approved, declined) are kept this long for audit; open ones are never purged.</summary>
    [Range(1, 3650, ErrorMessage = "Bot:JoinDecisionRetentionDays must be between 1 and 3650")]
    public int JoinDecisionRetentionDays { get; set; } = 180;

    /// <summary>The check a chat starts with: arithmetic, emoji or questions (Bot__JoinCheckKind); each chat's admins may change it.</summary>
    [AllowedValues(GateCheckKind.Arithmetic, GateCheckKind.Emoji, GateCheckKind.Questions,
        ErrorMessage = "Bot:JoinCheckKind must be arithmetic, emoji or questions")]
    public string JoinCheckKind { get; set; } = GateCheckKind.Arithmetic;

    /// <summary>Answers a user may give before the request is declined (default 3).</summary>
    [Range(1, 10, ErrorMessage = "Bot:JoinAttempts must be between 1 and 10")]
    public int JoinAttempts { get; set; } = 3;

    /// <summary>After a wrong answer, how long the next check waits before it accepts an answer (default 5 s).</summary>
    [Range(0, 300, ErrorMessage = "Bot:JoinRetryCooldownSeconds must be between 0 and 300")]
    public int JoinRetryCooldownSeconds { get; set; } = 5;

    /// <summary>After the last wrong answer, requests and joins of that user are declined without a check this long (default 60 min; 0: never).</summary>
    [Range(0, 30 * 24 * 60, ErrorMessage = "Bot:JoinRepeatDeclineMinutes must be between 0 and 43200")]
    public int JoinRepeatDeclineMinutes { get; set; } = 60;

    /// <summary>Joins to one chat in a minute past which it enters raid mode: new joins are held without a check (default 20; 0: never).</summary>
    [Range(0, 100_000, ErrorMessage = "Bot:RaidJoinsPerMinute must be between 0 and 100000")]
    public int RaidJoinsPerMinute { get; set; } = 20;

    /// <summary>How long raid mode lasts after the last join past the limit (default 10 min).</summary>
    [Range(1, 24 * 60, ErrorMessage = "Bot:RaidMinutes must be between 1 and 1440")]
    public int RaidMinutes { get; set; } = 10;

    /// <summary>A log chat for every gated chat that has none of its own (Bot__GateLogChatId; empty: none).</summary>
    public string? GateLogChatId { get; set; }

    public long? LogChat => string.IsNullOrWhiteSpace(GateLogChatId) ? null : IdList.Parse(GateLogChatId, "Bot:GateLogChatId").Single();

    public long? MainChat => string.IsNullOrWhiteSpace(MainChatId) ? null : IdList.Parse(MainChatId, "Bot:MainChatId").Single();

    public IReadOnlyList<long> GatedChats => IdList.Parse(GatedChatIds, "Bot:GatedChatIds");
}

[OptionsValidator]
public sealed partial class JoinGateOptionsAttributesValidator : IValidateOptions<JoinGateOptions>;

/// <summary>The id lists parse, and a gate has a main chat to check membership in.</summary>
public sealed class JoinGateOptionsValidator : IValidateOptions<JoinGateOptions>
{
    public ValidateOptionsResult Validate(string? name, JoinGateOptions options)
    {
        try
        {
            if (IdList.Parse(options.MainChatId, "Bot:MainChatId").Count > 1)
            {
                return ValidateOptionsResult.Fail("Bot:MainChatId must be one chat id");
            }

            if (IdList.Parse(options.GateLogChatId, "Bot:GateLogChatId").Count > 1)
            {
                return ValidateOptionsResult.Fail("Bot:GateLogChatId must be one chat id");
            }

            if (options.GatedChats.Count > 0 && options.MainChat is null)
            {
                return ValidateOptionsResult.Fail("Bot:GatedChatIds is set but Bot:MainChatId is not: the join gate needs the main chat to check membership");
            }
        }
        catch (FormatException exception)
        {
            return ValidateOptionsResult.Fail(exception.Message);
        }

        return ValidateOptionsResult.Success;
    }
}
