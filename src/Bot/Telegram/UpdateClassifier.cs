using System.Text.Json;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Bot.Telegram;

/// <summary>What the inbox needs to know of an update besides its JSON: its kind and its ordering key.</summary>
public static class UpdateClassifier
{
    private static readonly Dictionary<UpdateType, string> KindNames =
        Enum.GetValues<UpdateType>().ToDictionary(t => t, t => ToSnakeCase(t.ToString()));

    public static bool IsKnownKind(string kind) => KindNames.ContainsValue(kind) && kind != "unknown";

    /// <summary>The library's enum for one of Telegram's update kind names (see <see cref="IsKnownKind"/>).</summary>
    public static UpdateType ToUpdateType(string kind) => KindNames.First(p => p.Value == kind).Key;

    /// <summary>Telegram's own name for the update's field ("message", "chat_join_request", ...).</summary>
    public static string Kind(Update update, ReadOnlySpan<byte> json) =>
        update.Type == UpdateType.Unknown ? UnknownKind(json) : KindNames[update.Type];

    /// <summary>
    /// The conversation whose updates must be handled in order. For a join request that is the requester's
    /// private chat, where the gate's check and its answer happen; for callbacks the chat of the message
    /// that carried the button. Updates without a conversation (polls, inline results) return null and
    /// are not ordered against anything.
    /// Every hop is null-checked: the library's non-nullable properties are null when a sender omits them.
    /// </summary>
    public static long? ChatKey(Update update) => update.Type switch
    {
        UpdateType.Message => update.Message?.Chat?.Id,
        UpdateType.EditedMessage => update.EditedMessage?.Chat?.Id,
        UpdateType.ChannelPost => update.ChannelPost?.Chat?.Id,
        UpdateType.EditedChannelPost => update.EditedChannelPost?.Chat?.Id,
        UpdateType.BusinessMessage => update.BusinessMessage?.Chat?.Id,
        UpdateType.EditedBusinessMessage => update.EditedBusinessMessage?.Chat?.Id,
        UpdateType.DeletedBusinessMessages => update.DeletedBusinessMessages?.Chat?.Id,
        UpdateType.BusinessConnection => update.BusinessConnection?.UserChatId,
        UpdateType.CallbackQuery => update.CallbackQuery?.Message?.Chat?.Id ?? update.CallbackQuery?.From?.Id,
        UpdateType.InlineQuery => update.InlineQuery?.From?.Id,
        UpdateType.ChosenInlineResult => update.ChosenInlineResult?.From?.Id,
        UpdateType.ShippingQuery => update.ShippingQuery?.From?.Id,
        UpdateType.PreCheckoutQuery => update.PreCheckoutQuery?.From?.Id,
        UpdateType.PurchasedPaidMedia => update.PurchasedPaidMedia?.From?.Id,
        UpdateType.PollAnswer => update.PollAnswer?.User?.Id ?? update.PollAnswer?.VoterChat?.Id,
        UpdateType.MyChatMember => update.MyChatMember?.Chat?.Id,
        UpdateType.ChatMember => update.ChatMember?.Chat?.Id,
        UpdateType.ChatJoinRequest => update.ChatJoinRequest?.UserChatId,
        UpdateType.MessageReaction => update.MessageReaction?.Chat?.Id,
        UpdateType.MessageReactionCount => update.MessageReactionCount?.Chat?.Id,
        UpdateType.ChatBoost => update.ChatBoost?.Chat?.Id,
        UpdateType.RemovedChatBoost => update.RemovedChatBoost?.Chat?.Id,
        _ => null,
    };

    /// <summary>A kind newer than the library: the first top-level field besides update_id, if it looks like one.</summary>
    private static string UnknownKind(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return "unknown";
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("update_id"u8) && reader.ValueSpan.Length is > 0 and <= 48)
            {
                var name = reader.GetString()!;
                return name.All(c => c is (>= 'a' and <= 'z') or '_') ? name : "unknown";
            }

            reader.Skip();
        }

        return "unknown";
    }

    internal static string ToSnakeCase(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
