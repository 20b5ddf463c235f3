using System.ComponentModel.DataAnnotations;
using Bot.Hosting;
using Microsoft.Extensions.Options;

namespace Bot.Features.JoinGate;

/// <summary>The join gate's settings (section "Bot", as Bot__MainChatId etc.): the main group, the gated chats, the check's time.</summary>
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
